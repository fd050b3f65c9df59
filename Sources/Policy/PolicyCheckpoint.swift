// Policy checkpoints in safetensors: parameters under their stable names, the architecture and its
// hyperparameters, step and data seed in `__metadata__`, optionally the Adam state for resuming.
import Core
import Foundation
import Laser
import LinearAlgebra

/// Saving and loading policy networks and their training state.
///
/// Layout: every parameter as F32 under its stable name in PyTorch's shape (a conv kernel is
/// out × in × kh × kw). With optimizer state, each parameter also has `optimizer.adam_m.NAME` and
/// `optimizer.adam_v.NAME`, flat (1-D) in the same element order, so tools that treat rank ≥ 2
/// tensors as matrices ignore them. Metadata keys: `format` = `laser-policy`, `format_version`,
/// `architecture` (`conv` | `transformer` | `decision-transformer`), `hp.KEY` for each hyperparameter,
/// `step`, `data_seed`,
/// `optimizer` (the optimizer config as JSON, when the state is included), plus caller keys.
/// A LASER-reduced matrix is saved as its dense reconstruction, or with `factored` as its two factors
/// `NAME.left` (m × k) and `NAME.right` (k × n, columns in PyTorch's order) listed in the metadata
/// key `laser.factored` (as `laser reduce --factored` writes them); loading such a file gives a
/// model that runs through the factors. Saved with a trainer, the reduced matrices are always
/// factors (training holds them at their ranks) beside every parameter's Adam moments, those of
/// the dense form the steps move. Saving goes through
/// `SafetensorsWriter` (temporary file + rename), so a crash never leaves a partial checkpoint.
public enum PolicyCheckpoint {
    public static let format = "laser-policy"
    public static let formatVersion = "1"
    static let momentPrefix = "optimizer.adam_m."
    static let secondMomentPrefix = "optimizer.adam_v."
    /// The metadata key listing the matrices stored as factors, comma-separated.
    public static let factoredKey = "laser.factored"

    /// A freshly initialised network of a named architecture.
    public static func makeModel(
        architecture: String, hyperparameters: [String: String], seed: UInt64
    )
        throws -> any PolicyNetwork
    {
        switch architecture {
        case "conv":
            return try ConvPolicy(
                config: ConvPolicyConfig(hyperparameters: hyperparameters), seed: seed)
        case "transformer":
            return try TransformerPolicy(
                config: TransformerPolicyConfig(hyperparameters: hyperparameters), seed: seed)
        case "decision-transformer":
            return try DecisionTransformer(
                config: DecisionTransformerConfig(hyperparameters: hyperparameters), seed: seed)
        default:
            throw PolicyError.invalidCheckpoint(
                "unknown architecture '\(architecture)' (expected conv, transformer or decision-transformer)"
            )
        }
    }

    /// Writes the model (and, given a trainer, its optimizer state and step) atomically.
    public static func save(
        model: any PolicyNetwork, trainer: PolicyTrainer? = nil, to path: String, step: Int? = nil,
        dataSeed: UInt64? = nil, metadata extra: [String: String] = [:], factored: Bool = false
    ) throws {
        if let trainer, trainer.model !== model {
            throw PolicyError.invalidCheckpoint("the trainer given trains another model")
        }
        // A trainer holds its reduced matrices at their ranks, so its checkpoint keeps them as
        // factors (a dense reconstruction would resume as a full-rank network); the Adam moments
        // stay those of the dense parameters the steps move.
        let factoredNames = factored || trainer != nil ? model.reducedMatrixNames : []
        var metadata = extra
        metadata["format"] = format
        metadata["format_version"] = formatVersion
        metadata["architecture"] = model.architectureName
        for (key, value) in model.hyperparameters { metadata["hp." + key] = value }
        if let step = step ?? trainer?.step { metadata["step"] = "\(step)" }
        if let dataSeed { metadata["data_seed"] = "\(dataSeed)" }
        var entries: [SafetensorsEntry] = []
        for info in model.parameters.infos {
            if factoredNames.contains(info.name), let f = model.factors(ofMatrix: info.name) {
                entries.append(SafetensorsEntry(name: info.name + ".left", tensor: f.left))
                entries.append(SafetensorsEntry(name: info.name + ".right", tensor: f.right))
                continue
            }
            entries.append(
                SafetensorsEntry(
                    name: info.name, tensor: try model.parameters.tensor(named: info.name)))
        }
        if !factoredNames.isEmpty { metadata[factoredKey] = factoredNames.joined(separator: ",") }
        if let trainer {
            // Sorted keys: the same run writes the same bytes.
            metadata["optimizer"] = try JSONEncoding.string(trainer.config)
            for info in model.parameters.infos {
                for (prefix, buffer) in [
                    (momentPrefix, trainer.adam.m), (secondMomentPrefix, trainer.adam.v),
                ] {
                    let values = ParameterStore.export(info, from: buffer)
                    entries.append(
                        SafetensorsEntry(
                            name: prefix + info.name,
                            tensor: Tensor(shape: [info.count], scalars: values)))
                }
            }
        }
        try SafetensorsWriter.write(entries, metadata: metadata, to: path)
    }

