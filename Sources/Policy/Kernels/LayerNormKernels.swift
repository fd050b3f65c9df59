// Layer normalisation over the last dimension, forward/backward (llm.c's formulation).

enum LayerNormKernels {
    static let epsilon: Float = 1e-5

    /// out (n, c) = (inp − mean) · rstd · weight + bias; caches mean (n) and rstd (n).
    static func forward(
        _ out: FloatPointer, _ mean: FloatPointer, _ rstd: FloatPointer, _ inp: ConstFloatPointer,
        _ weight: ConstFloatPointer, _ bias: ConstFloatPointer, n: Int, c: Int
    ) {
        for r in 0..<n {
            let x = inp + r * c
            let y = out + r * c
            let m = VectorOps.sum(x, count: c) / Float(c)
            let v = VectorOps.squaredDeviation(x, from: m, count: c) / Float(c)
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
            let x = inp + r * c
            let dy = dout + r * c
            let dx = dinp + r * c
            let m = mean[r]
            let s = rstd[r]
            // Σ w·dy and Σ w·dy·(x − m)·s, via Σ w·dy·x = dot(w·dy, x).
            var wdy = SIMD8<Float>(repeating: 0)
            var wdyx = SIMD8<Float>(repeating: 0)
            var i = 0
            while i + 8 <= c {
                let w8 = UnsafeRawPointer(weight + i).loadUnaligned(as: SIMD8<Float>.self)
                let dy8 = UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD8<Float>.self)
                let x8 = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                wdy += w8 * dy8
                wdyx += w8 * dy8 * x8
                i += 8
            }
            var sumWdy = wdy.sum()
            var sumWdyx = wdyx.sum()
            while i < c {
                sumWdy += weight[i] * dy[i]
                sumWdyx += weight[i] * dy[i] * x[i]
                i += 1
            }
            let dnormMean = sumWdy / Float(c)
            let dnormNormMean = (sumWdyx - m * sumWdy) * s / Float(c)
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
