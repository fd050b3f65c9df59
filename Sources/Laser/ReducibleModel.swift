// The protocol a model adopts so the Laser module can reduce its weights without knowing the model.
import LinearAlgebra

/// One weight matrix a model exposes to LASER.
public struct WeightMatrixInfo: Sendable, Hashable, Codable {
    /// Stable name, the same as in the model's checkpoint (`layers.2.mlp.fc_in.weight`).
    public let name: String
    /// Layer index, 0-based; matrices outside the layer stack use -1 (embeddings) or the count (heads).
    public let layer: Int
    /// Free-form type (`fc_in`, `fc_up`, `fc_out`, `q_proj`, `k_proj`, `v_proj`, `out_proj`, `conv`, `head`).
    public let type: String
    /// The matrix shape: rows × columns (a conv kernel is out × in·kh·kw).
    public let rows: Int
    public let columns: Int

    public init(name: String, layer: Int, type: String, rows: Int, columns: Int) {
        self.name = name
        self.layer = layer
        self.type = type
        self.rows = rows
        self.columns = columns
    }

    /// The largest rank the matrix can have.
    public var fullRank: Int { min(rows, columns) }
}

/// A matrix's value as a model holds it: dense, or as two low-rank factors it multiplies through.
public enum WeightValue: Sendable {
    case dense(Tensor)
    case factored(FactoredMatrix)

    /// The dense matrix this value stands for.
    public var dense: Tensor {
        switch self {
        case .dense(let t): return t
        case .factored(let f): return f.reconstructed()
        }
    }
}

/// A model whose weight matrices LASER can read and replace.
///
/// The Laser module knows nothing else of the model: the same code reduces, composes, searches,
/// restores and reports for a Sokoban policy and for a language model.
public protocol ReducibleModel: AnyObject {
    /// Every matrix LASER may reduce, in a stable order.
    var reducibleMatrices: [WeightMatrixInfo] { get }
    /// Named groups of types (`mlp`, `attn`); the group `all` is always every type.
    var typeGroups: [String: Set<String>] { get }
    /// The matrix's current dense value, shaped rows × columns.
    func weightMatrix(named name: String) throws -> Tensor
    /// Replaces the matrix; a model given `.factored` computes its forward pass through the factors.
    func setWeightMatrix(named name: String, to value: WeightValue) throws
}

extension ReducibleModel {
    /// The paper code's groups by default: MLP and attention projections.
    public var typeGroups: [String: Set<String>] {
        [
            "mlp": ["fc_in", "fc_up", "fc_out"],
            "attn": ["q_proj", "k_proj", "v_proj", "out_proj"],
        ]
    }

    /// The info for a name, or a `LaserError.unknownMatrix`.
    public func matrixInfo(named name: String) throws -> WeightMatrixInfo {
        guard let info = reducibleMatrices.first(where: { $0.name == name }) else {
            throw LaserError.unknownMatrix(name, known: reducibleMatrices.map(\.name))
        }
        return info
    }

    /// Layer indices present among the reducible matrices, ascending.
    public var layerIndices: [Int] { Array(Set(reducibleMatrices.map(\.layer))).sorted() }
    /// Types present among the reducible matrices, in first-seen order.
    public var matrixTypes: [String] {
        var seen: [String] = []
        for m in reducibleMatrices where !seen.contains(m.type) { seen.append(m.type) }
        return seen
    }
}
