// Direct 3×3 convolution over channels-last boards, without im2col: each output row is computed in
// blocks of 10 pixels × 32 (or 16) output channels held in AVX-512-sized registers (20 or 10
// accumulators), the inner loop broadcasting one input value against a row of kernel weights.
// im2col + sgemm writes a 9×-sized column buffer and hands OpenBLAS a short, thin product
// (depth 9·C, 32 columns) that it runs at well under half of the core's FMA peak.

/// Where the kernel's weight rows are: row (tap, j) holds the `n` output channels' weights for
/// input channel j at tap ky·3 + kx, contiguous, at `base + tap·tapStride + j·channelStride`.
struct ConvTapRows {
    let base: ConstFloatPointer
    let tapStride: Int
    let channelStride: Int

    /// A forward kernel already laid out (9·cin, cout), as `DirectConvKernels.transpose` writes it.
    static func forward(_ transposed: ConstFloatPointer, cin: Int, cout: Int) -> ConvTapRows {
        ConvTapRows(base: transposed, tapStride: cin * cout, channelStride: cout)
    }

    /// The kernel carrying a conv's output gradient back to its input, read straight from the
    /// stored weight (cout, 9·cin): input channel j of this conv is output channel co of the
    /// original, its taps reversed, and row (k, co) is w[co, (8 − k)·cin ..< (9 − k)·cin].
    static func inputGradient(of weight: ConstFloatPointer, cin: Int) -> ConvTapRows {
        ConvTapRows(base: weight + 8 * cin, tapStride: -cin, channelStride: 9 * cin)
    }

    @inline(__always) func row(tap: Int, channel j: Int) -> ConstFloatPointer {
        base + tap * tapStride + j * channelStride
    }
}

enum DirectConvKernels {
    /// Output pixels per register block: a row of the 10×10 board.
    static let pixelBlock = 10
    /// Vector width in floats.
    static let lanes = 16

    /// Whether `convolve` takes a conv with `cout` output channels over boards `width` wide.
    static func handles(cout: Int, width: Int) -> Bool {
        cout % lanes == 0 && width % pixelBlock == 0
    }

    /// Floats of the zero-padded copy of `batch` boards.
    static func paddedCount(cin: Int, height: Int, width: Int, batch: Int) -> Int {
        batch * (height + 2) * (width + 2) * cin
    }

    /// out (9·cin, cout) = w (cout, 9·cin) transposed: the forward kernel's rows by (tap, channel).
    static func transpose(_ out: FloatPointer, _ w: ConstFloatPointer, cin: Int, cout: Int) {
        // Rows of the output written whole: contiguous stores, strided loads (a 9·cin·cout kernel
        // sits in L1).
        let k = 9 * cin
        for i in 0..<k {
            let dst = out + i * cout
            for co in 0..<cout { dst[co] = w[co * k + i] }
        }
    }

    /// padded (b, h+2, w+2, c) = inp (b, h, w, c) with a border of zeros.
    static func pad(
        _ padded: FloatPointer, _ inp: ConstFloatPointer, batch: Int, height: Int, width: Int,
        channels c: Int
    ) {
        let pw = width + 2
        for b in 0..<batch {
            let board = padded + b * (height + 2) * pw * c
            // Only the border is zeroed: the rest is overwritten.
            board.update(repeating: 0, count: (pw + 1) * c)
            (board + ((height + 1) * pw - 1) * c).update(repeating: 0, count: (pw + 1) * c)
            for y in 0..<height {
                let src = inp + (b * height + y) * width * c
                let dst = board + ((y + 1) * pw + 1) * c
                dst.update(from: src, count: width * c)
                // The right border of this row and the left one of the next, adjacent in memory.
                (dst + width * c).update(repeating: 0, count: 2 * c)
            }
        }
    }

