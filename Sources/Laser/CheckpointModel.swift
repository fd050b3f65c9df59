// Any safetensors checkpoint as a ReducibleModel: every floating matrix (or conv kernel) is reducible.
import LinearAlgebra

/// The matrices of a safetensors file, held in memory so they can be reduced and written back.
///
/// Layer and type come from the tensor name: the first all-digit component is the layer
/// (`layers.27.mlp.fc_in.weight` → 27; none → -1) and the last component other than a digit,
/// `weight` or `bias` is the type (`fc_in`). Tensors of rank ≥ 2 in F32, F16 or BF16 are
/// reducible, viewed as first dimension × the rest (a conv kernel is out × in·kh·kw).
public final class CheckpointModel: ReducibleModel {
    public let file: SafetensorsFile
    public let reducibleMatrices: [WeightMatrixInfo]
    /// Current values of matrices that were replaced.
    public private(set) var replaced: [String: WeightValue] = [:]

    public init(path: String) throws {
        file = try SafetensorsFile(path: path)
        reducibleMatrices = file.tensors.compactMap { info in
            guard info.shape.count >= 2, [.f32, .f16, .bf16].contains(info.dtype),
                info.elementCount > 0
            else { return nil }
            let (layer, type) = Self.parseName(info.name)
            return WeightMatrixInfo(
                name: info.name, layer: layer, type: type, rows: info.shape[0],
                columns: info.shape.dropFirst().reduce(1, *))
        }
    }

    /// (layer, type) from a dotted tensor name.
    public static func parseName(_ name: String) -> (Int, String) {
        let parts = name.split(separator: ".").map(String.init)
        let layer =
            parts.first { !$0.isEmpty && $0.allSatisfy(\.isNumber) }.flatMap { Int($0) } ?? -1
        let type =
            parts.last { !($0.allSatisfy(\.isNumber)) && $0 != "weight" && $0 != "bias" } ?? name
        return (layer, type)
    }

    public func weightMatrix(named name: String) throws -> Tensor {
        let info = try matrixInfo(named: name)
        if let value = replaced[name] { return value.dense }
        return try file.tensor(named: name).reshaped([info.rows, info.columns])
    }

    public func setWeightMatrix(named name: String, to value: WeightValue) throws {
        _ = try matrixInfo(named: name)
        replaced[name] = value
    }

    /// Writes the checkpoint with its current values: unchanged tensors byte for byte, replaced ones
    /// dense in their original shape, or — with `factored` — as `NAME.left` (m × k) and
    /// `NAME.right` (k × n) in F32, listed in the metadata key `laser.factored`.
    public func write(to path: String, factored: Bool, extraMetadata: [String: String] = [:]) throws
    {
        var entries: [SafetensorsEntry] = []
        var factoredNames: [String] = []
        for info in file.tensors {
            if let value = replaced[info.name] {
                // Factors only pay when k·(m+n) < m·n; otherwise the dense matrix is smaller.
                if factored, case .factored(let f) = value, f.parameterCount < f.rows * f.columns {
                    entries.append(SafetensorsEntry(name: info.name + ".left", tensor: f.left))
                    entries.append(SafetensorsEntry(name: info.name + ".right", tensor: f.right))
                    factoredNames.append(info.name)
                } else {
                    // Dense values keep the original dtype when it can be written (F32/F16), else F32.
                    let dtype: SafetensorsDType = info.dtype == .f16 ? .f16 : .f32
                    entries.append(
                        SafetensorsEntry(
                            name: info.name, tensor: value.dense.reshaped(info.shape), dtype: dtype)
                    )
                }
            } else {
                let raw = try file.rawBytes(named: info.name)
                entries.append(
                    SafetensorsEntry(
                        name: info.name, dtype: info.dtype, shape: info.shape, data: Array(raw)))
            }
        }
        var metadata = file.metadata.merging(extraMetadata) { _, new in new }
        if !factoredNames.isEmpty {
            metadata["laser.factored"] = factoredNames.joined(separator: ",")
        }
        try SafetensorsWriter.write(entries, metadata: metadata, to: path)
    }
}
