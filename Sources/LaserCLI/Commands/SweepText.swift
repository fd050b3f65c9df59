// The language-model half of `laser sweep` (--model / --dataset): LASER over a QA dataset through
// the Laser module's search (validation → test protocol, resumable, shardable, greedy composition).
import ArgumentParser
import Core
import Foundation
import Laser
import LinearAlgebra
import TextModel

/// The options of a sweep over the language model; the objective is a QA metric.
struct TextSweepOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp("The QA dataset (default: data/qa/known_facts.json).", valueName: "file")
    )
    var dataset: String?
    @Option(help: "Fraction of items (from the start) used for validation.")
    var validationFraction = 0.2
    @Option(help: "Metric chosen on validation: top1, topk, mean_logprob or generation_match.")
    var objective = "top1"
    @Option(help: "k of the top-k metric.") var topK = 5
    @Option(help: "Greedy continuation length when the objective is generation_match.")
    var maxNewTokens = 10
    @Option(help: ArgumentHelp("A GGUF file (default: the cached SmolLM2).", valueName: "path"))
    var model: String?
    /// Earlier releases' name for the forward pass's threads (now --workers).
    @Option(help: .hidden) var threads: Int?
    @Option(
        help: ArgumentHelp(
            "Also measure the chosen reduction's side effects on this text: perplexity (llama-perplexity's method) and the KL divergence from the unreduced model (see `laser perplexity`).",
            valueName: "file"))
    var text: String?
    @Option(help: "With --text: tokens per chunk.") var textContext = 512
    @Option(help: "With --text: score only the first N chunks.") var textChunks: Int?

    static let objectives = ["top1", "topk", "mean_logprob", "generation_match"]

    func validate() throws {
        guard validationFraction > 0 && validationFraction < 1 else {
            throw ValidationError("--validation-fraction must be in (0, 1)")
        }
        guard Self.objectives.contains(objective) else {
            throw ValidationError(
                "--objective must be one of \(Self.objectives.joined(separator: ", "))")
        }
        guard topK >= 1 else { throw ValidationError("--top-k must be at least 1") }
        guard maxNewTokens >= 1 && maxNewTokens <= 256 else {
            throw ValidationError("--max-new-tokens must be in 1...256")
        }
        if let threads, !(1...256).contains(threads) {
            throw ValidationError("--threads must be in 1...256")
        }
        guard textContext >= 4 && textContext <= 8192 else {
            throw ValidationError("--text-context must be in 4...8192")
        }
        if let textChunks, textChunks < 1 {
            throw ValidationError("--text-chunks must be at least 1")
        }
    }

    /// The side effects on --text: the sweep's model (reduced when measured) against an unreduced
    /// copy loaded beside it.
    func perplexityShift(model llama: LlamaModel, workers: Int) throws -> SideEffectMeasure? {
        guard let text else { return nil }
        let prose = try PerplexityCommand.readText(text)
        let unreduced = try loadTextModel(path: model, threads: workers, verbose: false)
        let tokens = unreduced.tokenizer.encode(prose)
        let name = (text as NSString).lastPathComponent
        return SideEffectMeasure { interventions in
            stderrLine(
                "side effects on \(name) (\(interventions.isEmpty ? "unreduced" : interventions.map(\.description).joined(separator: " + ")))"
            )
            let evaluator = PerplexityEvaluator(
                model: unreduced, edited: interventions.isEmpty ? nil : llama)
            let r = try evaluator.evaluate(
                tokens: tokens, context: textContext, maximumChunks: textChunks)
            var metrics = ["unreduced_perplexity": r.perplexity]
            if let ppl = r.editedPerplexity { metrics["perplexity"] = ppl }
            return SideEffects(
                data: "\(name): \(r.chunks) chunks of \(r.context) tokens, \(r.scored) scored",
                interventions: interventions.map(\.description), metrics: metrics, shift: r.shift)
        }
    }

    /// Whether any language-model option was given (so `laser sweep` takes this path).
    var isRequested: Bool { model != nil || dataset != nil }

    func run(sweep: SweepOptions, workers: Int) throws {
        let llama = try loadTextModel(path: model, threads: workers, verbose: true)
        let path = try dataset ?? QADataset.locateDefault()
        let all = try QADataset.load(path: path)
        let (validation, test) = QADataset.split(all, validationFraction: validationFraction)
        guard !validation.isEmpty && !test.isEmpty else {
            throw CLIError(
                "\(path): \(all.count) items are too few to split into validation and test")
        }
        stderrLine(
            "\(path): \(validation.count) validation and \(test.count) test items; recording activations ..."
        )
        let start = Date()
        let scorers: [Split: TeacherForcedScorer] = [
            .validation: try TeacherForcedScorer(model: llama, items: validation, topK: topK),
            .test: try TeacherForcedScorer(model: llama, items: test, topK: topK),
        ]
        stderrLine(String(format: "baseline scored in %.1fs", Date().timeIntervalSince(start)))
        let generator = QAEvaluator(
            model: llama, options: QAOptions(maxNewTokens: maxNewTokens, topK: topK))
        let useGeneration = objective == "generation_match"
        var reportMetrics = ["top1", "topk", "mean_logprob"]
        if useGeneration { reportMetrics.insert("generation_match", at: 0) }
        try runSweep(
            model: llama, options: sweep,
            defaultTypes: ["fc_in", "fc_up", "fc_out", "q_proj", "k_proj", "v_proj", "out_proj"],
            objective: Objective(metric: objective, higherIsBetter: true),
            reportMetrics: reportMetrics,
            label: "sweep of the language model",
            setup:
                "model \(try FileFingerprint.of(path: try resolveModelPath(model))); dataset \(try FileFingerprint.of(path: path)); validation fraction \(validationFraction); top-k \(topK)\(useGeneration ? "; generation \(maxNewTokens) tokens" : "")",
            sideEffects: try perplexityShift(model: llama, workers: workers)
        ) { context in
            let items = context.split == .validation ? validation : test
            if useGeneration {
                let results = try generator.evaluate(items)
                return Evaluation(
                    metrics: QASummary(results: results, k: topK).metrics,
                    items: QASummary.itemScores(results, k: topK))
            }
            return try scorers[context.split]!.evaluation(
                firstChangedLayer: context.firstChangedLayer)
        }
    }
}
