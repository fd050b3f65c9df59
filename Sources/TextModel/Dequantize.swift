// Dequantization of ggml block formats to Float32 (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q4_K,
// Q6_K),
// following ggml-quants.c's reference `dequantize_row_*` functions.

/// IEEE half precision bits to Float (portable: no Float16 type needed).
@inline(__always)
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = UInt32(h >> 10) & 0x1F
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0 {
        // Zero or subnormal: mantissa · 2^-24.
        let magnitude = Float(mantissa) * (1.0 / 16_777_216.0)
        return sign != 0 ? -magnitude : magnitude
    }
    if exponent == 31 {
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
}

enum Dequantize {
    /// Decodes `out.count` elements of `type` from `source` (which holds exactly their blocks).
    static func run(
        type: GGMLType, from source: UnsafeRawBufferPointer,
        into out: UnsafeMutableBufferPointer<Float>
    ) {
        let blocks = out.count / type.blockSize
        precondition(blocks * type.blockBytes == source.count, "source size does not match")
        guard let src = source.baseAddress, let dst = out.baseAddress else { return }
        switch type {
        case .f32:
            for i in 0..<out.count {
                dst[i] = Float(
                    bitPattern: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
                        .littleEndian)
            }
        case .f16:
            for i in 0..<out.count { dst[i] = halfToFloat(u16(src, 2 * i)) }
        case .bf16:
            for i in 0..<out.count { dst[i] = Float(bitPattern: UInt32(u16(src, 2 * i)) << 16) }
        case .q8_0: for b in 0..<blocks { q8_0(src + b * 34, dst + b * 32) }
        case .q4_0: for b in 0..<blocks { q4_0(src + b * 18, dst + b * 32) }
        case .q4_1: for b in 0..<blocks { q4_1(src + b * 20, dst + b * 32) }
        case .q5_0: for b in 0..<blocks { q5_0(src + b * 22, dst + b * 32) }
        case .q4_K: for b in 0..<blocks { q4_K(src + b * 144, dst + b * 256) }
        case .q6_K: for b in 0..<blocks { q6_K(src + b * 210, dst + b * 256) }
        default: preconditionFailure("\(type.name) is not dequantizable (checked by the caller)")
        }
    }

    @inline(__always)
    static func u16(_ p: UnsafeRawPointer, _ offset: Int) -> UInt16 {
        UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// { f16 d; i8 qs[32] }: x = d · q.
    @inline(__always)
    static func q8_0(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = halfToFloat(u16(p, 0))
        let qs = (p + 2).assumingMemoryBound(to: Int8.self)
        for j in 0..<32 { y[j] = d * Float(qs[j]) }
    }

    /// { f16 d; u8 qs[16] }: low nibbles are elements 0..15, high nibbles 16..31; x = d · (q − 8).
    @inline(__always)
    static func q4_0(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = halfToFloat(u16(p, 0))
        let qs = (p + 2).assumingMemoryBound(to: UInt8.self)
        for j in 0..<16 {
            y[j] = d * Float(Int(qs[j] & 0x0F) - 8)
            y[j + 16] = d * Float(Int(qs[j] >> 4) - 8)
        }
    }

    /// { f16 d; u32 qh; u8 qs[16] }: nibbles as in Q4_0, bit j of qh the fifth bit of element j;
    /// x = d · (q − 16).
    @inline(__always)
    static func q5_0(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = halfToFloat(u16(p, 0))
        let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        let qs = (p + 6).assumingMemoryBound(to: UInt8.self)
        for j in 0..<16 {
            let high0 = Int((qh >> UInt32(j)) & 1) << 4
            let high1 = Int((qh >> UInt32(j + 16)) & 1) << 4
            y[j] = d * Float((Int(qs[j] & 0x0F) | high0) - 16)
            y[j + 16] = d * Float((Int(qs[j] >> 4) | high1) - 16)
        }
    }

    /// { f16 d; f16 m; u8 qs[16] }: x = d · q + m, nibbles laid out as in Q4_0.
    @inline(__always)
    static func q4_1(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = halfToFloat(u16(p, 0))
        let m = halfToFloat(u16(p, 2))
        let qs = (p + 4).assumingMemoryBound(to: UInt8.self)
        for j in 0..<16 {
            y[j] = d * Float(qs[j] & 0x0F) + m
            y[j + 16] = d * Float(qs[j] >> 4) + m
        }
    }

    /// The 6-bit scale and min of sub-block j from Q4_K's 12 packed bytes (`get_scale_min_k4`).
    @inline(__always)
    static func scaleMinK4(_ j: Int, _ q: UnsafePointer<UInt8>) -> (Float, Float) {
        if j < 4 {
            return (Float(q[j] & 63), Float(q[j + 4] & 63))
        }
        let d = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4)
        let m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4)
        return (Float(d), Float(m))
    }

    /// { f16 d; f16 dmin; u8 scales[12]; u8 qs[128] }: 8 sub-blocks of 32 with 6-bit scales/mins.
    @inline(__always)
    static func q4_K(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = halfToFloat(u16(p, 0))
        let dmin = halfToFloat(u16(p, 2))
        let scales = (p + 4).assumingMemoryBound(to: UInt8.self)
        var q = (p + 16).assumingMemoryBound(to: UInt8.self)
        var y = out
        var s = 0
        for _ in 0..<4 {
            let (sc1, m1) = scaleMinK4(s, scales)
            let (sc2, m2) = scaleMinK4(s + 1, scales)
            let d1 = d * sc1
            let min1 = dmin * m1
            let d2 = d * sc2
            let min2 = dmin * m2
            for l in 0..<32 { y[l] = d1 * Float(q[l] & 0x0F) - min1 }
            for l in 0..<32 { y[32 + l] = d2 * Float(q[l] >> 4) - min2 }
            y += 64
            q += 32
            s += 2
        }
    }

    /// { u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d }: 6-bit values (4 low + 2 high bits) − 32.
    @inline(__always)
    static func q6_K(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        var ql = p.assumingMemoryBound(to: UInt8.self)
        var qh = (p + 128).assumingMemoryBound(to: UInt8.self)
        var sc = (p + 192).assumingMemoryBound(to: Int8.self)
        let d = halfToFloat(u16(p, 208))
        var y = out
        for _ in 0..<2 {
            for l in 0..<32 {
                let s = l / 16
                let q1 = Int((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32
                let q2 = Int((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32
                let q3 = Int((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32
                let q4 = Int((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32
                y[l] = d * Float(sc[s]) * Float(q1)
                y[l + 32] = d * Float(sc[s + 2]) * Float(q2)
                y[l + 64] = d * Float(sc[s + 4]) * Float(q3)
                y[l + 96] = d * Float(sc[s + 6]) * Float(q4)
            }
            y += 128
            ql += 64
            qh += 32
            sc += 8
        }
    }
}
