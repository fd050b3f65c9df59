// Fully connected layers over rows of tokens or pixels, as 1×1 convolutions through the direct
// conv kernels' register blocks: 10 rows × 32 (or 16) outputs held in registers while one input
// value at a time is broadcast against a row of weights. OpenBLAS's sgemm packs both operands on
// every call; for these products (depth 64 or 256, a few thousand rows per worker's chunk) the
// packing took about a quarter of the transformer's sgemm time.

enum PointwiseKernels {
    /// Rows per register block.
    static let rowBlock = DirectConvKernels.pixelBlock
    /// Rows whose kernel-gradient sums are formed together (so their inputs stay in L1).
    static let gradientRows = 100

    /// Whether `multiply` takes n rows into `outputs` columns.
    static func handles(rows n: Int, outputs: Int) -> Bool {
        n % rowBlock == 0 && outputs % DirectConvKernels.lanes == 0
    }

    /// Whether `weightGradient` takes a (outputs, inputs) weight.
    static func handlesWeightGradient(inputs: Int, outputs: Int) -> Bool {
        inputs % DirectConvKernels.lanes == 0 && outputs % 8 == 0
    }

    /// out (n, cout) = bias + inp (n, cin) · M (or, with `accumulate`, out += inp · M), M's row j
    /// (cout floats, input j's weights) at `rows.row(tap: 0, channel: j)`. n must be a multiple
    /// of 10 and cout of 16.
    static func multiply(
        _ out: FloatPointer, _ inp: ConstFloatPointer, rows: ConvTapRows, bias: ConstFloatPointer?,
        cin: Int, cout: Int, n: Int, accumulate: Bool
    ) {
        precondition(handles(rows: n, outputs: cout), "shape the kernel cannot take")
        // Literal widths put a block's ten broadcasts at constant offsets from one address.
        switch cin {
        case 64: multiplyRows(out, inp, rows, bias, cin: 64, cout, n, accumulate)
        case 128: multiplyRows(out, inp, rows, bias, cin: 128, cout, n, accumulate)
        case 192: multiplyRows(out, inp, rows, bias, cin: 192, cout, n, accumulate)
        case 256: multiplyRows(out, inp, rows, bias, cin: 256, cout, n, accumulate)
        default: multiplyRows(out, inp, rows, bias, cin: cin, cout, n, accumulate)
        }
    }

    @inline(always) static func multiplyRows(
        _ out: FloatPointer, _ inp: ConstFloatPointer, _ rows: ConvTapRows,
        _ bias: ConstFloatPointer?, cin: Int, _ cout: Int, _ n: Int, _ accumulate: Bool
    ) {
        let lanes = DirectConvKernels.lanes
        for r0 in stride(from: 0, to: n, by: rowBlock) {
            let x = inp + r0 * cin
            let target = out + r0 * cout
            var n0 = 0
            while n0 < cout {
                let b = bias.map { $0 + n0 }
                if cout - n0 >= 2 * lanes {
                    var low = DirectConvKernels.Pixels10(
                        target + n0, stride: cout, bias: b, accumulate: accumulate)
                    var high = DirectConvKernels.Pixels10(
                        target + n0 + lanes, stride: cout, bias: b.map { $0 + lanes },
                        accumulate: accumulate)
                    DirectConvKernels.taps32(
                        &low, &high, x, rows, tap: 0, n0: n0, cin: cin, column: .middle)
                    low.store(target + n0, stride: cout)
                    high.store(target + n0 + lanes, stride: cout)
                    n0 += 2 * lanes
                } else {
                    var acc = DirectConvKernels.Pixels10(
                        target + n0, stride: cout, bias: b, accumulate: accumulate)
                    DirectConvKernels.taps16(
                        &acc, x, rows, tap: 0, n0: n0, cin: cin, column: .middle)
                    acc.store(target + n0, stride: cout)
                    n0 += lanes
                }
            }
        }
    }

    /// dw (cout, cin) += doutᵀ (cout, n) · inp (n, cin): registers hold 8 outputs × 32 (or 16)
    /// inputs while up to 100 rows stream past, in a fixed order (so the sums do not depend on
    /// how a batch is split into calls). cin must be a multiple of 16 and cout of 8.
    static func weightGradient(
        _ dw: FloatPointer, _ inp: ConstFloatPointer, dout: ConstFloatPointer, cin: Int,
        cout: Int, n: Int
    ) {
        precondition(
            handlesWeightGradient(inputs: cin, outputs: cout), "shape the kernel cannot take")
        let lanes = DirectConvKernels.lanes
        for r0 in stride(from: 0, to: n, by: gradientRows) {
            let count = min(gradientRows, n - r0)
            let span = DirectConvKernels.PixelSpan(
                rows: 0..<1, columns: 0..<count, inputOffset: 0, width: count)
            let x = inp + r0 * cin
            let g = dout + r0 * cout
            for co0 in stride(from: 0, to: cout, by: 8) {
                var c0 = 0
                while c0 < cin {
                    let target = dw + co0 * cin + c0
                    if cin - c0 >= 2 * lanes {
                        DirectConvKernels.gradient8x32(
                            target, rowStride: cin, input: x + c0, dout: g + co0, span: span,
                            cin: cin, cout: cout)
                        c0 += 2 * lanes
                    } else {
                        DirectConvKernels.gradient8x16(
                            target, rowStride: cin, input: x + c0, dout: g + co0, span: span,
                            cin: cin, cout: cout)
                        c0 += lanes
                    }
                }
            }
        }
    }
}