    /// out (b·h·w, cout) = bias + Σ taps (or, with `accumulate`, out +=) — a 3×3 convolution with
    /// zero padding 1 of the padded boards `padded` (as `pad` writes them, cin channels), with the
    /// kernel rows `rows`. `bias` nil adds none. cout must be a multiple of 16 and `width` of 10.
    static func convolve(
        _ out: FloatPointer, padded: ConstFloatPointer, rows: ConvTapRows, bias: ConstFloatPointer?,
        cin: Int, cout: Int, batch: Int, height: Int, width: Int, accumulate: Bool
    ) {
        precondition(cout % lanes == 0 && width % pixelBlock == 0, "shape the kernel cannot take")
        // A literal channel count makes the ten pixels a block broadcasts constant offsets from
        // one address; other counts take the same code with the count in a register.
        switch cin {
        case 16:
            convolveBoards(out, padded, rows, bias, cin: 16, cout, batch, height, width, accumulate)
        case 32:
            convolveBoards(out, padded, rows, bias, cin: 32, cout, batch, height, width, accumulate)
        case 48:
            convolveBoards(out, padded, rows, bias, cin: 48, cout, batch, height, width, accumulate)
        case 64:
            convolveBoards(out, padded, rows, bias, cin: 64, cout, batch, height, width, accumulate)
        default:
            convolveBoards(
                out, padded, rows, bias, cin: cin, cout, batch, height, width, accumulate)
        }
    }

    @inline(always) static func convolveBoards(
        _ out: FloatPointer, _ padded: ConstFloatPointer, _ rows: ConvTapRows,
        _ bias: ConstFloatPointer?, cin: Int, _ cout: Int, _ batch: Int, _ height: Int,
        _ width: Int, _ accumulate: Bool
    ) {
        let pw = width + 2
        for b in 0..<batch {
            for y in 0..<height {
                for x0 in stride(from: 0, to: width, by: pixelBlock) {
                    // The block's top-left input (tap ky = kx = 0) in the padded board.
                    let corner = padded + ((b * (height + 2) + y) * pw + x0) * cin
                    let target = out + ((b * height + y) * width + x0) * cout
                    var n0 = 0
                    while n0 < cout {
                        if cout - n0 >= 2 * lanes {
                            block32(
                                target + n0, stride: cout, corner: corner, rowStride: pw * cin,
                                pixelStride: cin, rows: rows, n0: n0,
                                bias: bias.map { $0 + n0 }, cin: cin, accumulate: accumulate)
                            n0 += 2 * lanes
                        } else {
                            block16(
                                target + n0, stride: cout, corner: corner, rowStride: pw * cin,
                                pixelStride: cin, rows: rows, n0: n0,
                                bias: bias.map { $0 + n0 }, cin: cin, accumulate: accumulate)
                            n0 += lanes
                        }
                    }
                }
            }
        }
    }

    /// Whether `weightGradient` takes this shape (the padded input fits in `scratch` floats).
    static func handlesWeightGradient(
        cin: Int, cout: Int, height: Int, width: Int, batch: Int, scratch: Int
    ) -> Bool {
        cin % lanes == 0 && cout % 8 == 0
            && paddedCount(cin: cin, height: height, width: width, batch: batch) <= scratch
    }

    /// dw (cout, 9·cin, the stored kernel order) += the kernel gradient of a 3×3 convolution,
    /// given its padded input `padded` (as `pad` writes it) and output gradient dout (b·h·w, cout):
    /// dw[co, tap·cin + ci] += Σ_pixels dout[p, co] · x[p + tap, ci]. Registers hold 8 output
    /// channels × 32 (or 16) input channels of one tap while one board's pixels stream past (a
    /// board's input and gradient stay in L1 across its taps), then add into dw. The sums run
    /// board by board in a fixed order, so they do not depend on how a batch is split into
    /// calls. cin must be a multiple of 16 and cout of 8.
    static func weightGradient(
        _ dw: FloatPointer, padded: ConstFloatPointer, dout: ConstFloatPointer, cin: Int,
        cout: Int, batch: Int, height: Int, width: Int
    ) {
        precondition(cin % lanes == 0 && cout % 8 == 0, "shape the kernel cannot take")
        let pw = width + 2
        for b in 0..<batch {
            let board = padded + b * (height + 2) * pw * cin
            let gradient = dout + b * height * width * cout
            for ky in 0..<3 {
                for kx in 0..<3 {
                    let tap = ky * 3 + kx
                    for co0 in stride(from: 0, to: cout, by: 8) {
                        var c0 = 0
                        while c0 < cin {
                            let target = dw + co0 * 9 * cin + tap * cin + c0
                            let first = board + (ky * pw + kx) * cin + c0
                            if cin - c0 >= 2 * lanes {
                                gradient8x32(
                                    target, rowStride: 9 * cin, first: first,
                                    dout: gradient + co0, cin: cin, cout: cout, batch: 1,
                                    height: height, width: width)
                                c0 += 2 * lanes
                            } else {
                                gradient8x16(
                                    target, rowStride: 9 * cin, first: first,
                                    dout: gradient + co0, cin: cin, cout: cout, batch: 1,
                                    height: height, width: width)
                                c0 += lanes
                            }
                        }
                    }
                }
            }
        }
    }

