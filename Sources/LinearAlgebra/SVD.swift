// Singular value decomposition through LAPACK, and the best rank-k approximation built on it.
import CBLAS

/// A thin SVD A = U · diag(S) · Vᵀ of an m × n matrix with p = min(m, n).
public struct SingularValueDecomposition: Sendable {
    /// m × p, orthonormal columns.
    public let u: Tensor
    /// p singular values, descending.
    public let singularValues: [Float]
    /// p × n, orthonormal rows.
    public let vt: Tensor

    public init(u: Tensor, singularValues: [Float], vt: Tensor) {
        self.u = u
        self.singularValues = singularValues
        self.vt = vt
    }

    public var rows: Int { u.shape[0] }
    public var columns: Int { vt.shape[1] }

    /// The best rank-k approximation's factors: left = U_k·diag(S_k) (m × k), right = V_kᵀ (k × n).
    public func truncatedFactors(rank k: Int) -> (left: Tensor, right: Tensor) {
        let p = singularValues.count
        precondition(k >= 1 && k <= p, "rank \(k) outside 1...\(p)")
        let m = rows
        let n = columns
        var left = [Float](repeating: 0, count: m * k)
        u.scalars.withUnsafeBufferPointer { up in
            for i in 0..<m {
                for j in 0..<k { left[i * k + j] = up[i * p + j] * singularValues[j] }
            }
        }
        let right = Array(vt.scalars[0..<(k * n)])
        return (Tensor(shape: [m, k], scalars: left), Tensor(shape: [k, n], scalars: right))
    }

    /// The best rank-k approximation as a dense matrix (Eckart–Young).
    public func reconstruction(rank k: Int) -> Tensor {
        let (l, r) = truncatedFactors(rank: k)
        return matmul(l, r)
    }
}

/// Errors from LAPACK.
public enum LinearAlgebraError: Error, CustomStringConvertible, Equatable {
    case lapackFailed(routine: String, info: Int)
    case notAMatrix(shape: [Int])
    case nonFinite(String)

    public var description: String {
        switch self {
        case .lapackFailed(let routine, let info):
            return "LAPACK \(routine) failed (info = \(info))"
        case .notAMatrix(let shape):
            return "expected a matrix, got a tensor of shape \(shape)"
        case .nonFinite(let what):
            return "\(what) contains NaN or infinity"
        }
    }
}

/// The thin SVD of a matrix by divide and conquer (`sgesdd`), falling back to QR iteration
/// (`sgesvd`) when `sgesdd` reports failure to converge.
public func svd(_ matrix: Tensor) throws -> SingularValueDecomposition {
    guard matrix.rank == 2 else { throw LinearAlgebraError.notAMatrix(shape: matrix.shape) }
    guard matrix.scalars.allSatisfy({ $0.isFinite }) else {
        throw LinearAlgebraError.nonFinite("matrix given to SVD")
    }
    let m = matrix.shape[0]
    let n = matrix.shape[1]
    let p = min(m, n)
    if p == 0 {
        return SingularValueDecomposition(
            u: Tensor(zeros: [m, 0]), singularValues: [], vt: Tensor(zeros: [0, n]))
    }
    var s = [Float](repeating: 0, count: p)
    var u = [Float](repeating: 0, count: m * p)
    var vt = [Float](repeating: 0, count: p * n)
    var a = matrix.scalars  // LAPACK destroys its input
    var info = a.withUnsafeMutableBufferPointer { ap in
        s.withUnsafeMutableBufferPointer { sp in
            u.withUnsafeMutableBufferPointer { upp in
                vt.withUnsafeMutableBufferPointer { vp in
                    LAPACKE_sgesdd(
                        LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "S")), Int32(m), Int32(n),
                        ap.baseAddress, Int32(n), sp.baseAddress, upp.baseAddress, Int32(p),
                        vp.baseAddress, Int32(n))
                }
            }
        }
    }
    if info > 0 {
        a = matrix.scalars
        var superb = [Float](repeating: 0, count: max(1, p - 1))
        info = a.withUnsafeMutableBufferPointer { ap in
            s.withUnsafeMutableBufferPointer { sp in
                u.withUnsafeMutableBufferPointer { upp in
                    vt.withUnsafeMutableBufferPointer { vp in
                        superb.withUnsafeMutableBufferPointer { bp in
                            LAPACKE_sgesvd(
                                LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "S")),
                                CChar(UInt8(ascii: "S")),
                                Int32(m), Int32(n), ap.baseAddress, Int32(n), sp.baseAddress,
                                upp.baseAddress, Int32(p), vp.baseAddress, Int32(n), bp.baseAddress)
                        }
                    }
                }
            }
        }
        if info != 0 { throw LinearAlgebraError.lapackFailed(routine: "sgesvd", info: Int(info)) }
    } else if info < 0 {
        throw LinearAlgebraError.lapackFailed(routine: "sgesdd", info: Int(info))
    }
    return SingularValueDecomposition(
        u: Tensor(shape: [m, p], scalars: u), singularValues: s,
        vt: Tensor(shape: [p, n], scalars: vt))
}

/// Singular values only (`sgesdd` with job 'N'), cheaper than the full decomposition.
public func singularValues(_ matrix: Tensor) throws -> [Float] {
    guard matrix.rank == 2 else { throw LinearAlgebraError.notAMatrix(shape: matrix.shape) }
    guard matrix.scalars.allSatisfy({ $0.isFinite }) else {
        throw LinearAlgebraError.nonFinite("matrix given to SVD")
    }
    let m = matrix.shape[0]
    let n = matrix.shape[1]
    let p = min(m, n)
    if p == 0 { return [] }
    var s = [Float](repeating: 0, count: p)
    var a = matrix.scalars
    var dummy: [Float] = [0]
    let info = a.withUnsafeMutableBufferPointer { ap in
        s.withUnsafeMutableBufferPointer { sp in
            dummy.withUnsafeMutableBufferPointer { dp in
                LAPACKE_sgesdd(
                    LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "N")), Int32(m), Int32(n), ap.baseAddress,
                    Int32(n), sp.baseAddress, dp.baseAddress, Int32(max(1, m)), dp.baseAddress,
                    Int32(max(1, n)))
            }
        }
    }
    if info != 0 { return try svd(matrix).singularValues }
    return s
}

/// k = max(1, ⌊ρ·min(m, n)⌋): the rank LASER keeps for a fraction ρ in (0, 1].
public func keptRank(rho: Double, rows: Int, columns: Int) -> Int {
    let p = min(rows, columns)
    // A small epsilon so ρ written in decimal (0.1 · 576 = 57.6000001) floors as a person expects.
    return max(1, min(p, Int((rho * Double(p) + 1e-9).rounded(.down))))
}
