// A matrix kept as two low-rank factors so a forward pass costs k·(m+n) instead of m·n.
import LinearAlgebra

/// W ≈ left · right with left = U_k·diag(S_k) (m × k) and right = V_kᵀ (k × n).
public struct FactoredMatrix: Sendable {
    public let left: Tensor
    public let right: Tensor

    public init(left: Tensor, right: Tensor) {
        precondition(
            left.rank == 2 && right.rank == 2 && left.shape[1] == right.shape[0],
            "factors do not chain: \(left.shape) · \(right.shape)")
        self.left = left
        self.right = right
    }

    public var rows: Int { left.shape[0] }
    public var columns: Int { right.shape[1] }
    public var rank: Int { left.shape[1] }
    /// Parameters in factored form, k·(m+n).
    public var parameterCount: Int { rank * (rows + columns) }

    /// The dense m × n product.
    public func reconstructed() -> Tensor { matmul(left, right) }

    /// Y (batch × m) = X (batch × n) · Wᵀ + beta·Y, the linear-layer product with W stored (out, in),
    /// computed as (X · rightᵀ) · leftᵀ. `scratch` must hold batch × rank floats.
    @inline(__always)
    public func applyTransposed(
        x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>, beta: Float = 0,
        scratch: UnsafeMutablePointer<Float>
    ) {
        let k = rank
        let m = rows
        let n = columns
        right.scalars.withUnsafeBufferPointer { r in
            BLAS.sgemm(
                transA: false, transB: true, m: batch, n: k, k: n, a: x, lda: n,
                b: r.baseAddress!, ldb: n, c: scratch, ldc: k)
        }
        left.scalars.withUnsafeBufferPointer { l in
            BLAS.sgemm(
                transA: false, transB: true, m: batch, n: m, k: k, a: scratch, lda: k,
                b: l.baseAddress!, ldb: k, beta: beta, c: y, ldc: m)
        }
    }
}

/// A linear layer's weight (out × in), dense or factored: the API models use in their forward pass
/// so that a LASER-reduced matrix is multiplied through its factors.
public struct LinearWeight: Sendable {
    public private(set) var value: WeightValue
    public let rows: Int
    public let columns: Int

    public init(_ dense: Tensor) {
        precondition(dense.rank == 2)
        value = .dense(dense)
        rows = dense.shape[0]
        columns = dense.shape[1]
    }

    /// Replace the value (same shape required).
    public mutating func set(_ newValue: WeightValue) {
        switch newValue {
        case .dense(let t):
            precondition(t.count == rows * columns, "shape mismatch")
            value = .dense(t.reshaped([rows, columns]))
        case .factored(let f):
            precondition(f.rows == rows && f.columns == columns, "shape mismatch")
            value = newValue
        }
    }

    /// The dense matrix (reconstructed when factored).
    public var dense: Tensor { value.dense }

    /// The rank of the factored form, or nil when dense.
    public var factoredRank: Int? {
        if case .factored(let f) = value { return f.rank }
        return nil
    }

    /// Scratch floats `apply` needs for a batch (zero when dense).
    public func scratchCount(batch: Int) -> Int { factoredRank.map { $0 * batch } ?? 0 }

    /// Y (batch × rows) = X (batch × columns) · Wᵀ + beta·Y.
    @inline(__always)
    public func apply(
        x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>, beta: Float = 0,
        scratch: UnsafeMutablePointer<Float>?
    ) {
        switch value {
        case .dense(let w):
            w.scalars.withUnsafeBufferPointer { wp in
                BLAS.sgemm(
                    transA: false, transB: true, m: batch, n: rows, k: columns, a: x,
                    lda: columns, b: wp.baseAddress!, ldb: columns, beta: beta, c: y, ldc: rows)
            }
        case .factored(let f):
            f.applyTransposed(x: x, batch: batch, into: y, beta: beta, scratch: scratch!)
        }
    }

    /// Convenience: X (batch × columns) · Wᵀ as a new tensor.
    public func apply(_ x: Tensor) -> Tensor {
        let batch = x.count / columns
        precondition(
            batch * columns == x.count, "input of \(x.count) floats is not a multiple of \(columns)"
        )
        var y = Tensor(zeros: [batch, rows])
        var scratch = [Float](repeating: 0, count: max(1, scratchCount(batch: batch)))
        x.scalars.withUnsafeBufferPointer { xp in
            y.scalars.withUnsafeMutableBufferPointer { yp in
                scratch.withUnsafeMutableBufferPointer { sp in
                    apply(
                        x: xp.baseAddress!, batch: batch, into: yp.baseAddress!,
                        scratch: sp.baseAddress!)
                }
            }
        }
        return y
    }
}
