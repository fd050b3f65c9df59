// Fully connected layer forward/backward over a batch of rows (also every 1×1 and im2col'd conv).
import Laser
import LinearAlgebra

enum LinearKernels {
    /// out (n, oc) = inp (n, ic) · Wᵀ + bias, W (oc, ic). When `reduced` holds a factored matrix the
    /// product goes through its factors (`scratch` then holds n × rank floats).
    @inline(__always)
    static func forward(
        _ out: FloatPointer, _ inp: ConstFloatPointer, _ weight: ConstFloatPointer,
        _ bias: ConstFloatPointer?, n: Int, ic: Int, oc: Int, reduced: LinearWeight? = nil,
        scratch: FloatPointer? = nil
    ) {
        var beta: Float = 0
        if let bias {
            for r in 0..<n { (out + r * oc).update(from: bias, count: oc) }
            beta = 1
        }
        if let reduced {
            reduced.apply(x: inp, batch: n, into: out, beta: beta, scratch: scratch)
        } else {
            BLAS.sgemm(
                transA: false, transB: true, m: n, n: oc, k: ic, a: inp, lda: ic, b: weight,
                ldb: ic,
                beta: beta, c: out, ldc: oc)
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
            BLAS.sgemm(
                transA: false, transB: false, m: n, n: ic, k: oc, a: dout, lda: oc, b: weight,
                ldb: ic, beta: accumulate ? 1 : 0, c: dinp, ldc: ic)
        }
        BLAS.sgemm(
            transA: true, transB: false, m: oc, n: ic, k: n, a: dout, lda: oc, b: inp, ldb: ic,
            beta: 1, c: dweight, ldc: ic)
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
