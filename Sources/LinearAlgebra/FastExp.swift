// e^x without a libm call per element, one polynomial for every caller: Cephes' expf range
// reduction and polynomial (relative error about 2e-7), on eight lanes at a time for the softmax
// and SiLU loops, and as a scalar with the same arithmetic for loops the compiler vectorises
// itself (GELU's tanh). The max-shifted softmax and log-sum-exp over a row live here too.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

public enum FastExp {
    /// e^x for each lane; inputs are clamped to [−87.3, 88] (results 1e-38 ... 1.6e38).
    @inlinable @inline(__always)
    public static func exp(_ input: SIMD8<Float>) -> SIMD8<Float> {
        // Masked replacement rather than `clamped`, which stays a call per vector across modules.
        let low = SIMD8<Float>(repeating: -87.3)
        let high = SIMD8<Float>(repeating: 88)
        let x = input.replacing(with: low, where: input .< low).replacing(
            with: high, where: input .> high)
        // x = n·ln2 + r with |r| ≤ ln2/2; ln2 split in two so n·ln2 is exact enough. Adding
        // 1.5·2^23 rounds x·log2(e) to an integer held in the low mantissa bits, which gives n
        // without a float-to-int conversion (Swift's generic SIMD conversion is slow).
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let t = x * 1.442_695_040_888_963_4 + magic
        let n = t - magic
        let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
        let r2 = r * r
        var p = SIMD8<Float>(repeating: 1.987_569_150_0e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        let er = p * r2 + r + 1
        // 2^n through the exponent bits.
        let bits = (unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return er * unsafeBitCast(bits, to: SIMD8<Float>.self)
    }

    /// e^x: each lane of the vector form, computed alone (the same operations, so the same
    /// result).
    @inlinable @inline(__always)
    public static func exp(_ input: Float) -> Float {
        let x = min(max(input, -87.3), 88)
        let magic: Float = 12_582_912
        let t = x * 1.442_695_040_888_963_4 + magic
        let n = t - magic
        let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
        let r2 = r * r
        var p: Float = 1.987_569_150_0e-4
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        let er = p * r2 + r + 1
        let bits = (Int32(bitPattern: t.bitPattern) &- 0x4B40_0000 &+ 127) &<< 23
        return er * Float(bitPattern: UInt32(bitPattern: bits))
    }

    /// tanh(x) = (e^{2x} − 1)/(e^{2x} + 1), clamped where tanh is 1 in float32.
    @inlinable @inline(__always)
    public static func tanh(_ x: Float) -> Float {
        let e = exp(2 * min(max(x, -9), 9))
        return (e - 1) / (e + 1)
    }

    /// values[i] ← e^(values[i] − shift) for i < count; returns their sum.
    @inlinable @inline(__always)
    public static func expShifted(_ values: UnsafeMutablePointer<Float>, count: Int, shift: Float)
        -> Float
    {
        var sum = SIMD8<Float>(repeating: 0)
        var i = 0
        let s = SIMD8<Float>(repeating: shift)
        let raw = UnsafeMutableRawPointer(values)
        while i + 8 <= count {
            let v = exp(raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) - s)
            raw.storeBytes(of: v, toByteOffset: 4 * i, as: SIMD8<Float>.self)
            sum += v
            i += 8
        }
        var total = sum.sum()
        while i < count {
            let v = exp(values[i] - shift)
            values[i] = v
            total += v
            i += 1
        }
        return total
    }

    /// log Σ e^(x[i]) over `count` values, max-shifted with the sum in Double (as llama.cpp's
    /// log-softmax); `scratch` (count floats) receives the shifted exponentials e^(x[i] − max).
    @inlinable
    public static func logSumExp(
        _ x: UnsafePointer<Float>, count: Int, scratch: UnsafeMutablePointer<Float>
    ) -> (logSum: Double, sum: Double) {
        let shift = maximum(x, count: count)
        scratch.update(from: x, count: count)
        let sum = Double(expShifted(scratch, count: count, shift: shift))
        return (Double(shift) + log(sum), sum)
    }

    /// x ← softmax(x) over `count` elements, shifted by their maximum.
    @inlinable @inline(__always)
    public static func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let inverse = 1 / expShifted(x, count: count, shift: maximum(x, count: count))
        for i in 0..<count { x[i] *= inverse }
    }

    /// The largest of `count` values (−∞ for none), eight lanes at a time: a plain `max` loop is
    /// one serial dependency chain the compiler may not reorder.
    @inlinable @inline(__always)
    public static func maximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = SIMD8<Float>(repeating: -.infinity)
        let raw = UnsafeRawPointer(x)
        var i = 0
        while i + 8 <= count {
            let v = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            lanes = lanes.replacing(with: v, where: v .> lanes)
            i += 8
        }
        var result = lanes.max()
        while i < count {
            result = x[i] > result ? x[i] : result
            i += 1
        }
        return result
    }
}
