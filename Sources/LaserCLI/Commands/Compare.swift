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
        let report = try ItemComparison(
            try itemScores(a, topK: topK), named: a, try itemScores(b, topK: topK), named: b,
            margin: margin.map { $0 / 100 })
        let rows = report.rows
        if json {
            print(try jsonText(report))
            return
        }
        print("\(report.items) \(report.kind) in both; B = \(b) against A = \(a)")
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
            if let n = report.nonInferiority?[metric] { print("\(metric): B is \(n.summary)") }
        }
    }
}