    /// One tap's 8 output channels × 32 input channels: 16 accumulators.
    @inline(__always) static func gradient8x32(
        _ target: FloatPointer, rowStride r: Int, first: ConstFloatPointer,
        dout: ConstFloatPointer, cin: Int, cout: Int, batch: Int, height: Int, width: Int
    ) {
        var l0 = Vector()
        var l1 = Vector()
        var l2 = Vector()
        var l3 = Vector()
        var l4 = Vector()
        var l5 = Vector()
        var l6 = Vector()
        var l7 = Vector()
        var h0 = Vector()
        var h1 = Vector()
        var h2 = Vector()
        var h3 = Vector()
        var h4 = Vector()
        var h5 = Vector()
        var h6 = Vector()
        var h7 = Vector()
        let pw = width + 2
        for b in 0..<batch {
            for y in 0..<height {
                var x = first + ((b * (height + 2) + y) * pw) * cin
                var g = dout + ((b * height + y) * width) * cout
                for _ in 0..<width {
                    let lo = load(x)
                    let hi = load(x + lanes)
                    l0.addProduct(lo, Vector(repeating: g[0]))
                    h0.addProduct(hi, Vector(repeating: g[0]))
                    l1.addProduct(lo, Vector(repeating: g[1]))
                    h1.addProduct(hi, Vector(repeating: g[1]))
                    l2.addProduct(lo, Vector(repeating: g[2]))
                    h2.addProduct(hi, Vector(repeating: g[2]))
                    l3.addProduct(lo, Vector(repeating: g[3]))
                    h3.addProduct(hi, Vector(repeating: g[3]))
                    l4.addProduct(lo, Vector(repeating: g[4]))
                    h4.addProduct(hi, Vector(repeating: g[4]))
                    l5.addProduct(lo, Vector(repeating: g[5]))
                    h5.addProduct(hi, Vector(repeating: g[5]))
                    l6.addProduct(lo, Vector(repeating: g[6]))
                    h6.addProduct(hi, Vector(repeating: g[6]))
                    l7.addProduct(lo, Vector(repeating: g[7]))
                    h7.addProduct(hi, Vector(repeating: g[7]))
                    x += cin
                    g += cout
                }
            }
        }
        addInto(target, l0, h0)
        addInto(target + r, l1, h1)
        addInto(target + 2 * r, l2, h2)
        addInto(target + 3 * r, l3, h3)
        addInto(target + 4 * r, l4, h4)
        addInto(target + 5 * r, l5, h5)
        addInto(target + 6 * r, l6, h6)
        addInto(target + 7 * r, l7, h7)
    }

    /// One tap's 8 output channels × 16 input channels: 8 accumulators.
    @inline(__always) static func gradient8x16(
        _ target: FloatPointer, rowStride r: Int, first: ConstFloatPointer,
        dout: ConstFloatPointer, cin: Int, cout: Int, batch: Int, height: Int, width: Int
    ) {
        var l0 = Vector()
        var l1 = Vector()
        var l2 = Vector()
        var l3 = Vector()
        var l4 = Vector()
        var l5 = Vector()
        var l6 = Vector()
        var l7 = Vector()
        let pw = width + 2
        for b in 0..<batch {
            for y in 0..<height {
                var x = first + ((b * (height + 2) + y) * pw) * cin
                var g = dout + ((b * height + y) * width) * cout
                for _ in 0..<width {
                    let v = load(x)
                    l0.addProduct(v, Vector(repeating: g[0]))
                    l1.addProduct(v, Vector(repeating: g[1]))
                    l2.addProduct(v, Vector(repeating: g[2]))
                    l3.addProduct(v, Vector(repeating: g[3]))
                    l4.addProduct(v, Vector(repeating: g[4]))
                    l5.addProduct(v, Vector(repeating: g[5]))
                    l6.addProduct(v, Vector(repeating: g[6]))
                    l7.addProduct(v, Vector(repeating: g[7]))
                    x += cin
                    g += cout
                }
            }
        }
        addInto(target, l0)
        addInto(target + r, l1)
        addInto(target + 2 * r, l2)
        addInto(target + 3 * r, l3)
        addInto(target + 4 * r, l4)
        addInto(target + 5 * r, l5)
        addInto(target + 6 * r, l6)
        addInto(target + 7 * r, l7)
    }

