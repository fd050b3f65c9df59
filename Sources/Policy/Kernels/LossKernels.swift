// Losses on the heads: softmax cross-entropy over actions and mean-squared error on the value.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

enum LossKernels {
    /// Sum over the batch of −log softmax(logits)[target]; dlogits = (softmax − onehot) · scale.
    /// Returns the loss sum and how many argmaxes equal the target.
    static func softmaxCrossEntropy(
        _ dlogits: FloatPointer, _ logits: ConstFloatPointer, _ targets: UnsafePointer<Int>,
        batch: Int, classes a: Int, scale: Float
    ) -> (loss: Double, correct: Int) {
        var total = 0.0
        var correct = 0
        for b in 0..<batch {
            let row = logits + b * a
            let drow = dlogits + b * a
            let target = targets[b]
            var m = -Float.infinity
            var best = 0
            for i in 0..<a where row[i] > m {
                m = row[i]
                best = i
            }
            if best == target { correct += 1 }
            var sum: Float = 0
            for i in 0..<a {
                let e = expf(row[i] - m)
                drow[i] = e
                sum += e
            }
            total += Double(logf(sum) + m - row[target])
            let inv = 1 / sum
            for i in 0..<a { drow[i] = (drow[i] * inv - (i == target ? 1 : 0)) * scale }
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
