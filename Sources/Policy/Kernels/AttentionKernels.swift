// Multi-head self-attention core (softmax(QKᵀ/√d)·V per head) forward/backward; the q/k/v/out
// projections are ordinary linear layers around it.
import LinearAlgebra

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

enum AttentionKernels {
    /// For samples in `samples`: out (B, T, D) head h columns = softmax(q_h·k_hᵀ·scale)·v_h;
    /// caches probs (B, H, T, T). q, k, v are (B, T, D) with head h in columns h·hd..<(h+1)·hd.
    /// With `causal`, token r attends to tokens 0...r only (the others get probability 0).
    static func forward(
        _ out: FloatPointer, _ probs: FloatPointer, _ q: ConstFloatPointer,
        _ k: ConstFloatPointer, _ v: ConstFloatPointer, samples: Range<Int>, tokens t: Int,
        dim d: Int, heads h: Int, causal: Bool = false
    ) {
        let hd = d / h
        let scale = 1 / Float(hd).squareRoot()
        for b in samples {
            for head in 0..<h {
                let base = b * t * d + head * hd
                let p = probs + (b * h + head) * t * t
                BLAS.sgemm(
                    transA: false, transB: true, m: t, n: t, k: hd, alpha: scale, a: q + base,
                    lda: d, b: k + base, ldb: d, c: p, ldc: t)
                for r in 0..<t {
                    let visible = causal ? r + 1 : t
                    FastExp.softmaxInPlace(p + r * t, count: visible)
                    if visible < t {
                        (p + r * t + visible).update(repeating: 0, count: t - visible)
                    }
                }
                BLAS.sgemm(
                    transA: false, transB: false, m: t, n: hd, k: t, a: p, lda: t, b: v + base,
                    ldb: d, c: out + base, ldc: d)
            }
        }
    }

    /// dq, dk, dv (B, T, D) = gradients for samples in `samples` (overwritten); `scratch` holds
    /// T × T floats.
    static func backward(
        _ dq: FloatPointer, _ dk: FloatPointer, _ dv: FloatPointer, _ dout: ConstFloatPointer,
        _ probs: ConstFloatPointer, _ q: ConstFloatPointer, _ k: ConstFloatPointer,
        _ v: ConstFloatPointer, scratch dp: FloatPointer, samples: Range<Int>, tokens t: Int,
        dim d: Int, heads h: Int
    ) {
        let hd = d / h
        let scale = 1 / Float(hd).squareRoot()
        for b in samples {
            for head in 0..<h {
                let base = b * t * d + head * hd
                let p = probs + (b * h + head) * t * t
                // dP = dO · Vᵀ; dV = Pᵀ · dO.
                BLAS.sgemm(
                    transA: false, transB: true, m: t, n: t, k: hd, a: dout + base, lda: d,
                    b: v + base, ldb: d, c: dp, ldc: t)
                BLAS.sgemm(
                    transA: true, transB: false, m: t, n: hd, k: t, a: p, lda: t, b: dout + base,
                    ldb: d, c: dv + base, ldc: d)
                // dS = P ∘ (dP − rowsum(dP ∘ P)), in place in dp.
                for r in 0..<t {
                    let pr = p + r * t
                    let dr = dp + r * t
                    let dot = VectorOps.dot(pr, dr, count: t)
                    for j in 0..<t { dr[j] = pr[j] * (dr[j] - dot) }
                }
                // dQ = scale · dS · K; dK = scale · dSᵀ · Q.
                BLAS.sgemm(
                    transA: false, transB: false, m: t, n: hd, k: t, alpha: scale, a: dp, lda: t,
                    b: k + base, ldb: d, c: dq + base, ldc: d)
                BLAS.sgemm(
                    transA: true, transB: false, m: t, n: hd, k: t, alpha: scale, a: dp, lda: t,
                    b: q + base, ldb: d, c: dk + base, ldc: d)
            }
        }
    }
}