    typealias Vector = SIMD16<Float>

    @inline(__always) static func load(_ p: ConstFloatPointer) -> Vector {
        UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
    }

    @inline(__always) static func store(_ v: Vector, _ p: FloatPointer) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
    }

    /// row[0..<16] += v, and row[16..<32] += high when given.
    @inline(__always) static func addInto(_ row: FloatPointer, _ v: Vector, _ high: Vector? = nil) {
        store(load(row) + v, row)
        if let high { store(load(row + lanes) + high, row + lanes) }
    }

    /// The starting value of an accumulator: the output so far, the bias, or zero.
    @inline(__always) static func start(
        _ target: FloatPointer, bias: ConstFloatPointer?, accumulate: Bool
    ) -> Vector {
        accumulate ? load(target) : bias.map { load($0) } ?? Vector()
    }

    /// 10 pixels × 32 output channels: 20 accumulators, enough independent FMA chains to
    /// cover the FMA latency on both units.
    @inline(__always) static func block32(
        _ target: FloatPointer, stride s: Int, corner: ConstFloatPointer, rowStride: Int,
        pixelStride: Int, rows: ConvTapRows, n0: Int,
        bias: ConstFloatPointer?, cin: Int, accumulate: Bool
    ) {
        var a0 = start(target, bias: bias, accumulate: accumulate)
        var a1 = start(target + s, bias: bias, accumulate: accumulate)
        var a2 = start(target + 2 * s, bias: bias, accumulate: accumulate)
        var a3 = start(target + 3 * s, bias: bias, accumulate: accumulate)
        var a4 = start(target + 4 * s, bias: bias, accumulate: accumulate)
        var a5 = start(target + 5 * s, bias: bias, accumulate: accumulate)
        var a6 = start(target + 6 * s, bias: bias, accumulate: accumulate)
        var a7 = start(target + 7 * s, bias: bias, accumulate: accumulate)
        var a8 = start(target + 8 * s, bias: bias, accumulate: accumulate)
        var a9 = start(target + 9 * s, bias: bias, accumulate: accumulate)
        let high = bias.map { $0 + lanes }
        var b0 = start(target + lanes, bias: high, accumulate: accumulate)
        var b1 = start(target + s + lanes, bias: high, accumulate: accumulate)
        var b2 = start(target + 2 * s + lanes, bias: high, accumulate: accumulate)
        var b3 = start(target + 3 * s + lanes, bias: high, accumulate: accumulate)
        var b4 = start(target + 4 * s + lanes, bias: high, accumulate: accumulate)
        var b5 = start(target + 5 * s + lanes, bias: high, accumulate: accumulate)
        var b6 = start(target + 6 * s + lanes, bias: high, accumulate: accumulate)
        var b7 = start(target + 7 * s + lanes, bias: high, accumulate: accumulate)
        var b8 = start(target + 8 * s + lanes, bias: high, accumulate: accumulate)
        var b9 = start(target + 9 * s + lanes, bias: high, accumulate: accumulate)
        for ky in 0..<3 {
            for kx in 0..<3 {
                let x = corner + ky * rowStride + kx * pixelStride
                let tap = ky * 3 + kx
                for j in 0..<cin {
                    let xj = x + j
                    let w = rows.row(tap: tap, channel: j) + n0
                    let lo = load(w)
                    let hi = load(w + lanes)
                    let x0 = Vector(repeating: xj[0])
                    a0.addProduct(lo, x0)
                    b0.addProduct(hi, x0)
                    let x1 = Vector(repeating: xj[pixelStride])
                    a1.addProduct(lo, x1)
                    b1.addProduct(hi, x1)
                    let x2 = Vector(repeating: xj[2 * pixelStride])
                    a2.addProduct(lo, x2)
                    b2.addProduct(hi, x2)
                    let x3 = Vector(repeating: xj[3 * pixelStride])
                    a3.addProduct(lo, x3)
                    b3.addProduct(hi, x3)
                    let x4 = Vector(repeating: xj[4 * pixelStride])
                    a4.addProduct(lo, x4)
                    b4.addProduct(hi, x4)
                    let x5 = Vector(repeating: xj[5 * pixelStride])
                    a5.addProduct(lo, x5)
                    b5.addProduct(hi, x5)
                    let x6 = Vector(repeating: xj[6 * pixelStride])
                    a6.addProduct(lo, x6)
                    b6.addProduct(hi, x6)
                    let x7 = Vector(repeating: xj[7 * pixelStride])
                    a7.addProduct(lo, x7)
                    b7.addProduct(hi, x7)
                    let x8 = Vector(repeating: xj[8 * pixelStride])
                    a8.addProduct(lo, x8)
                    b8.addProduct(hi, x8)
                    let x9 = Vector(repeating: xj[9 * pixelStride])
                    a9.addProduct(lo, x9)
                    b9.addProduct(hi, x9)
                }
            }
        }
        store(a0, target)
        store(b0, target + lanes)
        store(a1, target + s)
        store(b1, target + s + lanes)
        store(a2, target + 2 * s)
        store(b2, target + 2 * s + lanes)
        store(a3, target + 3 * s)
        store(b3, target + 3 * s + lanes)
        store(a4, target + 4 * s)
        store(b4, target + 4 * s + lanes)
        store(a5, target + 5 * s)
        store(b5, target + 5 * s + lanes)
        store(a6, target + 6 * s)
        store(b6, target + 6 * s + lanes)
        store(a7, target + 7 * s)
        store(b7, target + 7 * s + lanes)
        store(a8, target + 8 * s)
        store(b8, target + 8 * s + lanes)
        store(a9, target + 9 * s)
        store(b9, target + 9 * s + lanes)
    }

    /// 10 pixels × 16 output channels (the remainder when cout is an odd multiple of 16).
    @inline(__always) static func block16(
        _ target: FloatPointer, stride s: Int, corner: ConstFloatPointer, rowStride: Int,
        pixelStride: Int, rows: ConvTapRows, n0: Int,
        bias: ConstFloatPointer?, cin: Int, accumulate: Bool
    ) {
        var a0 = start(target, bias: bias, accumulate: accumulate)
        var a1 = start(target + s, bias: bias, accumulate: accumulate)
        var a2 = start(target + 2 * s, bias: bias, accumulate: accumulate)
        var a3 = start(target + 3 * s, bias: bias, accumulate: accumulate)
        var a4 = start(target + 4 * s, bias: bias, accumulate: accumulate)
        var a5 = start(target + 5 * s, bias: bias, accumulate: accumulate)
        var a6 = start(target + 6 * s, bias: bias, accumulate: accumulate)
        var a7 = start(target + 7 * s, bias: bias, accumulate: accumulate)
        var a8 = start(target + 8 * s, bias: bias, accumulate: accumulate)
        var a9 = start(target + 9 * s, bias: bias, accumulate: accumulate)
        for ky in 0..<3 {
            for kx in 0..<3 {
                let x = corner + ky * rowStride + kx * pixelStride
                let tap = ky * 3 + kx
                for j in 0..<cin {
                    let xj = x + j
                    let w = rows.row(tap: tap, channel: j) + n0
                    let lo = load(w)
                    let x0 = Vector(repeating: xj[0])
                    a0.addProduct(lo, x0)
                    let x1 = Vector(repeating: xj[pixelStride])
                    a1.addProduct(lo, x1)
                    let x2 = Vector(repeating: xj[2 * pixelStride])
                    a2.addProduct(lo, x2)
                    let x3 = Vector(repeating: xj[3 * pixelStride])
                    a3.addProduct(lo, x3)
                    let x4 = Vector(repeating: xj[4 * pixelStride])
                    a4.addProduct(lo, x4)
                    let x5 = Vector(repeating: xj[5 * pixelStride])
                    a5.addProduct(lo, x5)
                    let x6 = Vector(repeating: xj[6 * pixelStride])
                    a6.addProduct(lo, x6)
                    let x7 = Vector(repeating: xj[7 * pixelStride])
                    a7.addProduct(lo, x7)
                    let x8 = Vector(repeating: xj[8 * pixelStride])
                    a8.addProduct(lo, x8)
                    let x9 = Vector(repeating: xj[9 * pixelStride])
                    a9.addProduct(lo, x9)
                }
            }
        }
        store(a0, target)
        store(a1, target + s)
        store(a2, target + 2 * s)
        store(a3, target + 3 * s)
        store(a4, target + 4 * s)
        store(a5, target + 5 * s)
        store(a6, target + 6 * s)
        store(a7, target + 7 * s)
        store(a8, target + 8 * s)
        store(a9, target + 9 * s)
    }
}
