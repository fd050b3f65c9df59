// Matrix products through OpenBLAS: every product in the project goes through here.
import CBLAS

/// Kernel-level BLAS entry points (row-major). Models call these from inside their kernels with
/// their own workspace buffers; everything else uses the `Tensor` wrappers below.
public enum BLAS {
    /// C (m×n) = alpha · op(A) · op(B) + beta · C, all row-major with leading dimensions.
    /// op(A) is m×k, op(B) is k×n.
    @inline(__always)
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y (len m or n) = alpha · op(A) · x + beta · y for a row-major m×n matrix A.
    @inline(__always)
    public static func sgemv(
        transA: Bool, m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemv(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha, a,
            Int32(lda), x, 1, beta, y, 1)
    }

    /// y += alpha · x over n elements.
    @inline(__always)
    public static func saxpy(
        n: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
    ) {
        cblas_saxpy(Int32(n), alpha, x, 1, y, 1)
    }

    /// Dot product of n elements.
    @inline(__always)
    public static func sdot(n: Int, x: UnsafePointer<Float>, y: UnsafePointer<Float>) -> Float {
        cblas_sdot(Int32(n), x, 1, y, 1)
    }
}

/// op(A) · op(B) for matrices (a new tensor).
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false)
    -> Tensor
{
    precondition(a.rank == 2 && b.rank == 2, "matmul needs matrices: \(a.shape) · \(b.shape)")
    let m = transposeA ? a.shape[1] : a.shape[0]
    let k = transposeA ? a.shape[0] : a.shape[1]
    let kb = transposeB ? b.shape[1] : b.shape[0]
    let n = transposeB ? b.shape[0] : b.shape[1]
    precondition(
        k == kb,
        "inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")"
    )
    var c = Tensor(zeros: [m, n])
    gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: &c)
    return c
}

/// C = alpha · op(A) · op(B) + beta · C into an existing matrix of the right shape.
public func gemm(
    _ a: Tensor, transposeA: Bool = false, _ b: Tensor, transposeB: Bool = false,
    into c: inout Tensor, alpha: Float = 1, beta: Float = 0
) {
    let m = transposeA ? a.shape[1] : a.shape[0]
    let k = transposeA ? a.shape[0] : a.shape[1]
    let n = transposeB ? b.shape[0] : b.shape[1]
    precondition(c.shape == [m, n], "output shape \(c.shape) should be [\(m), \(n)]")
    if k == 0 {
        // BLAS leaves C untouched for k = 0 only when beta = 1; make the empty product explicit.
        for i in 0..<c.count { c.scalars[i] *= beta }
        return
    }
    a.scalars.withUnsafeBufferPointer { ap in
        b.scalars.withUnsafeBufferPointer { bp in
            c.scalars.withUnsafeMutableBufferPointer { cp in
                BLAS.sgemm(
                    transA: transposeA, transB: transposeB, m: m, n: n, k: k, alpha: alpha,
                    a: ap.baseAddress!, lda: a.shape[1], b: bp.baseAddress!, ldb: b.shape[1],
                    beta: beta, c: cp.baseAddress!, ldc: n)
            }
        }
    }
}

/// op(A) · x for a matrix and a vector (a new 1-D tensor).
public func matvec(_ a: Tensor, _ x: Tensor, transposeA: Bool = false) -> Tensor {
    precondition(a.rank == 2)
    let m = a.shape[0]
    let n = a.shape[1]
    precondition(
        x.count == (transposeA ? m : n), "vector length \(x.count) does not fit \(a.shape)")
    var y = Tensor(zeros: [transposeA ? n : m])
    a.scalars.withUnsafeBufferPointer { ap in
        x.scalars.withUnsafeBufferPointer { xp in
            y.scalars.withUnsafeMutableBufferPointer { yp in
                BLAS.sgemv(
                    transA: transposeA, m: m, n: n, a: ap.baseAddress!, lda: n, x: xp.baseAddress!,
                    y: yp.baseAddress!)
            }
        }
    }
    return y
}

/// The naive triple loop, kept beside the fast kernel as the reference for tests.
public func naiveMatmul(
    _ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false
)
    -> Tensor
{
    let m = transposeA ? a.shape[1] : a.shape[0]
    let k = transposeA ? a.shape[0] : a.shape[1]
    let n = transposeB ? b.shape[0] : b.shape[1]
    var c = Tensor(zeros: [m, n])
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0
            for p in 0..<k {
                let av = transposeA ? a[p, i] : a[i, p]
                let bv = transposeB ? b[j, p] : b[p, j]
                sum += Double(av) * Double(bv)
            }
            c[i, j] = Float(sum)
        }
    }
    return c
}
