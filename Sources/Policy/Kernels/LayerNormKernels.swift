// Layer normalisation over the last dimension, forward/backward (llm.c's formulation).

enum LayerNormKernels {
    static let epsilon: Float = 1e-5

    /// out (n, c) = (inp − mean) · rstd · weight + bias; caches mean (n) and rstd (n).
    static func forward(
        _ out: FloatPointer, _ mean: FloatPointer, _ rstd: FloatPointer, _ inp: ConstFloatPointer,
        _ weight: ConstFloatPointer, _ bias: ConstFloatPointer, n: Int, c: Int
    ) {
        for r in 0..<n {
            let x = inp + r * c, y = out + r * c
            var m: Float = 0
            for i in 0..<c { m += x[i] }
            m /= Float(c)
            var v: Float = 0
            for i in 0..<c {
                let d = x[i] - m
                v += d * d
            }
            v /= Float(c)
            let s = 1 / (v + epsilon).squareRoot()
            for i in 0..<c { y[i] = (x[i] - m) * s * weight[i] + bias[i] }
            mean[r] = m
            rstd[r] = s
        }
    }

    /// dinp += ∂L/∂inp; dweight, dbias += their gradients.
    static func backward(
        _ dinp: FloatPointer, _ dweight: FloatPointer, _ dbias: FloatPointer,
        _ dout: ConstFloatPointer, _ inp: ConstFloatPointer, _ weight: ConstFloatPointer,
        _ mean: ConstFloatPointer, _ rstd: ConstFloatPointer, n: Int, c: Int
    ) {
        for r in 0..<n {
            let x = inp + r * c, dy = dout + r * c, dx = dinp + r * c
            let m = mean[r], s = rstd[r]
            var dnormMean: Float = 0, dnormNormMean: Float = 0
            for i in 0..<c {
                let norm = (x[i] - m) * s
                let dnorm = weight[i] * dy[i]
                dnormMean += dnorm
                dnormNormMean += dnorm * norm
            }
            dnormMean /= Float(c)
            dnormNormMean /= Float(c)
            for i in 0..<c {
                let norm = (x[i] - m) * s
                let dnorm = weight[i] * dy[i]
                dbias[i] += dy[i]
                dweight[i] += norm * dy[i]
                dx[i] += (dnorm - dnormMean - norm * dnormNormMean) * s
            }
        }
    }
}
