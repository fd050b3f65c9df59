// `laser qa`: the factual-QA benchmark on the language model, with optional LASER interventions.
import ArgumentParser
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
            Datasets: ROME's known facts (JSON array of {prompt, attribute}), CounterFact (JSON array of {requested_rewrite, paraphrase_prompts}, each prompt scored against target_true), or JSONL lines {"question", "answer"}. Default: data/qa/facts.jsonl (our own set). Answers are scored with one leading space; generation match looks for the stripped, lower-cased answer in the greedy continuation only (at most --max-new-tokens tokens).
            """)

    @Option(
        help: ArgumentHelp("The dataset file (default: data/qa/facts.jsonl).", valueName: "file"))
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
        if let output { try checkWritable(output + "/items.jsonl", option: "--out-dir") }
        let path = try dataset ?? DefaultQASet.locate()
        var items = try QADataset.load(path: path)
        if let n = limit { items = Array(items.prefix(n)) }
        let (model, _) = try modelOptions.load()
        let evaluator = QAEvaluator(
            model: model, options: QAOptions(maxNewTokens: maxNewTokens, topK: topK),
            batchSize: batchSize)
        let bar = ProgressBar(label: "qa", total: items.count)
        let start = Date()
        let results = try evaluator.evaluate(items) { bar.update($0) }
        let seconds = Date().timeIntervalSince(start)
        let summary = QASummary(results: results, k: topK)
        if let dir = output {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            var lines = ""
            for r in results {
                lines += String(decoding: try encoder.encode(r), as: UTF8.self) + "\n"
            }
            try AtomicFile.write(string: lines, to: dir + "/items.jsonl")
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            try AtomicFile.write(
                string: String(decoding: try encoder.encode(summary), as: UTF8.self) + "\n",
                to: dir + "/summary.json")
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(terminalSafeJSON(String(decoding: try encoder.encode(summary), as: UTF8.self)))
            return
        }
        print("dataset            \(path) (\(items.count) items)")
        if !modelOptions.interventions.isEmpty {
            print("interventions      \(modelOptions.interventions.joined(separator: " "))")
        }
        if let g = summary.generationMatch {
            print(
                String(
                    format: "generation match   %.2f%%  (greedy, ≤ %d new tokens)", 100 * g,
                    maxNewTokens))
        }
        print(String(format: "top-1 first token  %.2f%%", 100 * summary.top1))
        print(String(format: "top-%d first token  %.2f%%", topK, 100 * summary.topK))
        print(String(format: "mean log-prob      %.4f  (per answer token)", summary.meanLogProb))
        print(
            String(
                format: "time               %.1fs  (%.2f items/s)", seconds,
                Double(items.count) / seconds))
    }
}

/// Finds the built-in question set `data/qa/facts.jsonl`: from the current directory upwards,
/// then from the executable's directory upwards (so a built `laser` finds its repository's copy).
enum DefaultQASet {
    static let relativePath = "data/qa/facts.jsonl"

    static func locate() throws -> String {
        let starts = [
            FileManager.default.currentDirectoryPath,
            (CommandLine.arguments[0] as NSString).deletingLastPathComponent,
            ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""),
        ]
        for start in starts where !start.isEmpty {
            var dir = (start as NSString).standardizingPath
            for _ in 0..<8 {
                let candidate = dir + "/" + relativePath
                if FileManager.default.fileExists(atPath: candidate) { return candidate }
                let parent = (dir as NSString).deletingLastPathComponent
                if parent == dir { break }
                dir = parent
            }
        }
        throw TextCommandError(
            "cannot find \(relativePath) (run from the repository, or pass --dataset FILE)")
    }
}
