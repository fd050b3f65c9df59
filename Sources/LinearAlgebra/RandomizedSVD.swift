// Randomized truncated SVD (Halko, Martinsson, Tropp 2011) for large matrices and small ranks.
import CBLAS
import Core

/// Options for the randomized SVD.
public struct RandomizedSVDOptions: Sendable {
    /// Extra sample columns beyond the target rank (Halko et al. recommend 5–10).
    public var oversampling: Int = 10
    /// Subspace (power) iterations; each sharpens the spectrum decay at the cost of two products.
    public var powerIterations: Int = 2
    public var seed: UInt64 = 0

    public init(oversampling: Int = 10, powerIterations: Int = 2, seed: UInt64 = 0) {
        self.oversampling = oversampling
        self.powerIterations = powerIterations
        self.seed = seed
    }
}

/// The leading `rank` singular triplets of A (m × n) by a randomized range finder with power
/// iterations, re-orthonormalised by QR after each product for numerical stability.
public func randomizedSVD(_ a: Tensor, rank: Int, options: RandomizedSVDOptions = .init()) throws
    -> SingularValueDecomposition
{
    guard a.rank == 2 else { throw LinearAlgebraError.notAMatrix(shape: a.shape) }
    let m = a.shape[0]
    let n = a.shape[1]
    let p = min(m, n)
    precondition(rank >= 1 && rank <= p, "rank \(rank) outside 1...\(p)")
    let l = min(p, rank + options.oversampling)
    if l >= p {
        // Sampling would cover the whole range: the exact SVD is cheaper and exact.
        let full = try svd(a)
        return truncate(full, rank: rank)
    }
    var rng = SplitMix64(seed: options.seed)
    let omega = Tensor(randomNormal: [n, l], using: &rng)
    var q = try orthonormalColumns(matmul(a, omega))  // m × l
    for _ in 0..<options.powerIterations {
        let z = try orthonormalColumns(matmul(a, q, transposeA: true))  // n × l
        q = try orthonormalColumns(matmul(a, z))  // m × l
    }
    let b = matmul(q, a, transposeA: true)  // l × n
    let small = try svd(b)  // U_b l × l
    let u = matmul(q, small.u)  // m × l
    return truncate(
        SingularValueDecomposition(u: u, singularValues: small.singularValues, vt: small.vt),
        rank: rank)
}

private func truncate(_ d: SingularValueDecomposition, rank k: Int) -> SingularValueDecomposition {
    let m = d.rows
    let n = d.columns
    return SingularValueDecomposition(
        u: d.u.columns(0..<k).reshaped([m, k]), singularValues: Array(d.singularValues[0..<k]),
        vt: Tensor(shape: [k, n], scalars: Array(d.vt.scalars[0..<(k * n)])))
}

/// Q of the thin QR factorisation of a tall matrix (m × l, m ≥ l) via `sgeqrf` + `sorgqr`.
public func orthonormalColumns(_ a: Tensor) throws -> Tensor {
    let m = a.shape[0]
    let l = a.shape[1]
    precondition(m >= l, "QR here expects a tall matrix, got \(a.shape)")
    var q = a.scalars
    var tau = [Float](repeating: 0, count: l)
    var info = q.withUnsafeMutableBufferPointer { qp in
        tau.withUnsafeMutableBufferPointer { tp in
            LAPACKE_sgeqrf(
                LAPACK_ROW_MAJOR, Int32(m), Int32(l), qp.baseAddress, Int32(l), tp.baseAddress)
        }
    }
    if info != 0 { throw LinearAlgebraError.lapackFailed(routine: "sgeqrf", info: Int(info)) }
    info = q.withUnsafeMutableBufferPointer { qp in
        tau.withUnsafeMutableBufferPointer { tp in
            LAPACKE_sorgqr(
                LAPACK_ROW_MAJOR, Int32(m), Int32(l), Int32(l), qp.baseAddress, Int32(l),
                tp.baseAddress)
        }
    }
    if info != 0 { throw LinearAlgebraError.lapackFailed(routine: "sorgqr", info: Int(info)) }
    return Tensor(shape: [m, l], scalars: q)
}
