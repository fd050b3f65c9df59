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

    /// The reductions asked for, by the exact or the `--randomized` SVD.
    var request: ReductionRequest {
        ReductionRequest(
            matrices: tensors.enumerated().map { ($1, rhos.count == 1 ? rhos[0] : rhos[$0]) },
            interventions: interventions,
            method: randomized
                ? .randomized(
                    RandomizedSVDOptions(oversampling: 10, powerIterations: 2, seed: seed))
                : .exact)
    }

    @OptionGroup var threading: ThreadOptions

    func run() throws {
        try checkWritable(out, option: "--out")
        let gguf = FileFormat.of(path: file) == .gguf
        let reports = try gguf ? reduceGGUF() : reduceSafetensors()
        try printResult(reports, gguf: gguf)
    }

    /// A policy checkpoint (saved as one, which eval, watch and sweep load as they are) or any
    /// other safetensors file. A checkpoint's SVDs take OpenBLAS's own default thread count
    /// unless --blas-threads says otherwise.
    func reduceSafetensors() throws -> [ReductionReport] {
        threading.apply(blas: OpenBLASInfo.threads)
        try FileFormat.require(.safetensors, path: file, purpose: "a safetensors or GGUF file")
        if try SafetensorsFile(path: file).metadata["format"] == PolicyCheckpoint.format {
            return try naming(PolicyCheckpoint.reduce(file, request, to: out, factored: factored))
        }
        let model = try CheckpointModel(path: file)
        let reports = try request.apply(to: model)
        try model.write(to: out, factored: factored)
        return reports
    }

    /// GGUF: the language model reduced in memory, the reduced matrices written back densely. Its
    /// products run on the workers, so BLAS beside them on one thread.
    func reduceGGUF() throws -> [ReductionReport] {
        threading.apply()
        if factored {
            throw CLIError(
                "--factored applies to safetensors output only; GGUF stores reduced matrices densely"
            )
        }
        do {
            return try naming(
                GGUFReduction.reduce(
                    file, request, storage: GGUFStorage(rawValue: storage)!, to: out,
                    threads: threading.count))
        } catch let error as GGUFError {
            throw CLIError("\(file): \(error)")
        } catch let error as TextModelError {
            throw CLIError("\(file): \(error)")
        }
    }

    /// The reductions' errors: an intervention that names nothing says which flag it came from.
    func naming<T>(_ body: @autoclosure () throws -> T) throws -> T {
        do { return try body() } catch let error as LaserError {
            switch error {
            case .invalidIntervention, .noMatrixMatches: throw CLIError("--intervene: \(error)")
            default: throw error
            }
        }
    }
}
