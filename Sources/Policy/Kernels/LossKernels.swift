// Losses on the heads: softmax cross-entropy over actions and mean-squared error on the value.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

enum LossKernels {
    /// Sum over the batch of −log P(S), the log-likelihood of the target action *set* S (bit i of
    /// `targets[b]` set when action i is a correct choice): P(S) = Σ_{i∈S} softmax(logits)_i.
    /// dlogits = (softmax − softmax·[i∈S] / P(S)) · scale. With one bit set this is the usual
    /// cross-entropy; with several (equally good actions, as when two shortest paths lead to the
    /// next push) the network is free to put its mass on any of them instead of splitting it.
    /// Returns the loss sum and how many argmaxes fall in the target set.
    static func softmaxCrossEntropy(
        _ dlogits: FloatPointer, _ logits: ConstFloatPointer, _ targets: UnsafePointer<UInt8>,
        batch: Int, classes a: Int, scale: Float
    ) -> (loss: Double, correct: Int) {
        var total = 0.0
        var correct = 0
        for b in 0..<batch {
            let row = logits + b * a
            let drow = dlogits + b * a
            let set = targets[b]
            var m = -Float.infinity
            var best = 0
            for i in 0..<a where row[i] > m {
                m = row[i]
                best = i
            }
            if set & (1 << best) != 0 { correct += 1 }
            var sum: Float = 0
            var inSet: Float = 0
            for i in 0..<a {
                let e = expf(row[i] - m)
                drow[i] = e
                sum += e
                if set & (1 << i) != 0 { inSet += e }
            }
            total += Double(logf(sum) - logf(inSet))
            let inv = 1 / sum
            let invSet = 1 / inSet
            for i in 0..<a {
                let target = set & (1 << i) != 0 ? drow[i] * invSet : 0
                drow[i] = (drow[i] * inv - target) * scale
            }
        }
        return (total, correct)
    }

    /// Sum over the batch of (value − target)²; dvalues = 2 (value − target) · scale.
    static func meanSquaredError(
        _ dvalues: FloatPointer, _ values: ConstFloatPointer, _ targets: ConstFloatPointer,
        batch: Int, scale: Float
    ) -> Double {
        var total = 0.0
        for b in 0..<batch {
            let diff = values[b] - targets[b]
            total += Double(diff * diff)
            dvalues[b] = 2 * diff * scale
        }
        return total
    }
}
