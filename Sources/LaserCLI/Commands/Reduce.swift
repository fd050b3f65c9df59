// `laser reduce`: LASER on named tensors (or LAYER:TYPE:RHO) of a safetensors file, written to a new file.
import ArgumentParser
import Foundation
import Laser
import LinearAlgebra
import Policy
import TextModel

struct Reduce: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Replace matrices of a safetensors or GGUF file by their best rank-k approximations.",
        discussion: """
            Name matrices with --tensor NAME --rho R (repeatable; one --rho applies to every --tensor, otherwise give one per tensor) or with --intervene LAYER:TYPE:RHO (layer and type parsed from tensor names, see `laser inspect --help`). k = max(1, ⌊ρ·min(m, n)⌋).

            A GGUF language model (llama or gemma3 architecture) is written as a GGUF file llama.cpp loads: every metadata key (the tokenizer too) and every other tensor copied as stored, the reduced matrices stored as --storage: f16 by default (2 bytes per value, rounding error about 5·10⁻⁴ relative, so the file scores like --intervene on the original) or q8_0 (1.06 bytes per value, about 0.4% error). Requantizing to 4 bits would add noise of the size LASER's effects are measured in.

            A safetensors output is a standard safetensors file: reduced matrices stored dense in their original shape (PyTorch loads it as before), or with --factored as two tensors NAME.left (m × k, U_k·diag(S_k)) and NAME.right (k × n, V_kᵀ), listed in the metadata key laser.factored. Every other tensor is copied byte for byte.
            """ + "\n\n" + InterventionHelp.text)

    @Argument(
        help:
            "The input: a .safetensors file, a GGUF file, or a fetched model's name (smollm2, gemma3-270m)."
    ) var file: String
    @Option(name: .customLong("tensor"), help: "A tensor to reduce (repeatable).") var tensors:
        [String] = []
    @Option(
        name: .customLong("rho"),
        help: "Fraction of rank kept, in (0, 1] (one, or one per --tensor).") var rhos: [Double] =
            []
    @Option(
        name: .customLong("intervene"),
        help: ArgumentHelp("An intervention (repeatable).", valueName: "LAYER:TYPE:RHO"),
        transform: interventionArgument)
    var interventions: [Intervention] = []
    @Option(help: "Where to write the reduced file.") var out: String
    @Flag(help: "Store reduced matrices as their two factors (safetensors only).") var factored =
        false
    @Option(help: "GGUF only: how reduced matrices are stored, f16 or q8_0.") var storage = "f16"
    @Flag(help: "Print the reports as JSON.") var json = false
    @Flag(
        help:
            "Use the randomized truncated SVD (Halko et al.; 10 extra samples, 2 power iterations) instead of the exact one."
    )
    var randomized = false
    @Option(help: "Seed of the randomized SVD.") var seed: UInt64 = 0

    mutating func validate() throws {
        file = try resolveModelPath(file)  // a fetched model's name → its file; a path as given
        if tensors.isEmpty && interventions.isEmpty {
            throw ValidationError(
                "name what to reduce: --tensor NAME --rho R, or --intervene LAYER:TYPE:RHO")
        }
        if !tensors.isEmpty && !(rhos.count == 1 || rhos.count == tensors.count) {
            throw ValidationError(
                "give one --rho for all tensors or one per --tensor (\(tensors.count) tensors, \(rhos.count) values)"
            )
        }
        if tensors.isEmpty && !rhos.isEmpty { throw ValidationError("--rho needs --tensor") }
        for r in rhos where !(r > 0 && r <= 1) {
            throw ValidationError("ρ must be in (0, 1], got \(r)")
        }
        guard GGUFStorage(rawValue: storage) != nil else {
            throw ValidationError("--storage must be f16 or q8_0, not '\(storage)'")
        }
        if URL(fileURLWithPath: out).standardized.path
            == URL(fileURLWithPath: file).standardized.path
        {
            throw ValidationError(
                "--out must differ from the input file (it is memory-mapped while writing)")
        }
    }

    /// A reducer over `model` (exact or `--randomized` SVD) with the `--tensor`/`--rho` reductions
    /// applied.
    func reducerWithTensorsApplied<Model: ReducibleModel>(_ model: Model) throws -> Reducer<Model> {
        let reducer = Reducer(model: model, storage: .factored)
        if randomized {
            reducer.method = .randomized(
                RandomizedSVDOptions(oversampling: 10, powerIterations: 2, seed: seed))
        }
        for (i, name) in tensors.enumerated() {
            try reducer.apply(matrix: name, rho: rhos.count == 1 ? rhos[0] : rhos[i])
        }
        return reducer
    }

    @OptionGroup var threading: ThreadOptions

    func run() throws {
        try checkWritable(out, option: "--out")
        // The language model's products run on the workers, so BLAS beside them on one thread;
        // a checkpoint's SVDs take OpenBLAS's own default unless --blas-threads says otherwise.
        if FileFormat.of(path: file) == .gguf {
            threading.apply()
            return try reduceGGUF()
        }
        threading.apply(blas: OpenBLASInfo.threads)
        try FileFormat.require(.safetensors, path: file, purpose: "a safetensors or GGUF file")
        let reports: [ReductionReport]
        if try SafetensorsFile(path: file).metadata["format"] == PolicyCheckpoint.format {
            reports = try reducePolicy()
        } else {
            let model = try CheckpointModel(path: file)
            let reducer = try reducerWithTensorsApplied(model)
            try reducer.apply(interventions)
            reports = model.reducibleMatrices.compactMap { reducer.reports[$0.name] }
            try model.write(to: out, factored: factored)
        }
        let before = fileSize(file)
        let after = fileSize(out)
        if json {
            struct Output: Encodable {
                let input: String, output: String, bytesBefore: Int, bytesAfter: Int,
                    factored: Bool, reductions: [ReductionReport]
            }
            print(
                try jsonText(
                    Output(
                        input: file, output: out, bytesBefore: before, bytesAfter: after,
                        factored: factored, reductions: reports)))
            return
        }
        print(
            table(
                [
                    "matrix", "shape", "rank kept", "params dense → factored", "rel. error",
                    "energy kept",
                ],
                reports.map {
                    [
                        "\($0.name)", "\($0.rows)×\($0.columns)", "\($0.rankKept)/\($0.fullRank)",
                        "\($0.parametersBefore) → \($0.parametersAfter)",
                        String(format: "%.4f", $0.relativeError),
                        String(format: "%.4f", $0.energyKept),
                    ]
                }))
        let change = before > 0 ? 100 * Double(before - after) / Double(before) : 0
        print(
            "wrote \(out): \(formatBytes(after)) (input \(formatBytes(before)); \(factored ? String(format: "%.1f%% smaller", change) : "dense, same layout"))"
        )
    }

    /// A policy checkpoint: reduced through the policy's own LASER addresses (`3:conv:0.5`) and
    /// saved as a policy checkpoint that eval, watch and sweep load as they are, with
    /// `reduced_from` (the input's path) and `interventions` (all applied so far) in its metadata;
    /// with --factored it runs through the factors. Optimizer state is not carried over.
    func reducePolicy() throws -> [ReductionReport] {
        let loaded = try PolicyCheckpoint.load(from: file)
        let model = loaded.model
        func reduce<M: PolicyNetwork>(_ m: M) throws -> [String: ReductionReport] {
            let reducer = try reducerWithTensorsApplied(m)
            do { try reducer.apply(interventions) } catch {
                throw CLIError("--intervene: \(error)")
            }
            return reducer.reports
        }
        let reports = try reduce(model)
        var metadata: [String: String] = [:]
        for key in ["reduced_from", "interventions"] { metadata[key] = loaded.metadata[key] }
        // A file reduced again keeps the first parent and every intervention, in order.
        metadata["reduced_from"] = loaded.metadata["reduced_from"] ?? file
        let applied =
            (loaded.metadata["interventions"].map { $0.split(separator: ",").map(String.init) }
                ?? [])
            + tensors.enumerated().map { i, name in
                "\(name)@\(Intervention.format(rhos.count == 1 ? rhos[0] : rhos[i]))"
            } + interventions.map(\.description)
        metadata["interventions"] = applied.joined(separator: ",")
        try PolicyCheckpoint.save(
            model: model, to: out, step: loaded.step, dataSeed: loaded.dataSeed,
            metadata: metadata, factored: factored)
        return model.reducibleMatrices.compactMap { reports[$0.name] }
    }

    /// GGUF: the Llama model reduced in memory, the reduced matrices written back densely.
    func reduceGGUF() throws {
        if factored {
            throw CLIError(
                "--factored applies to safetensors output only; GGUF stores reduced matrices densely"
            )
        }
        let source: GGUFFile
        do { source = try GGUFFile(path: file) } catch let error as GGUFError {
            throw CLIError("\(file): \(error)")
        }
        let architecture = (try? source.string("general.architecture")) ?? "unknown"
        guard Architecture(rawValue: architecture) != nil else {
            throw CLIError(
                "\(file): a '\(architecture)' GGUF; only \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")) models can be reduced"
            )
        }
        let model = try loadTextModel(path: file, threads: threading.count, verbose: false)
        let reducer = try reducerWithTensorsApplied(model)
        do { try reducer.apply(interventions) } catch {
            throw CLIError("--intervene: \(error)")
        }
        let reports = model.reducibleMatrices.compactMap { reducer.reports[$0.name] }
        var replacements: [String: Tensor] = [:]
        for r in reports { replacements[r.name] = try model.weightMatrix(named: r.name) }
        try GGUFWriter.write(
            copying: source, replacing: replacements, storage: GGUFStorage(rawValue: storage)!,
            to: out)
        if json {
            struct Output: Encodable {
                let input: String, output: String, bytesBefore: Int, bytesAfter: Int,
                    storage: String
                let reductions: [ReductionReport]
            }
            print(
                try jsonText(
                    Output(
                        input: file, output: out, bytesBefore: fileSize(file),
                        bytesAfter: fileSize(out),
                        storage: storage, reductions: reports)))
            return
        }
        print(
            table(
                ["matrix", "shape", "rank kept", "rel. error", "energy kept"],
                reports.map {
                    [
                        "\($0.name)", "\($0.rows)×\($0.columns)", "\($0.rankKept)/\($0.fullRank)",
                        String(format: "%.4f", $0.relativeError),
                        String(format: "%.4f", $0.energyKept),
                    ]
                }))
        print(
            "wrote \(out) (\(formatBytes(fileSize(out))); reduced matrices as \(storage.uppercased()), everything else as in \(file))"
        )
    }
}
