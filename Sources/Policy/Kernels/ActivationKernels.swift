// Elementwise layers: ReLU, GELU (tanh form, as GPT-2 and PyTorch's approximate='tanh'), residual add.
import LinearAlgebra

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

enum ActivationKernels {
    /// out = max(inp, 0); out may be inp.
    @inline(__always)
    static func reluForward(_ out: FloatPointer, _ inp: ConstFloatPointer, count n: Int) {
        for i in 0..<n { out[i] = max(inp[i], 0) }
    }

    /// dinp = dout where out > 0, else 0; dinp may be dout.
    @inline(__always)
    static func reluBackward(
        _ dinp: FloatPointer, _ dout: ConstFloatPointer, _ out: ConstFloatPointer, count n: Int
    ) {
        for i in 0..<n { dinp[i] = out[i] > 0 ? dout[i] : 0 }
    }

    static let geluScale: Float = 0.797_884_56  // √(2/π)

    /// out = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    @inline(__always)
    static func geluForward(_ out: FloatPointer, _ inp: ConstFloatPointer, count n: Int) {
        for i in 0..<n {
            let x = inp[i]
            let u = geluScale * (x + 0.044715 * x * x * x)
            out[i] = 0.5 * x * (1 + FastExp.tanh(u))
        }
    }

    /// dinp (+)= dout · gelu'(inp).
    @inline(__always)
    static func geluBackward(
        _ dinp: FloatPointer, _ inp: ConstFloatPointer, _ dout: ConstFloatPointer, count n: Int,
        accumulate: Bool = false
    ) {
        for i in 0..<n {
            let x = inp[i]
            let u = geluScale * (x + 0.044715 * x * x * x)
            let t = FastExp.tanh(u)
            let sech2 = 1 - t * t
            let local = 0.5 * (1 + t) + 0.5 * x * sech2 * geluScale * (1 + 3 * 0.044715 * x * x)
            dinp[i] = (accumulate ? dinp[i] : 0) + local * dout[i]
        }
    }

    /// out = a + b (out may alias either).
    @inline(__always)
    static func add(
        _ out: FloatPointer, _ a: ConstFloatPointer, _ b: ConstFloatPointer, count n: Int
    ) {
        for i in 0..<n { out[i] = a[i] + b[i] }
    }

    /// out += a.
    @inline(__always)
    static func accumulate(_ out: FloatPointer, _ a: ConstFloatPointer, count n: Int) {
        for i in 0..<n { out[i] += a[i] }
    }
}
