// Fully connected layer forward/backward over a batch of rows (also every 1×1 and im2col'd conv).
import Laser
import LinearAlgebra

enum LinearKernels {
    /// out (n, oc) = inp (n, ic) · Wᵀ + bias, W (oc, ic). When `reduced` holds a factored matrix the
    /// product goes through its factors (`scratch` then holds n × rank floats). Dense weights go
    /// through `PointwiseKernels` in blocks of 10 rows when the shape allows, the rest to sgemm.
    @inline(__always)
    static func forward(
        _ out: FloatPointer, _ inp: ConstFloatPointer, _ weight: ConstFloatPointer,
        _ bias: ConstFloatPointer?, n: Int, ic: Int, oc: Int, reduced: LinearWeight? = nil,
        scratch: FloatPointer? = nil
    ) {
        var first = 0
        let blocked = n - n % PointwiseKernels.rowBlock
        if reduced == nil && blocked > 0 && PointwiseKernels.handles(rows: blocked, outputs: oc) {
            // The direct kernel reads W's columns as rows: one transposed copy per call, ic·oc
            // floats against n·ic·oc multiply-adds.
            withUnsafeTemporaryAllocation(of: Float.self, capacity: ic * oc) { transposed in
                let wt = transposed.baseAddress!
                DirectConvKernels.transpose(wt, weight, rows: oc, cols: ic)
                PointwiseKernels.multiply(
                    out, inp, rows: ConvTapRows(base: wt, tapStride: 0, channelStride: oc),
                    bias: bias, cin: ic, cout: oc, n: blocked, accumulate: false)
            }
            first = blocked
            if first == n { return }
        }
        let rows = n - first
        let out = out + first * oc
        let inp = inp + first * ic
        var beta: Float = 0
        if let bias {
            for r in 0..<rows { (out + r * oc).update(from: bias, count: oc) }
            beta = 1
        }
        if let reduced {
            reduced.apply(x: inp, batch: rows, into: out, beta: beta, scratch: scratch)
        } else {
            BLAS.sgemm(
                transA: false, transB: true, m: rows, n: oc, k: ic, a: inp, lda: ic, b: weight,
                ldb: ic, beta: beta, c: out, ldc: oc)
        }
    }

    /// dweight (oc, ic) += doutᵀ · inp; dbias += column sums of dout; dinp (n, ic) = dout · W
    /// (added to dinp's contents when `accumulate`). Any of dinp / dbias may be skipped.
    @inline(__always)
    static func backward(
        _ dinp: FloatPointer?, _ dweight: FloatPointer, _ dbias: FloatPointer?,
        _ dout: ConstFloatPointer, _ inp: ConstFloatPointer, _ weight: ConstFloatPointer,
        n: Int, ic: Int, oc: Int, accumulate: Bool = false
    ) {
        if let dinp {
            var first = 0
            let blocked = n - n % PointwiseKernels.rowBlock
            if blocked > 0 && PointwiseKernels.handles(rows: blocked, outputs: ic) {
                // W's rows are already the rows this product reads.
                PointwiseKernels.multiply(
                    dinp, dout, rows: ConvTapRows(base: weight, tapStride: 0, channelStride: ic),
                    bias: nil, cin: oc, cout: ic, n: blocked, accumulate: accumulate)
                first = blocked
            }
            if first < n {
                BLAS.sgemm(
                    transA: false, transB: false, m: n - first, n: ic, k: oc,
                    a: dout + first * oc, lda: oc, b: weight, ldb: ic,
                    beta: accumulate ? 1 : 0, c: dinp + first * ic, ldc: ic)
            }
        }
        if PointwiseKernels.handlesWeightGradient(inputs: ic, outputs: oc) {
            PointwiseKernels.weightGradient(dweight, inp, dout: dout, cin: ic, cout: oc, n: n)
        } else {
            BLAS.sgemm(
                transA: true, transB: false, m: oc, n: ic, k: n, a: dout, lda: oc, b: inp,
                ldb: ic, beta: 1, c: dweight, ldc: ic)
        }
        if let dbias { addBiasGradient(dbias, dout, n: n, oc: oc) }
    }

    /// dbias (oc) += the column sums of dout (n, oc).
    static func addBiasGradient(_ dbias: FloatPointer, _ dout: ConstFloatPointer, n: Int, oc: Int) {
        for r in 0..<n {
            let row = dout + r * oc
            for o in 0..<oc { dbias[o] += row[o] }
        }
    }
}
