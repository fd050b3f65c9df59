// A weight matrix kept in its ggml block format, straight from the memory-mapped GGUF, and the
// products through it (QuantizedKernels: activations quantized per block, integer dot products).
import LinearAlgebra
import QuantizedKernels

/// A (rows, columns) matrix of ggml blocks, each row `rowBytes` long, as stored in the file.
public struct QuantizedMatrix: @unchecked Sendable {
    public let type: GGMLType
    public let rows: Int
    public let columns: Int
    let rowBytes: Int
    let data: UnsafeRawPointer
    /// Keeps the mapping `data` points into alive.
    let owner: AnyObject

    /// Whether the kernels multiply this type (Q4_0, Q4_1, Q5_0, Q8_0, Q4_K, Q6_K).
    public static func supports(_ type: GGMLType) -> Bool { qk_supports(Int32(type.rawValue)) != 0 }

    init(type: GGMLType, rows: Int, columns: Int, data: UnsafeRawPointer, owner: AnyObject) {
        precondition(Self.supports(type) && columns % type.blockSize == 0)
        self.type = type
        self.rows = rows
        self.columns = columns
        self.rowBytes = columns / type.blockSize * type.blockBytes
        self.data = data
        self.owner = owner
    }

    /// Bytes of one token's quantized activations for this matrix.
    var activationBytes: Int { qk_activation_bytes(Int32(type.rawValue), Int32(columns)) }

    /// Row `r` dequantized into `out` (columns floats).
    func dequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        Dequantize.run(
            type: type, from: UnsafeRawBufferPointer(start: data + r * rowBytes, count: rowBytes),
            into: UnsafeMutableBufferPointer(start: out, count: columns))
    }

    /// The whole matrix in Float32, (rows, columns).
    public func dequantized() -> Tensor {
        var values = [Float](repeating: 0, count: rows * columns)
        values.withUnsafeMutableBufferPointer { out in
            Dequantize.run(
                type: type, from: UnsafeRawBufferPointer(start: data, count: rows * rowBytes),
                into: out)
        }
        return Tensor(shape: [rows, columns], scalars: values)
    }

    /// Quantizes `batch` rows of `x` (columns wide) into `out` (batch · activationBytes bytes).
    func quantizeActivations(
        _ x: UnsafePointer<Float>, batch: Int, into out: UnsafeMutableRawPointer
    ) {
        qk_quantize_activations(
            Int32(type.rawValue), x, Int32(columns), Int32(columns), Int32(batch), out)
    }

    /// Whether a product of `batch` tokens reads quantized activations (else the Float32 ones).
    static func usesQuantizedActivations(batch: Int) -> Bool {
        qk_uses_quantized_activations(Int32(batch)) != 0
    }

    /// The product Y (batch × rows) (+)= X · Wᵀ as a pool task; `activations` are X quantized
    /// (needed only when `usesQuantizedActivations(batch:)`).
    func task(
        x: UnsafePointer<Float>, activations: UnsafeRawPointer?, batch: Int,
        into y: UnsafeMutablePointer<Float>, accumulate: Bool
    ) -> qk_matmul_task {
        qk_matmul_task(
            type: Int32(type.rawValue), w: data, row_bytes: rowBytes, rows: Int32(rows),
            columns: Int32(columns), x: x, ldx: Int32(columns), xq: activations,
            tokens: Int32(batch), y: y, ldy: Int32(rows), accumulate: accumulate ? 1 : 0)
    }
}

/// The threads that run quantized products (the caller's thread counts as one).
public final class QuantizedThreadPool: @unchecked Sendable {
    let pool: OpaquePointer?
    public let threads: Int

    public init(threads: Int) {
        pool = qk_pool_create(Int32(max(1, threads)))
        self.threads = Int(qk_pool_threads(pool))
    }

    deinit { qk_pool_destroy(pool) }

    /// Runs the tasks' rows split over the threads.
    func run(_ tasks: UnsafeBufferPointer<qk_matmul_task>) {
        qk_pool_matmul(pool, tasks.baseAddress, Int32(tasks.count))
    }

    /// Calls body(index, thread) for every index < count on the pool's threads (thread < threads).
    func parallelFor(_ count: Int, _ body: (_ index: Int, _ thread: Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            var context = body
            withUnsafeMutablePointer(to: &context) { pointer in
                qk_pool_parallel_for(
                    pool, Int32(count),
                    { context, index, thread in
                        context!.assumingMemoryBound(to: ((Int, Int) -> Void).self).pointee(
                            Int(index), Int(thread))
                    }, pointer)
            }
        }
    }
}

/// The instruction sets of the quantized products ("avx512vnni", "avx2" or "scalar"); products use
/// the best this CPU runs.
public enum QuantizedKernelISA: Int32, CaseIterable, Sendable {
    case scalar = 0
    case avx2 = 1
    case avx512vnni = 2

    /// The best this CPU runs.
    public static var best: QuantizedKernelISA {
        QuantizedKernelISA(rawValue: qk_best_isa()) ?? .scalar
    }
    public var name: String { String(describing: self) }
}