    /// A loaded checkpoint: the model, its metadata, and the optimizer state when present.
    public struct Loaded {
        public let model: any PolicyNetwork
        public let metadata: [String: String]
        /// Training step recorded in the file (0 when absent).
        public let step: Int
        /// Data seed recorded in the file.
        public let dataSeed: UInt64?
        /// The optimizer config saved with the state, when the file has optimizer state.
        public let optimizerConfig: OptimizerConfig?
        let file: SafetensorsFile
    }

    /// Reads a checkpoint, checking every name and shape against the architecture it declares.
    public static func load(from path: String) throws -> Loaded {
        let file = try SafetensorsFile(path: path)
        let metadata = file.metadata
        guard metadata["format"] == format else {
            throw PolicyError.invalidCheckpoint(
                "\(path) is not a policy checkpoint (metadata format is \(metadata["format"].map { "'\($0)'" } ?? "missing"), expected '\(format)')"
            )
        }
        guard metadata["format_version"] == formatVersion else {
            throw PolicyError.invalidCheckpoint(
                "\(path) has format_version \(metadata["format_version"].map { "'\($0)'" } ?? "missing"); this laser reads version \(formatVersion)"
            )
        }
        guard let architecture = metadata["architecture"] else {
            throw PolicyError.invalidCheckpoint("\(path) has no 'architecture' in its metadata")
        }
        var hyperparameters: [String: String] = [:]
        for (key, value) in metadata where key.hasPrefix("hp.") {
            hyperparameters[String(key.dropFirst(3))] = value
        }
        let model = try makeModel(
            architecture: architecture, hyperparameters: hyperparameters, seed: 0)

        let factoredNames = try factoredMatrixNames(metadata, model: model, path: path)
        let expected = Set(model.parameters.infos.map(\.name)).subtracting(factoredNames)
        let hasOptimizer = file.tensors.contains { $0.name.hasPrefix("optimizer.") }
        let parameterNames = Set(model.parameters.infos.map(\.name))
        let factorNames = Set(factoredNames.flatMap { [$0 + ".left", $0 + ".right"] })
        for tensor in file.tensors {
            let name = tensor.name
            if expected.contains(name) || factorNames.contains(name) { continue }
            if name.hasPrefix(momentPrefix)
                && parameterNames.contains(String(name.dropFirst(momentPrefix.count)))
            {
                continue
            }
            if name.hasPrefix(secondMomentPrefix)
                && parameterNames.contains(String(name.dropFirst(secondMomentPrefix.count)))
            {
                continue
            }
            throw PolicyError.invalidCheckpoint(
                "\(path): unexpected tensor '\(name)' for a \(architecture) policy")
        }
        for name in factoredNames {
            try loadFactors(of: name, from: file, into: model, path: path)
        }
        for info in model.parameters.infos where !factoredNames.contains(info.name) {
            guard let entry = file.info(named: info.name) else {
                throw PolicyError.invalidCheckpoint("\(path): missing tensor '\(info.name)'")
            }
            guard entry.shape == info.shape else {
                throw PolicyError.invalidCheckpoint(
                    "\(path): tensor '\(info.name)' has shape \(entry.shape), the \(architecture) policy needs \(info.shape)"
                )
            }
            let tensor = try file.tensor(named: info.name)
            try requireFinite(tensor.scalars, name: info.name, path: path)
            try model.parameters.setTensor(named: info.name, to: tensor)
        }
        // Every parameter has its moments, a factored matrix's being those of its dense form.
        for info in model.parameters.infos where hasOptimizer {
            for prefix in [momentPrefix, secondMomentPrefix] {
                guard let moment = file.info(named: prefix + info.name) else {
                    throw PolicyError.invalidCheckpoint(
                        "\(path): missing optimizer tensor '\(prefix + info.name)'")
                }
                guard moment.shape == [info.count] else {
                    throw PolicyError.invalidCheckpoint(
                        "\(path): optimizer tensor '\(prefix + info.name)' has shape \(moment.shape), expected [\(info.count)]"
                    )
                }
            }
        }
        var optimizerConfig: OptimizerConfig?
        if hasOptimizer {
            guard let text = metadata["optimizer"],
                let config = try? JSONDecoder().decode(OptimizerConfig.self, from: Data(text.utf8))
            else {
                throw PolicyError.invalidCheckpoint(
                    "\(path) has optimizer state but no readable 'optimizer' config")
            }
            optimizerConfig = config
        }
        let step =
            try metadata["step"].map { text -> Int in
                guard let value = Int(text), value >= 0 else {
                    throw PolicyError.invalidCheckpoint(
                        "\(path): step '\(text)' is not a non-negative integer")
                }
                return value
            } ?? 0
        let dataSeed = try metadata["data_seed"].map { text -> UInt64 in
            guard let value = UInt64(text) else {
                throw PolicyError.invalidCheckpoint(
                    "\(path): data_seed '\(text)' is not an unsigned integer")
            }
            return value
        }
        return Loaded(
            model: model, metadata: metadata, step: step, dataSeed: dataSeed,
            optimizerConfig: optimizerConfig, file: file)
    }

