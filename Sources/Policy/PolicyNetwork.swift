// What every policy architecture offers: batched forward/backward over contexts, its parameters,
// and its LASER addresses.
import Laser
import LinearAlgebra

/// A network from (B, planes, 10, 10) observation planes to 4 action logits and a value.
///
/// Thread safety: `forward` only reads the weights, so any number of threads may run it at once,
/// each with its own `PolicyContext`. Changing weights (training, `setWeightMatrix`, loading)
/// must not overlap with forward passes.
public protocol PolicyNetwork: ReducibleModel, Sendable {
    /// `conv` or `transformer`.
    var architectureName: String { get }
    /// The hyperparameters as strings (they go into checkpoint metadata).
    var hyperparameters: [String: String] { get }
    /// Observation planes per cell.
    var planeCount: Int { get }
    /// All parameters, in one allocation.
    var parameters: ParameterStore { get }
    /// Names of the matrices currently held in factored (LASER-reduced) form.
    var reducedMatrixNames: [String] { get }
    /// The two factors of a matrix held in factored form (m × k and k × n, columns in the
    /// checkpoint's order), nil when it is dense.
    func factors(ofMatrix name: String) -> FactoredMatrix?
    /// A workspace for batches of up to `batchCapacity` observations.
    func makeContext(batchCapacity: Int) -> PolicyContext
    /// Computes logits and values for the first `batch` observations of the context's input.
    func forward(_ context: PolicyContext, batch: Int)
    /// Adds the gradients of the loss whose output gradients the context holds (for the batch of
    /// its last forward pass) into `gradients`.
    func backward(_ context: PolicyContext, gradients: ParameterGradients)
}

extension PolicyNetwork {
    /// Parameters as the network computes with them: a matrix held as factors counts k·(m+n)
    /// instead of m·n.
    public var storedParameterCount: Int {
        reducedMatrixNames.reduce(parameters.parameterCount) { n, name in
            guard let f = factors(ofMatrix: name) else { return n }
            return n - f.rows * f.columns + f.parameterCount
        }
    }

    /// A fresh gradient buffer laid out like the parameters.
    public func makeGradients() -> ParameterGradients { ParameterGradients(like: parameters) }

    /// Logits and values of a batch in new arrays (a convenience; loops reuse a context instead).
    public func predict(observations: [Float], batch: Int) throws -> (
        logits: [Float], values: [Float]
    ) {
        let context = makeContext(batchCapacity: batch)
        try context.setObservations(observations, batch: batch)
        forward(context, batch: batch)
        var logits: [Float] = []
        var values: [Float] = []
        context.copyOutputs(logits: &logits, values: &values)
        return (logits, values)
    }
}

/// Gradients (or any other per-parameter state) laid out exactly like a model's parameters.
public final class ParameterGradients: @unchecked Sendable {
    let store: ParameterStore
    let buffer: FloatBuffer

    init(like store: ParameterStore) {
        self.store = store
        buffer = FloatBuffer(count: store.allocatedCount)
    }

    public func zero() { buffer.zero() }

    /// The gradient of one parameter in its exported shape.
    public func tensor(named name: String) throws -> Tensor {
        let info = try store.info(named: name)
        return Tensor(shape: info.shape, scalars: ParameterStore.export(info, from: buffer))
    }

    /// The global L2 norm, accumulated in Double.
    public var norm: Double {
        var sum = 0.0
        let p = buffer.pointer
        for i in 0..<buffer.count { sum += Double(p[i]) * Double(p[i]) }
        return sum.squareRoot()
    }
}

/// The LASER side shared by both architectures: which parameters are reducible matrices, and the
/// factored forms the forward pass multiplies through.
final class ReducibleParameters: @unchecked Sendable {
    let infos: [WeightMatrixInfo]
    private let parameterInfos: [ParameterInfo]
    private let indexByName: [String: Int]
    /// The factored form of matrix i when it is reduced, nil when dense.
    private(set) var reduced: [LinearWeight?]
    /// The same factors with the right factor's columns in the exported (checkpoint) order.
    private(set) var exportedFactors: [FactoredMatrix?]

