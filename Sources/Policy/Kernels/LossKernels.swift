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
    /// The rows are the four actions' logits. Returns the loss sum and how many argmaxes fall in the target set.
    static func softmaxCrossEntropy(
        _ dlogits: FloatPointer, _ logits: ConstFloatPointer, _ targets: UnsafePointer<UInt8>,
        batch: Int, scale: Float
    ) -> (loss: Double, correct: Int) {
        let a = PolicyGeometry.actionCount
        var total = 0.0
        var correct = 0
        for b in 0..<batch {
            let row = logits + b * a
            let drow = dlogits + b * a
            let set = targets[b]
            let distribution = ActionDistribution(SIMD4(row[0], row[1], row[2], row[3]))
            if set & (1 << distribution.argmax) != 0 { correct += 1 }
            var inSet: Float = 0
            for i in 0..<a where set & (1 << i) != 0 {
                inSet += expf(row[i] - distribution.maximum)
            }
            total += Double(logf(distribution.total) - logf(inSet))
            let inv = 1 / distribution.total
            let invSet = 1 / inSet
            for i in 0..<a {
                let e = expf(row[i] - distribution.maximum)
                let target = set & (1 << i) != 0 ? e * invSet : 0
                drow[i] = (e * inv - target) * scale
            }
        }
        return (total, correct)
    }

    /// Adds the gradient of `weight` × the cross-entropy of the softmax against soft targets (a
    /// teacher's action probabilities, rows of four summing to 1) to `dlogits`:
    /// dlogits += (softmax − target) · weight · scale. Returns the batch's sum of the
    /// cross-entropy −Σ target · log softmax.
    static func addSoftCrossEntropy(
        _ dlogits: FloatPointer, _ logits: ConstFloatPointer, _ targets: ConstFloatPointer,
        batch: Int, weight: Float, scale: Float
    ) -> Double {
        let a = PolicyGeometry.actionCount
        var total = 0.0
        for b in 0..<batch {
            let row = logits + b * a
            let drow = dlogits + b * a
            let target = targets + b * a
            let distribution = ActionDistribution(SIMD4(row[0], row[1], row[2], row[3]))
            let logTotal = logf(distribution.total)
            let inv = 1 / distribution.total
            for i in 0..<a {
                let shifted = row[i] - distribution.maximum
                total -= Double(target[i] * (shifted - logTotal))
                drow[i] += (expf(shifted) * inv - target[i]) * weight * scale
            }
        }
        return total
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