    /// Rebuilds a trainer from a checkpoint saved with its optimizer state: same weights, Adam
    /// moments and step, so training continues exactly where it stopped. `config` overrides the
    /// saved optimizer config (for example a longer schedule).
    public static func resume(
        from path: String, batchCapacity: Int, config: OptimizerConfig? = nil
    ) throws -> PolicyTrainer {
        let loaded = try load(from: path)
        guard let saved = loaded.optimizerConfig else {
            throw PolicyError.invalidCheckpoint("\(path) holds no optimizer state to resume from")
        }
        let trainer = try PolicyTrainer(
            model: loaded.model, config: config ?? saved, batchCapacity: batchCapacity)
        for info in loaded.model.parameters.infos {
            let m = try loaded.file.tensor(named: momentPrefix + info.name).scalars
            let v = try loaded.file.tensor(named: secondMomentPrefix + info.name).scalars
            try requireFinite(m, name: momentPrefix + info.name, path: path)
            try requireFinite(v, name: secondMomentPrefix + info.name, path: path)
            ParameterStore.import(info, m, into: trainer.adam.m)
            ParameterStore.import(info, v, into: trainer.adam.v)
        }
        trainer.step = loaded.step
        return trainer
    }

    /// The matrices `laser.factored` lists, each checked to be a reducible matrix of the model.
    static func factoredMatrixNames(
        _ metadata: [String: String], model: any PolicyNetwork, path: String
    ) throws -> [String] {
        guard let list = metadata[factoredKey], !list.isEmpty else { return [] }
        let names = list.split(separator: ",").map(String.init)
        let known = Set(model.reducibleMatrices.map(\.name))
        for name in names where !known.contains(name) {
            throw PolicyError.invalidCheckpoint(
                "\(path): '\(factoredKey)' names '\(name)', not a reducible matrix of this policy")
        }
        guard Set(names).count == names.count else {
            throw PolicyError.invalidCheckpoint("\(path): '\(factoredKey)' lists a matrix twice")
        }
        return names
    }

    /// Reads NAME.left (m × k) and NAME.right (k × n) and hands the model the factored matrix.
    static func loadFactors(
        of name: String, from file: SafetensorsFile, into model: any PolicyNetwork, path: String
    ) throws {
        let info = try model.matrixInfo(named: name)
        guard let left = file.info(named: name + ".left"),
            let right = file.info(named: name + ".right")
        else {
            throw PolicyError.invalidCheckpoint(
                "\(path): the factored matrix '\(name)' needs tensors '\(name).left' and '\(name).right'"
            )
        }
        guard left.shape.count == 2, right.shape.count == 2, left.shape[0] == info.rows,
            right.shape[1] == info.columns, left.shape[1] == right.shape[0],
            (1...info.fullRank).contains(left.shape[1])
        else {
            throw PolicyError.invalidCheckpoint(
                "\(path): factors of '\(name)' have shapes \(left.shape) and \(right.shape); the matrix is \(info.rows) × \(info.columns) (left m × k, right k × n, 1 ≤ k ≤ \(info.fullRank))"
            )
        }
        let l = try file.tensor(named: name + ".left")
        let r = try file.tensor(named: name + ".right")
        try requireFinite(l.scalars, name: name + ".left", path: path)
        try requireFinite(r.scalars, name: name + ".right", path: path)
        try model.setWeightMatrix(named: name, to: .factored(FactoredMatrix(left: l, right: r)))
    }

    /// A NaN or infinite weight would make every output meaningless (a policy scored 0% solved
    /// without a word): refused at load, naming the tensor.
    static func requireFinite(_ values: [Float], name: String, path: String) throws {
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw PolicyError.invalidCheckpoint(
                "\(path): tensor '\(name)' holds a non-finite value (\(values[i])) at element \(i)")
        }
    }
}
