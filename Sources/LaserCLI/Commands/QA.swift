// `laser qa`: the factual-QA benchmark on the language model, with optional LASER interventions.
import ArgumentParser
import Core
import Foundation
import Laser
import LinearAlgebra
import TextModel

struct QA: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qa",
        abstract:
            "Factual-QA benchmark: generation match, first-token top-1/top-k, answer log-probability.",
        discussion: """
            Datasets: ROME's known facts (JSON array of {prompt, attribute}), CounterFact (JSON array of {requested_rewrite, paraphrase_prompts}, each prompt scored against target_true), or JSONL lines {"question", "answer"}. Default: data/qa/known_facts.json (400 of ROME's known facts, the kind of data the paper used; data/qa/facts.jsonl is the project's own easy set, used by the tests). Answers are scored with one leading space; generation match looks for the stripped, lower-cased answer in the greedy continuation only (at most --max-new-tokens tokens).
            """)

    @Option(
        help: ArgumentHelp(
            "The dataset file (default: data/qa/known_facts.json).", valueName: "file"))
    var dataset: String?

    @Option(help: "Greedy continuation length for generation match (0 skips generation).")
    var maxNewTokens: Int = 10

    @Option(help: "k of the top-k first-token accuracy.")
    var topK: Int = 5

    @Option(help: "Items scored together in one batched forward pass per step.")
    var batchSize: Int = 16

    @Option(help: "Score only the first N items.")
    var limit: Int?

    @Option(
        help: ArgumentHelp(
            "Write items.jsonl and summary.json into this directory.", valueName: "dir"))
    var output: String?

    @Flag(help: "Print the summary as JSON.")
    var json = false

    @Flag(help: "With --intervene, skip the unreduced run (no paired comparison).")
    var noBaseline = false

    @OptionGroup var modelOptions: TextModelOptions

    func validate() throws {
        guard maxNewTokens >= 0 && maxNewTokens <= 256 else {
            throw ValidationError("--max-new-tokens must be in 0...256")
        }
        guard topK >= 1 else { throw ValidationError("--top-k must be at least 1") }
        guard batchSize >= 1 && batchSize <= 512 else {
            throw ValidationError("--batch-size must be in 1...512")
        }
        if let n = limit, n < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        modelOptions.threading.apply()
        if let output { try checkWritable(output + "/items.jsonl", option: "--output") }
        // One writer per output folder, held until the run ends.
        let lock = try output.map { try OutputLock(output: $0) }
        defer { withExtendedLifetime(lock) {} }
        let path = try dataset ?? QADataset.locateDefault()
        var items = try QADataset.load(path: path)
        if let n = limit { items = Array(items.prefix(n)) }
        let model = try loadTextModel(
            path: modelOptions.model, threads: modelOptions.threads, weights: modelOptions.weights,
            verbose: true)
        let evaluator = QAEvaluator(
            model: model, options: QAOptions(maxNewTokens: maxNewTokens, topK: topK),
            batchSize: batchSize)
        // With --intervene, the unreduced model answers the same items first: every metric is
        // then compared item by item.
        let interventions = modelOptions.interventions
        let run = try PairedEvaluation(
            model: model, interventions: interventions, baseline: !noBaseline,
            onReduced: { modelOptions.report($0) }
        ) { phase -> (results: [QAItemResult], seconds: Double) in
            let label =
                interventions.isEmpty ? "qa" : phase == .unreduced ? "qa unreduced" : "qa reduced"
            let bar = ProgressBar(label: label, total: items.count)
            let start = Date()
            let results = try evaluator.evaluate(items) { bar.update($0) }
            return (results, Date().timeIntervalSince(start))
        }
        let (results, seconds) = run.final
        let report = try QAReport(
            dataset: path, interventions: interventions,
            unreduced: run.reduced == nil ? nil : run.unreduced?.results, results: results, k: topK)
        let summary = report.summary
        let comparisons = report.comparisons
        if let dir = output {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            var lines = ""
            for r in results { lines += try JSONEncoding.string(r, style: .plainSlashes) + "\n" }
            try AtomicFile.write(string: lines, to: dir + "/items.jsonl")
            try AtomicFile.write(string: try jsonText(report) + "\n", to: dir + "/summary.json")
        }
        if json {
            print(try jsonText(report))
            return
        }
        print("dataset            \(path) (\(items.count) items)")
        if !modelOptions.interventions.isEmpty {
            print(
                "interventions      \(modelOptions.interventions.map(\.description).joined(separator: " "))"
            )
        }
        func line(_ label: String, _ value: String, _ metric: String) {
            var text = label.padding(toLength: 19, withPad: " ", startingAt: 0) + value
            if let c = comparisons[metric] {
                text += "   Δ " + c.summary
            }
            print(text)
        }
        if let g = summary.generationMatch {
            line(
                "generation match",
                String(format: "%.2f%%  (greedy, ≤ %d new tokens)", 100 * g, maxNewTokens),
                "generation_match")
        }
        line("top-1 first token", String(format: "%.2f%%", 100 * summary.top1), "top1")
        line("top-\(topK) first token", String(format: "%.2f%%", 100 * summary.topK), "topk")
        line(
            "mean log-prob", String(format: "%.4f  (per answer token)", summary.meanLogProb),
            "mean_logprob")
        if let before = report.unreduced {
            print(
                String(
                    format:
                        "unreduced          generation %@, top-1 %.2f%%, top-%d %.2f%%, mean log-prob %.4f",
                    before.generationMatch.map { String(format: "%.2f%%", 100 * $0) } ?? "–",
                    100 * before.top1, topK, 100 * before.topK, before.meanLogProb))
        }
        print(
            String(
                format: "time               %.1fs  (%.2f items/s)", seconds,
                Double(items.count) / seconds))
    }
}
