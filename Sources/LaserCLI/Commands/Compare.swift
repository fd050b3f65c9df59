// `laser compare A B`: two saved per-item files (policy evaluations or QA runs) compared item by
// item with the paired statistics of the Laser module.
import Agent
import ArgumentParser
import Foundation
import Laser
import TextModel

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two per-item result files item by item: is the difference beyond noise?",
        discussion: """
            A and B are per-item JSONL files of the same items: `laser eval --per-level FILE` (one line per level) or `laser qa --out-dir DIR` (DIR/items.jsonl, one line per question). Items are matched by level number or by question and answer; the two files must hold the same items. For each metric — greedy_solved and solved for levels; generation_match, top1, topk and mean_logprob for questions — B is compared with A: the rates with the exact McNemar test on the items only one of them got right (gained, lost), Newcombe's 95% interval for the difference and Wilson intervals for each rate; means with a paired bootstrap interval (10,000 resamples, seed 0).
            """)

    @Argument(help: "The reference file (usually the unreduced model).") var a: String
    @Argument(help: "The file compared with it (usually the reduced model).") var b: String
    @Option(help: "k of the top-k metric for QA files.") var topK = 5
    @Option(
        help: ArgumentHelp(
            "Non-inferiority margin in percentage points: also test whether B is at most this much worse than A on each rate (one-sided 95% lower bound, Tango's score test).",
            valueName: "points"))
    var margin: Double?
    @Flag(help: "Print the comparison as JSON.") var json = false

    func validate() throws {
        guard topK >= 1 else { throw ValidationError("--top-k must be at least 1") }
        if let margin, !(margin >= 0 && margin < 100) {
            throw ValidationError("--margin must be in [0, 100) percentage points, not \(margin)")
        }
    }

    func run() throws {
        let first = try ItemFile(path: a, topK: topK)
        let second = try ItemFile(path: b, topK: topK)
        guard first.kind == second.kind else {
            throw CLIError("\(a) holds \(first.kind) but \(b) holds \(second.kind)")
        }
        guard Set(first.keys) == Set(second.keys), first.keys.count == second.keys.count else {
            let missing = Set(first.keys).symmetricDifference(second.keys).sorted().first ?? "?"
            throw CLIError(
                "\(a) and \(b) do not hold the same items (for example '\(missing)' is in only one)"
            )
        }
        let order = Dictionary(uniqueKeysWithValues: second.keys.enumerated().map { ($1, $0) })
        var rows: [(metric: String, comparison: MetricComparison)] = []
        for metric in first.metrics where second.scores[metric] != nil {
            let base = first.scores[metric]!
            let other = second.scores[metric]!
            let aligned = first.keys.map { other[order[$0]!] }
            rows.append((metric, try MetricComparison(baseline: base, reduced: aligned)))
        }
        var nonInferiority: [String: NonInferiority] = [:]
        if let margin {
            for (metric, c) in rows {
                if case .rate(let r) = c {
                    nonInferiority[metric] = try NonInferiority(r, margin: margin / 100)
                }
            }
        }
        if json {
            struct Output: Encodable {
                let a: String, b: String, items: Int, kind: String
                let comparisons: [String: MetricComparison]
                let nonInferiority: [String: NonInferiority]?
                enum CodingKeys: String, CodingKey {
                    case a, b, items, kind, comparisons
                    case nonInferiority = "non_inferiority"
                }
            }
            print(
                try jsonText(
                    Output(
                        a: a, b: b, items: first.keys.count, kind: first.kind,
                        comparisons: Dictionary(
                            uniqueKeysWithValues: rows.map { ($0.metric, $0.comparison) }),
                        nonInferiority: margin == nil ? nil : nonInferiority)))
            return
        }
        print("\(first.keys.count) \(first.kind) in both; B = \(b) against A = \(a)")
        print(
            table(
                ["metric", "A", "B", "Δ (B − A) [95% CI]", "p_value", "gained", "lost"],
                rows.map { metric, c in
                    let (valueA, valueB): (String, String)
                    switch c {
                    case .rate(let r):
                        valueA = String(format: "%.1f%%", 100 * r.baselineRate)
                        valueB = String(format: "%.1f%%", 100 * r.reducedRate)
                    case .mean(let m):
                        valueA = String(format: "%.4f", m.baselineMean)
                        valueB = String(format: "%.4f", m.reducedMean)
                    }
                    return [
                        metric, valueA, valueB, SearchReport.delta(c), Statistics.formatP(c.pValue),
                        c.gainedLost.map { "\($0.gained)" } ?? "",
                        c.gainedLost.map { "\($0.lost)" } ?? "",
                    ]
                }))
        for (metric, c) in rows {
            print(
                "\(metric): "
                    + (c.significant
                        ? "significant at the 5% level" : "no evidence of a difference"))
        }
        for (metric, _) in rows {
            if let n = nonInferiority[metric] { print("\(metric): B is \(n.summary)") }
        }
    }
}

/// A per-item file read for comparison: item keys in file order and each metric's scores.
struct ItemFile {
    let kind: String
    let keys: [String]
    let metrics: [String]
    let scores: [String: [Double]]

    init(path: String, topK: Int) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError(
                "cannot read \(path): \(FileManager.default.fileExists(atPath: path) ? "permission denied or not a file" : "no such file")"
            )
        }
        let lines = data.split(separator: UInt8(ascii: "\n")).filter {
            !$0.allSatisfy { $0 == 0x20 || $0 == 0x0D }
        }
        guard !lines.isEmpty else { throw CLIError("\(path) holds no items") }
        let decoder = JSONDecoder()
        func lineError(_ i: Int) -> CLIError {
            CLIError(
                "\(path):\(i + 1): not a per-level line of `laser eval --per-level` or an item of `laser qa --out-dir`"
            )
        }
        if (try? decoder.decode(LevelOutcome.self, from: Data(lines[0]))) != nil {
            let outcomes = try lines.enumerated().map { i, line in
                do { return try decoder.decode(LevelOutcome.self, from: Data(line)) } catch {
                    throw lineError(i)
                }
            }
            kind = "levels"
            keys = outcomes.map { "level \($0.level)" }
            metrics = ["greedy_solved", "solved"]
            scores = [
                "greedy_solved": outcomes.map { $0.greedySolved ? 1 : 0 },
                "solved": outcomes.map { $0.solved ? 1 : 0 },
            ]
        } else if (try? decoder.decode(QAItemResult.self, from: Data(lines[0]))) != nil {
            let results = try lines.enumerated().map { i, line in
                do { return try decoder.decode(QAItemResult.self, from: Data(line)) } catch {
                    throw lineError(i)
                }
            }
            kind = "questions"
            keys = results.map { "\($0.question) → \($0.answer)" }
            let itemScores = QASummary.itemScores(results, k: topK)
            scores = itemScores
            metrics = ["generation_match", "top1", "topk", "mean_logprob"].filter {
                itemScores[$0] != nil
            }
        } else {
            throw lineError(0)
        }
        guard Set(keys).count == keys.count else {
            throw CLIError("\(path) lists an item twice")
        }
    }
}
