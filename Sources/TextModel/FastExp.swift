// A vectorised exp for the softmax and SiLU loops: Cephes' expf range reduction and polynomial
// on eight lanes at a time (relative error about 2e-7), instead of one libm call per element.

enum FastExp {
    /// e^x for each lane; inputs are clamped to [−87.3, 88] (results 1e-38 ... 1.6e38).
    @inline(__always)
    static func exp(_ input: SIMD8<Float>) -> SIMD8<Float> {
        let x = input.clamped(lowerBound: SIMD8(repeating: -87.3), upperBound: SIMD8(repeating: 88))
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

    /// Scalar form (the tail of a loop).
    @inline(__always)
    static func exp(_ x: Float) -> Float { exp(SIMD8(repeating: x))[0] }

    /// values[i] ← e^(values[i] − shift) for i < count; returns their sum.
    @inline(__always)
    static func expShifted(_ values: UnsafeMutablePointer<Float>, count: Int, shift: Float) -> Float
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
}
