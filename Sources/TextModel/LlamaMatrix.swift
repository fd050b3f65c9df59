// A linear weight of the language model as the forward pass multiplies it: the file's quantized
// blocks, or a LinearWeight (Float32 dense, or LASER's factors) that stands in for them.
import Laser
import LinearAlgebra

/// How a model keeps the weights the quantized kernels can multiply.
public enum WeightFormat: String, Sendable, CaseIterable {
    /// As stored in the GGUF (memory-mapped blocks, integer dot products); other types in Float32.
    case quantized
    /// Every weight dequantized to Float32 at load and multiplied through BLAS: the reference.
    case float32
}

/// One (rows, columns) weight, (out, in).
struct LlamaMatrix {
    /// The file's blocks, when kept quantized.
    let quantized: QuantizedMatrix?
    /// A replacement multiplied instead (always set when there are no quantized blocks).
    private(set) var linear: LinearWeight?
    let rows: Int
    let columns: Int

    init(quantized: QuantizedMatrix) {
        self.quantized = quantized
        linear = nil
        rows = quantized.rows
        columns = quantized.columns
    }

    init(dense: Tensor) {
        quantized = nil
        linear = LinearWeight(dense)
        rows = dense.shape[0]
        columns = dense.shape[1]
    }

    /// The rank of a LASER factored replacement, or nil.
    var factoredRank: Int? { linear?.factoredRank }

    /// The matrix's current value in Float32.
    var dense: Tensor { linear?.dense ?? quantized!.dequantized() }

    /// Replaces the value. Given exactly the dequantized original back (LASER's restore), the
    /// matrix returns to its quantized blocks.
    mutating func set(_ value: WeightValue) {
        if case .dense(let t) = value, let q = quantized, t.count == rows * columns,
            t.scalars == q.dequantized().scalars
        {
            linear = nil
            return
        }
        if linear == nil {
            linear = LinearWeight(Tensor(zeros: [rows, columns]))
        }
        linear!.set(value)
    }

    /// Row `r` into `out` (columns floats).
    func copyRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        if let linear, case .dense(let t) = linear.value {
            t.scalars.withUnsafeBufferPointer {
                out.update(from: $0.baseAddress! + r * columns, count: columns)
            }
        } else if linear == nil, let q = quantized {
            q.dequantizeRow(r, into: out)
        } else {
            dense.scalars.withUnsafeBufferPointer {
                out.update(from: $0.baseAddress! + r * columns, count: columns)
            }
        }
    }
}
