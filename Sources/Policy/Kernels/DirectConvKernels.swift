// Direct 3×3 convolution over channels-last boards, without im2col: each output row is computed in
// blocks of 10 pixels × 32 (or 16) output channels held in AVX-512-sized registers (20 or 10
// accumulators), the inner loop broadcasting one input value against a row of kernel weights.
// im2col + sgemm writes a 9×-sized column buffer and hands OpenBLAS a short, thin product
// (depth 9·C, 32 columns) that it runs at well under half of the core's FMA peak. The zero padding
// is never written: a block is a whole board row, so the taps that fall off the board are the
// rows above the first and below the last (skipped) and, in the left and right tap columns, the
// first or last pixel (left out of that column's code).

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
        cout % lanes == 0 && width == pixelBlock
    }

    /// Whether `weightGradient` takes this shape.
    static func handlesWeightGradient(cin: Int, cout: Int, width: Int) -> Bool {
        cin % lanes == 0 && cout % 8 == 0 && width == pixelBlock
    }

    /// out (9·cin, cout) = w (cout, 9·cin) transposed: the forward kernel's rows by (tap, channel).
    static func transpose(_ out: FloatPointer, _ w: ConstFloatPointer, cin: Int, cout: Int) {
        transpose(out, w, rows: cout, cols: 9 * cin)
    }

    /// out (cols, rows) = m (rows, cols) transposed: a kernel's rows as the blocks read them.
    static func transpose(_ out: FloatPointer, _ m: ConstFloatPointer, rows: Int, cols: Int) {
        // Rows of the output written whole: contiguous stores, strided loads (the kernels
        // transposed here sit in L1).
        for j in 0..<cols {
            let dst = out + j * rows
            for i in 0..<rows { dst[i] = m[i * cols + j] }
        }
    }

    /// out (b·h·w, cout) = bias + Σ taps (or, with `accumulate`, out +=) — a 3×3 convolution with
    /// zero padding 1 of `inp` (b·h·w, cin), with the kernel rows `rows`. `bias` nil adds none.
    /// cout must be a multiple of 16 and `width` 10.
    static func convolve(
        _ out: FloatPointer, _ inp: ConstFloatPointer, rows: ConvTapRows, bias: ConstFloatPointer?,
        cin: Int, cout: Int, batch: Int, height: Int, width: Int, accumulate: Bool
    ) {
        precondition(handles(cout: cout, width: width), "shape the kernel cannot take")
        // A literal channel count makes the ten pixels a block broadcasts constant offsets from
        // one address; other counts take the same code with the count in a register.
        switch cin {
        case 16:
            convolveBoards(out, inp, rows, bias, cin: 16, cout, batch, height, accumulate)
        case 32:
            convolveBoards(out, inp, rows, bias, cin: 32, cout, batch, height, accumulate)
        case 48:
            convolveBoards(out, inp, rows, bias, cin: 48, cout, batch, height, accumulate)
        case 64:
            convolveBoards(out, inp, rows, bias, cin: 64, cout, batch, height, accumulate)
        default:
            convolveBoards(out, inp, rows, bias, cin: cin, cout, batch, height, accumulate)
        }
    }

    @inline(always) static func convolveBoards(
        _ out: FloatPointer, _ inp: ConstFloatPointer, _ rows: ConvTapRows,
        _ bias: ConstFloatPointer?, cin: Int, _ cout: Int, _ batch: Int, _ height: Int,
        _ accumulate: Bool
    ) {
        let rowFloats = pixelBlock * cin
        for b in 0..<batch {
            for y in 0..<height {
                // The input row level with the output row, and which rows around it exist.
                let row = inp + (b * height + y) * rowFloats
                let kyRange = (y == 0 ? 1 : 0)..<(y == height - 1 ? 2 : 3)
                let target = out + (b * height + y) * pixelBlock * cout
                var n0 = 0
                while n0 < cout {
                    if cout - n0 >= 2 * lanes {
                        block32(
                            target + n0, stride: cout, row: row, rowFloats: rowFloats,
                            kyRange: kyRange, rows: rows, n0: n0, bias: bias.map { $0 + n0 },
                            cin: cin, accumulate: accumulate)
                        n0 += 2 * lanes
                    } else {
                        block16(
                            target + n0, stride: cout, row: row, rowFloats: rowFloats,
                            kyRange: kyRange, rows: rows, n0: n0, bias: bias.map { $0 + n0 },
                            cin: cin, accumulate: accumulate)
                        n0 += lanes
                    }
                }
            }
        }
    }

    /// dw (cout, 9·cin, the stored kernel order) += the kernel gradient of a 3×3 convolution
    /// with zero padding 1, given its input `inp` (b·h·w, cin) and output gradient dout
    /// (b·h·w, cout): dw[co, tap·cin + ci] += Σ_pixels dout[p, co] · x[p + tap, ci], over the
    /// pixels whose tap neighbour is on the board. Registers hold 8 output channels × 32 (or 16)
    /// input channels of one tap while one board's pixels stream past (a board's input and
    /// gradient stay in L1 across its taps), then add into dw. The sums run board by board in a
    /// fixed order, so they do not depend on how a batch is split into calls. cin must be a
    /// multiple of 16, cout of 8, and `width` 10.
    static func weightGradient(
        _ dw: FloatPointer, _ inp: ConstFloatPointer, dout: ConstFloatPointer, cin: Int,
        cout: Int, batch: Int, height: Int, width: Int
    ) {
        precondition(
            handlesWeightGradient(cin: cin, cout: cout, width: width),
            "shape the kernel cannot take")
        for b in 0..<batch {
            let board = inp + b * height * width * cin
            let gradient = dout + b * height * width * cout
            for ky in 0..<3 {
                for kx in 0..<3 {
                    let tap = ky * 3 + kx
                    // Output pixels (y, x) whose neighbour (y + ky − 1, x + kx − 1) is on the board.
                    let ys = max(0, 1 - ky)..<min(height, height + 1 - ky)
                    let xs = max(0, 1 - kx)..<min(width, width + 1 - kx)
                    let span = PixelSpan(
                        rows: ys, columns: xs, inputOffset: ((ky - 1) * width + kx - 1) * cin,
                        width: width)
                    for co0 in stride(from: 0, to: cout, by: 8) {
                        var c0 = 0
                        while c0 < cin {
                            let target = dw + co0 * 9 * cin + tap * cin + c0
                            if cin - c0 >= 2 * lanes {
                                gradient8x32(
                                    target, rowStride: 9 * cin, input: board + c0,
                                    dout: gradient + co0, span: span, cin: cin, cout: cout)
                                c0 += 2 * lanes
                            } else {
                                gradient8x16(
                                    target, rowStride: 9 * cin, input: board + c0,
                                    dout: gradient + co0, span: span, cin: cin, cout: cout)
                                c0 += lanes
                            }
                        }
                    }
                }
            }
        }
    }

    /// The output pixels one tap of the kernel gradient sums over, and where their neighbours are.
    struct PixelSpan {
        let rows: Range<Int>
        let columns: Range<Int>
        /// Pixels × channels from an output pixel to its tap neighbour in the input.
        let inputOffset: Int
        let width: Int
    }

    /// One tap's 8 output channels × 32 input channels: 16 accumulators.
    @inline(always) static func gradient8x32(
        _ target: FloatPointer, rowStride r: Int, input: ConstFloatPointer,
        dout: ConstFloatPointer, span: PixelSpan, cin: Int, cout: Int
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
        for y in span.rows {
            let first = y * span.width + span.columns.lowerBound
            var x = input + first * cin + span.inputOffset
            var g = dout + first * cout
            for _ in span.columns {
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
    @inline(always) static func gradient8x16(
        _ target: FloatPointer, rowStride r: Int, input: ConstFloatPointer,
        dout: ConstFloatPointer, span: PixelSpan, cin: Int, cout: Int
    ) {
        var l0 = Vector()
        var l1 = Vector()
        var l2 = Vector()
        var l3 = Vector()
        var l4 = Vector()
        var l5 = Vector()
        var l6 = Vector()
        var l7 = Vector()
        for y in span.rows {
            let first = y * span.width + span.columns.lowerBound
            var x = input + first * cin + span.inputOffset
            var g = dout + first * cout
            for _ in span.columns {
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

    /// Which of a block's ten pixels a tap column reaches: in the left column (kx = 0) the first
    /// pixel's neighbour is off the board, in the right one (kx = 2) the last's.
    enum TapColumn {
        case left, middle, right
    }

    /// Ten accumulators, one per pixel of a block, for 16 output channels.
    struct Pixels10 {
        var p0: Vector, p1: Vector, p2: Vector, p3: Vector, p4: Vector
        var p5: Vector, p6: Vector, p7: Vector, p8: Vector, p9: Vector

        @inline(__always) init(
            _ target: FloatPointer, stride s: Int, bias: ConstFloatPointer?, accumulate: Bool
        ) {
            p0 = start(target, bias: bias, accumulate: accumulate)
            p1 = start(target + s, bias: bias, accumulate: accumulate)
            p2 = start(target + 2 * s, bias: bias, accumulate: accumulate)
            p3 = start(target + 3 * s, bias: bias, accumulate: accumulate)
            p4 = start(target + 4 * s, bias: bias, accumulate: accumulate)
            p5 = start(target + 5 * s, bias: bias, accumulate: accumulate)
            p6 = start(target + 6 * s, bias: bias, accumulate: accumulate)
            p7 = start(target + 7 * s, bias: bias, accumulate: accumulate)
            p8 = start(target + 8 * s, bias: bias, accumulate: accumulate)
            p9 = start(target + 9 * s, bias: bias, accumulate: accumulate)
        }

        @inline(__always) func store(_ target: FloatPointer, stride s: Int) {
            DirectConvKernels.store(p0, target)
            DirectConvKernels.store(p1, target + s)
            DirectConvKernels.store(p2, target + 2 * s)
            DirectConvKernels.store(p3, target + 3 * s)
            DirectConvKernels.store(p4, target + 4 * s)
            DirectConvKernels.store(p5, target + 5 * s)
            DirectConvKernels.store(p6, target + 6 * s)
            DirectConvKernels.store(p7, target + 7 * s)
            DirectConvKernels.store(p8, target + 8 * s)
            DirectConvKernels.store(p9, target + 9 * s)
        }
    }

    /// 10 pixels × 32 output channels: 20 accumulators, enough independent FMA chains to
    /// cover the FMA latency on both units. `row` is the input row level with the output row;
    /// `kyRange` the kernel rows whose input row is on the board.
    @inline(always) static func block32(
        _ target: FloatPointer, stride s: Int, row: ConstFloatPointer, rowFloats: Int,
        kyRange: Range<Int>, rows: ConvTapRows, n0: Int, bias: ConstFloatPointer?, cin: Int,
        accumulate: Bool
    ) {
        var low = Pixels10(target, stride: s, bias: bias, accumulate: accumulate)
        var high = Pixels10(
            target + lanes, stride: s, bias: bias.map { $0 + lanes }, accumulate: accumulate)
        for ky in kyRange {
            // Pixel k of the block reads input pixel k + kx − 1 of row y + ky − 1.
            let centre = row + (ky - 1) * rowFloats
            let tap = ky * 3
            taps32(&low, &high, centre - cin, rows, tap: tap, n0: n0, cin: cin, column: .left)
            taps32(&low, &high, centre, rows, tap: tap + 1, n0: n0, cin: cin, column: .middle)
            taps32(&low, &high, centre + cin, rows, tap: tap + 2, n0: n0, cin: cin, column: .right)
        }
        low.store(target, stride: s)
        high.store(target + lanes, stride: s)
    }

    /// One tap's contribution to a 10 × 32 block: pixel k reads `x + k·cin`, except the one
    /// `column` says is off the board.
    @inline(always) static func taps32(
        _ low: inout Pixels10, _ high: inout Pixels10, _ x: ConstFloatPointer, _ rows: ConvTapRows,
        tap: Int, n0: Int, cin: Int, column: TapColumn
    ) {
        for j in 0..<cin {
            let xj = x + j
            let w = rows.row(tap: tap, channel: j) + n0
            let lo = load(w)
            let hi = load(w + lanes)
            if column != .left {
                let v = Vector(repeating: xj[0])
                low.p0.addProduct(lo, v)
                high.p0.addProduct(hi, v)
            }
            let v1 = Vector(repeating: xj[cin])
            low.p1.addProduct(lo, v1)
            high.p1.addProduct(hi, v1)
            let v2 = Vector(repeating: xj[2 * cin])
            low.p2.addProduct(lo, v2)
            high.p2.addProduct(hi, v2)
            let v3 = Vector(repeating: xj[3 * cin])
            low.p3.addProduct(lo, v3)
            high.p3.addProduct(hi, v3)
            let v4 = Vector(repeating: xj[4 * cin])
            low.p4.addProduct(lo, v4)
            high.p4.addProduct(hi, v4)
            let v5 = Vector(repeating: xj[5 * cin])
            low.p5.addProduct(lo, v5)
            high.p5.addProduct(hi, v5)
            let v6 = Vector(repeating: xj[6 * cin])
            low.p6.addProduct(lo, v6)
            high.p6.addProduct(hi, v6)
            let v7 = Vector(repeating: xj[7 * cin])
            low.p7.addProduct(lo, v7)
            high.p7.addProduct(hi, v7)
            let v8 = Vector(repeating: xj[8 * cin])
            low.p8.addProduct(lo, v8)
            high.p8.addProduct(hi, v8)
            if column != .right {
                let v = Vector(repeating: xj[9 * cin])
                low.p9.addProduct(lo, v)
                high.p9.addProduct(hi, v)
            }
        }
    }

    /// 10 pixels × 16 output channels (the remainder when cout is an odd multiple of 16).
    @inline(always) static func block16(
        _ target: FloatPointer, stride s: Int, row: ConstFloatPointer, rowFloats: Int,
        kyRange: Range<Int>, rows: ConvTapRows, n0: Int, bias: ConstFloatPointer?, cin: Int,
        accumulate: Bool
    ) {
        var acc = Pixels10(target, stride: s, bias: bias, accumulate: accumulate)
        for ky in kyRange {
            let centre = row + (ky - 1) * rowFloats
            let tap = ky * 3
            taps16(&acc, centre - cin, rows, tap: tap, n0: n0, cin: cin, column: .left)
            taps16(&acc, centre, rows, tap: tap + 1, n0: n0, cin: cin, column: .middle)
            taps16(&acc, centre + cin, rows, tap: tap + 2, n0: n0, cin: cin, column: .right)
        }
        acc.store(target, stride: s)
    }

    /// One tap's contribution to a 10 × 16 block (see `taps32`).
    @inline(always) static func taps16(
        _ acc: inout Pixels10, _ x: ConstFloatPointer, _ rows: ConvTapRows, tap: Int, n0: Int,
        cin: Int, column: TapColumn
    ) {
        for j in 0..<cin {
            let xj = x + j
            let w = load(rows.row(tap: tap, channel: j) + n0)
            if column != .left { acc.p0.addProduct(w, Vector(repeating: xj[0])) }
            acc.p1.addProduct(w, Vector(repeating: xj[cin]))
            acc.p2.addProduct(w, Vector(repeating: xj[2 * cin]))
            acc.p3.addProduct(w, Vector(repeating: xj[3 * cin]))
            acc.p4.addProduct(w, Vector(repeating: xj[4 * cin]))
            acc.p5.addProduct(w, Vector(repeating: xj[5 * cin]))
            acc.p6.addProduct(w, Vector(repeating: xj[6 * cin]))
            acc.p7.addProduct(w, Vector(repeating: xj[7 * cin]))
            acc.p8.addProduct(w, Vector(repeating: xj[8 * cin]))
            if column != .right { acc.p9.addProduct(w, Vector(repeating: xj[9 * cin])) }
        }
    }
}
