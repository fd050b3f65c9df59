// A dense, row-major, contiguous Float32 tensor: the one array type every model uses.
import Core

/// A dense Float32 tensor stored row-major and contiguously, with value semantics
/// (copy-on-write through the underlying array).
public struct Tensor: Sendable, Equatable {
    /// Dimensions, outermost first (row-major: the last index varies fastest).
    public private(set) var shape: [Int]
    /// The elements in row-major order; `count == shape.product`.
    public var scalars: [Float]

    /// A tensor with the given shape and elements; traps if the counts differ (a programmer error).
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(
            shape.reduce(1, *) == scalars.count,
            "shape \(shape) needs \(shape.reduce(1, *)) elements, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// A tensor filled with one value.
    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// A tensor of independent normal samples with the given standard deviation.
    public init(
        randomNormal shape: [Int], standardDeviation: Float = 1, using rng: inout SplitMix64
    ) {
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count { values[i] = Float(rng.nextNormal()) * standardDeviation }
        self.init(shape: shape, scalars: values)
    }

    /// A tensor of independent uniform samples in [low, high).
    public init(randomUniform shape: [Int], low: Float, high: Float, using rng: inout SplitMix64) {
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count { values[i] = low + (high - low) * Float(rng.nextUnit()) }
        self.init(shape: shape, scalars: values)
    }

    /// The identity matrix of size n × n.
    public static func identity(_ n: Int) -> Tensor {
        var t = Tensor(zeros: [n, n])
        for i in 0..<n { t.scalars[i * n + i] = 1 }
        return t
    }

    public var count: Int { scalars.count }
    public var rank: Int { shape.count }
    /// Rows of a matrix (first dimension).
    public var rows: Int { shape[0] }
    /// Columns when viewed as a matrix: the product of every dimension after the first.
    public var columns: Int { shape.dropFirst().reduce(1, *) }

    /// Element of a matrix at (row, column).
    public subscript(row: Int, column: Int) -> Float {
        get { scalars[row * columns + column] }
        set { scalars[row * columns + column] = newValue }
    }

    /// The same elements under a new shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }

    /// The tensor viewed as a matrix: first dimension × the rest (a conv kernel out × in·kh·kw).
    public var asMatrix: Tensor { reshaped([shape.first ?? 1, columns]) }

    /// The transpose of a matrix (a copy).
    public var transposed: Tensor {
        precondition(rank == 2, "transpose needs a matrix, got shape \(shape)")
        let m = shape[0]
        let n = shape[1]
        var out = [Float](repeating: 0, count: m * n)
        scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                // Blocked so both reads and writes stay in cache for large matrices.
                let block = 32
                for i0 in stride(from: 0, to: m, by: block) {
                    for j0 in stride(from: 0, to: n, by: block) {
                        for i in i0..<min(i0 + block, m) {
                            for j in j0..<min(j0 + block, n) { dst[j * m + i] = src[i * n + j] }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [n, m], scalars: out)
    }

    /// Rows [start, end) of a matrix (a copy).
    public func rows(_ range: Range<Int>) -> Tensor {
        let c = columns
        return Tensor(
            shape: [range.count] + shape.dropFirst(),
            scalars: Array(scalars[(range.lowerBound * c)..<(range.upperBound * c)]))
    }

    /// Columns [start, end) of a matrix (a copy).
    public func columns(_ range: Range<Int>) -> Tensor {
        precondition(rank == 2)
        let m = shape[0]
        let n = shape[1]
        var out = [Float](repeating: 0, count: m * range.count)
        for i in 0..<m {
            for (j, jj) in range.enumerated() { out[i * range.count + j] = scalars[i * n + jj] }
        }
        return Tensor(shape: [m, range.count], scalars: out)
    }

    /// Frobenius norm, accumulated in Double.
    public var frobeniusNorm: Double {
        var sum = 0.0
        for v in scalars { sum += Double(v) * Double(v) }
        return sum.squareRoot()
    }

    /// Largest absolute elementwise difference from another tensor of the same shape.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "shapes differ: \(shape) vs \(other.shape)")
        var worst: Float = 0
        for i in 0..<count { worst = max(worst, abs(scalars[i] - other.scalars[i])) }
        return worst
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "shapes differ: \(a.shape) vs \(b.shape)")
        var out = a
        for i in 0..<a.count { out.scalars[i] += b.scalars[i] }
        return out
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "shapes differ: \(a.shape) vs \(b.shape)")
        var out = a
        for i in 0..<a.count { out.scalars[i] -= b.scalars[i] }
        return out
    }

    public static func * (a: Tensor, s: Float) -> Tensor {
        var out = a
        for i in 0..<a.count { out.scalars[i] *= s }
        return out
    }
}