    /// The matrices `exposed` (name, layer, type) of `store` offered to LASER, in that order; a
    /// conv kernel is viewed as out × in·kh·kw.
    convenience init(store: ParameterStore, exposing exposed: [(String, Int, String)]) throws {
        self.init(
            try exposed.map { name, layer, type in
                let info = try store.info(named: name)
                return (
                    WeightMatrixInfo(
                        name: name, layer: layer, type: type, rows: info.shape[0],
                        columns: info.count / info.shape[0]), info
                )
            })
    }

    /// Where layer `name`'s weight and bias live in `store`, and its matrix's index when exposed.
    func offsets(_ name: String, in store: ParameterStore) -> LayerOffsets {
        LayerOffsets(
            weight: store.offset(of: name + ".weight"), bias: store.offset(of: name + ".bias"),
            matrix: infos.firstIndex { $0.name == name + ".weight" })
    }

    init(_ entries: [(info: WeightMatrixInfo, parameter: ParameterInfo)]) {
        infos = entries.map(\.info)
        parameterInfos = entries.map(\.parameter)
        reduced = Array(repeating: nil, count: entries.count)
        exportedFactors = reduced.map { _ in nil }
        var index: [String: Int] = [:]
        for (i, e) in entries.enumerated() { index[e.info.name] = i }
        indexByName = index
    }

    /// Largest full rank of any matrix (sizes the factored-product scratch).
    var maximumRank: Int { infos.map(\.fullRank).max() ?? 0 }

    /// The factors of a reduced matrix (right factor in the exported column order), nil when the
    /// matrix is dense or unknown.
    func factors(named name: String) -> FactoredMatrix? {
        indexByName[name].flatMap { exportedFactors[$0] }
    }

    /// Names of the matrices currently reduced.
    var reducedNames: [String] { zip(infos, reduced).compactMap { $1 == nil ? nil : $0.name } }

    private func index(of name: String) throws -> Int {
        guard let i = indexByName[name] else {
            throw LaserError.unknownMatrix(name, known: infos.map(\.name))
        }
        return i
    }

    func matrix(named name: String, in store: ParameterStore) throws -> Tensor {
        let i = try index(of: name)
        let info = infos[i]
        return try store.tensor(named: name).reshaped([info.rows, info.columns])
    }

    func setMatrix(named name: String, to value: WeightValue, in store: ParameterStore) throws {
        let i = try index(of: name)
        let info = infos[i]
        let parameter = parameterInfos[i]
        switch value {
        case .dense(let t):
            guard t.count == info.rows * info.columns else {
                throw PolicyError.shapeMismatch(
                    name: name, expected: [info.rows, info.columns], got: t.shape)
            }
            try store.setTensor(named: name, to: t.reshaped(parameter.shape))
            reduced[i] = nil
            exportedFactors[i] = nil
        case .factored(let f):
            guard f.rows == info.rows && f.columns == info.columns else {
                throw PolicyError.shapeMismatch(
                    name: name, expected: [info.rows, info.columns], got: [f.rows, f.columns])
            }
            // The dense view (checkpoints, weightMatrix) holds the reconstruction; the forward
            // pass uses the factors, with the right factor's columns in the stored kernel order.
            try store.setTensor(named: name, to: f.reconstructed().reshaped(parameter.shape))
            let map = ParameterStore.storedColumns(of: parameter)
            var right = Tensor(zeros: [f.rank, f.columns])
            for r in 0..<f.rank {
                for j in 0..<f.columns {
                    right.scalars[r * f.columns + j] = f.right.scalars[r * f.columns + map[j]]
                }
            }
            var weight = LinearWeight(Tensor(zeros: [info.rows, info.columns]))
            weight.set(.factored(FactoredMatrix(left: f.left, right: right)))
            reduced[i] = weight
            exportedFactors[i] = f
        }
    }
}
