// Options and helpers the language-model subcommands share: finding and loading the GGUF model.
import ArgumentParser
import Core
import Foundation
import Laser
import LinearAlgebra
import TextModel

/// `--model`, the threads, the weight format and `--intervene`, and loading the model with the
/// interventions applied.
struct TextModelOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "A GGUF file (architecture llama or gemma3), or a fetched model's name (smollm2, gemma3-270m); default: $LASER_MODEL, else the cached SmolLM2-135M-Instruct.",
            valueName: "path"))
    var model: String?

    @OptionGroup var threading: ThreadOptions
    /// Earlier releases' name for --workers.
    @Option(name: .customLong("threads"), help: .hidden) var legacyThreads: Int?

    /// Threads of the forward pass: --workers (or the old --threads), else $LASER_WORKERS, else
    /// every core.
    var threads: Int { legacyThreads ?? threading.count }

    @Option(
        help: ArgumentHelp(
            "quantized: multiply Q4_0/Q4_1/Q5_0/Q8_0/Q4_K/Q6_K weights as stored; float32: dequantize every weight at load (the reference path).",
            valueName: "format"))
    var weights: WeightFormat = .quantized

    @Option(
        name: .customLong("intervene"), parsing: .singleValue,
        help: ArgumentHelp(
            "Reduce matrices before running, LAYER:TYPE:RHO (repeatable); see `laser --help`.",
            valueName: "LAYER:TYPE:RHO"), transform: interventionArgument)
    var interventions: [Intervention] = []

    func validate() throws {
        if let legacyThreads, !(1...256).contains(legacyThreads) {
            throw ValidationError("--threads must be in 1...256")
        }
    }

    /// The model path: `--model`, else the default model's location, else a clear error.
    func modelPath() throws -> String { try resolveModelPath(model) }

    /// Loads the model and applies `--intervene` (factored, so the forward uses the factors).
    func load(verbose: Bool = true) throws -> (LlamaModel, [ReductionReport]) {
        let llama = try loadTextModel(
            path: model, threads: threads, weights: weights, verbose: verbose)
        return (llama, try applyInterventions(to: llama, verbose: verbose))
    }

    /// Applies `--intervene` to a loaded model (factored, so the forward uses the factors).
    func applyInterventions(to llama: LlamaModel, verbose: Bool = true) throws -> [ReductionReport]
    {
        guard !interventions.isEmpty else { return [] }
        let reports = try Reducer(model: llama).apply(interventions)
        if verbose { report(reports) }
        return reports
    }

    /// One line on standard error for each reduced matrix.
    func report(_ reports: [ReductionReport]) {
        for r in reports {
            stderrLine(
                "reduced \(r.name) (\(r.type)) to rank \(r.rankKept)/\(r.fullRank), "
                    + String(format: "relative error %.3f", r.relativeError))
        }
    }
}

/// The given model path (or a known model's name: its fetched file), else the default model's
/// location, else a clear error.
func resolveModelPath(_ given: String?) throws -> String {
    if let name = given, let known = KnownModel.named(name),
        !FileManager.default.fileExists(atPath: name)
    {
        if let path = DefaultModel.locate(known) { return path }
        throw CLIError(
            "\(known.title) is not fetched (no \(known.cachedPath)): run `laser fetch-model --model \(name)` or scripts/fetch-model.sh \(name)"
        )
    }
    if let path = given { return path }
    if let path = DefaultModel.locate() { return path }
    throw CLIError(
        "no model given and none cached at \(DefaultModel.cachedPath): run scripts/fetch-model.sh "
            + "or `laser fetch-model`, or pass --model PATH")
}

/// Loads a GGUF language model running on `threads` threads.
func loadTextModel(
    path given: String?, threads: Int, weights: WeightFormat = .quantized, verbose: Bool
) throws -> LlamaModel {
    let path = try resolveModelPath(given)
    try FileFormat.require(.gguf, path: path, purpose: "a GGUF language model")
    let start = Date()
    let llama: LlamaModel
    do {
        llama = try LlamaModel(path: path, weights: weights, threads: threads)
    } catch let error as GGUFError {
        throw CLIError("\(path): \(error)")
    }
    if verbose {
        stderrLine(
            String(
                format: "loaded %@ in %.1fs", (path as NSString).lastPathComponent,
                Date().timeIntervalSince(start)))
    }
    return llama
}

/// Writes one line to standard error.
func stderrLine(_ text: String) {
    StandardError.write(text + "\n")
}

extension WeightFormat: ExpressibleByArgument {}
