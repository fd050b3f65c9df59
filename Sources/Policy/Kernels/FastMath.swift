// exp and tanh that inline and vectorise (libm's tanhf/expf are calls, a quarter of a
// transformer step); accurate to a few float32 ulps, which the gradient checks cover.

enum FastMath {
    /// e^x for x in float range, by 2^n · p(r) with r = x − n·ln2 in [−ln2/2, ln2/2] and a
    /// degree-6 Taylor polynomial (relative error below 2e-7).
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        let clamped = min(max(x, -87.0), 88.0)
        // Round to nearest by the 1.5·2²³ trick: plain adds vectorise on any x86-64, where
        // `rounded()` would call libm per element without SSE4.1.
        let shifter: Float = 12_582_912
        let n = (clamped * 1.442_695_04 + shifter) - shifter
        let r = clamped - n * 0.693_145_75 - n * 1.428_606_8e-6
        var p: Float = 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let scale = Float(bitPattern: UInt32(bitPattern: Int32(n) + 127) << 23)
        return p * scale
    }

    /// tanh(x) = (e^{2x} − 1)/(e^{2x} + 1), clamped where tanh is 1 in float32.
    @inline(__always)
    static func tanh(_ x: Float) -> Float {
        let e = exp(2 * min(max(x, -9), 9))
        return (e - 1) / (e + 1)
    }
}
