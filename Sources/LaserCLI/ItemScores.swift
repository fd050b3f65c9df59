// Reads the per-item files `laser compare` compares: a policy evaluation's levels or a QA run's
// questions, each as keys and scores per metric.
import Agent
import Foundation
import Laser
import TextModel

/// A per-item file's scores: `laser eval --per-level` lines (levels) or `laser qa` items.jsonl
/// lines (questions), item keys in file order.
func itemScores(_ path: String, topK: Int) throws -> ScoredItems {
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
    func decodeAll<T: Decodable>(_ type: T.Type) throws -> [T] {
        try lines.enumerated().map { i, line in
            do { return try decoder.decode(T.self, from: Data(line)) } catch {
                throw CLIError(
                    "\(path):\(i + 1): not a per-level line of `laser eval --per-level` or an item of `laser qa --out-dir`"
                )
            }
        }
    }
    let items: ScoredItems
    if (try? decoder.decode(LevelOutcome.self, from: Data(lines[0]))) != nil {
        let outcomes = try decodeAll(LevelOutcome.self)
        items = ScoredItems(
            kind: "levels", keys: outcomes.map { "level \($0.level)" },
            metrics: ["greedy_solved", "solved"],
            scores: [
                "greedy_solved": outcomes.map { $0.greedySolved ? 1 : 0 },
                "solved": outcomes.map { $0.solved ? 1 : 0 },
            ])
    } else {
        let results = try decodeAll(QAItemResult.self)
        let scores = QASummary.itemScores(results, k: topK)
        items = ScoredItems(
            kind: "questions", keys: results.map { "\($0.question) → \($0.answer)" },
            metrics: ["generation_match", "top1", "topk", "mean_logprob"].filter {
                scores[$0] != nil
            }, scores: scores)
    }
    guard Set(items.keys).count == items.keys.count else {
        throw CLIError("\(path) lists an item twice")
    }
    return items
}
