// The factual-QA metrics of the LASER paper and code: generation match, first-token top-1/top-k
// accuracy and mean per-token answer log-probability.
import Foundation
import LinearAlgebra

/// How the benchmark scores.
public struct QAOptions: Sendable {
    /// Greedy continuation length for the generation-match metric (0 skips generation).
    public var maxNewTokens = 10
    /// k of the top-k first-token accuracy.
    public var topK = 5

    public init(maxNewTokens: Int = 10, topK: Int = 5) {
        self.maxNewTokens = maxNewTokens
        self.topK = topK
    }
}

/// One item's outcome (a line of the per-item JSONL).
public struct QAItemResult: Codable, Sendable, Equatable {
    public let question: String
    public let answer: String
    /// The greedy continuation (new tokens only), decoded; nil when generation was skipped.
    public let continuation: String?
    /// The stripped, lower-cased answer occurs in the lower-cased continuation.
    public let generationMatch: Bool?
    /// Rank of the answer's first token under the next-token distribution (0 = top-1).
    public let firstTokenRank: Int
    /// Mean over the answer's tokens (scored with a leading space) of log p(token | prefix).
    public let meanLogProb: Double
    public let answerTokens: Int

    enum CodingKeys: String, CodingKey {
        case question, answer, continuation
        case generationMatch = "generation_match"
        case firstTokenRank = "first_token_rank"
        case meanLogProb = "mean_logprob"
        case answerTokens = "answer_tokens"
    }
}

/// Averages over a set of items.
public struct QASummary: Codable, Sendable, Equatable {
    public let items: Int
    /// Fractions in [0, 1].
    public let generationMatch: Double?
    public let top1: Double
    public let topK: Double
    public let k: Int
    public let meanLogProb: Double

    /// Each item's scores under the Laser module's metric names (0/1 for the rates), in order.
    public static func itemScores(_ results: [QAItemResult], k: Int) -> [String: [Double]] {
        var items: [String: [Double]] = [
            "top1": results.map { $0.firstTokenRank == 0 ? 1 : 0 },
            "topk": results.map { $0.firstTokenRank < k ? 1 : 0 },
            "mean_logprob": results.map(\.meanLogProb),
        ]
        if results.allSatisfy({ $0.generationMatch != nil }) && !results.isEmpty {
            items["generation_match"] = results.map { $0.generationMatch! ? 1 : 0 }
        }
        return items
    }

    /// The Laser module's metric names.
    public var metrics: [String: Double] {
        var m = ["top1": top1, "topk": topK, "mean_logprob": meanLogProb]
        if let g = generationMatch { m["generation_match"] = g }
        return m
    }

    public init(results: [QAItemResult], k: Int) {
        items = results.count
        let n = Double(max(1, results.count))
        let generated = results.compactMap(\.generationMatch)
        generationMatch =
            generated.isEmpty
            ? nil : Double(generated.filter { $0 }.count) / Double(generated.count)
        top1 = Double(results.filter { $0.firstTokenRank == 0 }.count) / n
        topK = Double(results.filter { $0.firstTokenRank < k }.count) / n
        self.k = k
        meanLogProb = results.reduce(0) { $0 + $1.meanLogProb } / n
    }

    enum CodingKeys: String, CodingKey {
        case items, k
        case generationMatch = "generation_match"
        case top1
        case topK = "topk"
        case meanLogProb = "mean_logprob"
    }
}

/// Runs the QA metrics on a model, a batch of items at a time: their prompts in one forward pass,
/// their answers teacher-forced in a second, then greedy generation in lockstep, so each weight
/// matrix is read once per step for the whole batch.
public final class QAEvaluator {
    public let model: LlamaModel
    public let options: QAOptions
    /// Items scored together.
    public let batchSize: Int
    private var states: [LlamaState] = []

    public init(model: LlamaModel, options: QAOptions = QAOptions(), batchSize: Int = 24) {
        self.model = model
        self.options = options
        self.batchSize = max(1, batchSize)
    }

    /// The answer as it is scored: stripped, with one leading space.
    public static func scoredAnswer(_ answer: String) -> String {
        " " + answer.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether `continuation` contains the answer (both lower-cased, the answer stripped).
    public static func generationMatches(answer: String, continuation: String) -> Bool {
        let needle = answer.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        return !needle.isEmpty && continuation.lowercased().contains(needle)
    }

    /// Scores every item; `progress` is told how many are done.
    public func evaluate(_ items: [QAItem], progress: ((Int) -> Void)? = nil) throws
        -> [QAItemResult]
    {
        var results: [QAItemResult] = []
        results.reserveCapacity(items.count)
        var start = 0
        while start < items.count {
            let batch = Array(items[start..<min(items.count, start + batchSize)])
            results.append(contentsOf: try evaluateBatch(batch))
            start += batch.count
            progress?(results.count)
        }
        return results
    }

    /// Scores one item.
    public func evaluate(_ item: QAItem) throws -> QAItemResult { try evaluateBatch([item])[0] }

    private func evaluateBatch(_ items: [QAItem]) throws -> [QAItemResult] {
        let tokenizer = model.tokenizer
        let prompts = items.map { tokenizer.encode($0.question) }
        let answers = items.map { tokenizer.encodeContinuation(Self.scoredAnswer($0.answer)) }
        for (p, a) in zip(prompts, answers) where p.isEmpty || a.isEmpty {
            throw TextModelError.emptyInput
        }
        let needed = zip(prompts, answers).map {
            $0.count + max($1.count - 1, options.maxNewTokens)
        }.max()!
        if states.count < items.count || states[0].capacity < needed {
            let capacity = max(needed, 64)
            states = (0..<max(items.count, states.count)).map { _ in
                model.makeState(capacity: capacity)
            }
        }
        let batchStates = Array(states.prefix(items.count))
        for s in batchStates { s.reset() }

        // Prompts: the next-token distribution after each.
        let promptLogits = try model.forward(
            zip(batchStates, prompts).map {
                SequenceInput(state: $0, tokens: $1)
            })
        var ranks: [Int] = []
        var logProbs: [Double] = []
        for i in items.indices {
            try LogitMath.requireFinite(
                promptLogits[i], context: "after the question \"\(items[i].question)\"")
            ranks.append(LogitMath.rank(promptLogits[i], token: answers[i][0]))
            logProbs.append(LogitMath.logProbability(promptLogits[i], token: answers[i][0]))
        }
        // Answers teacher-forced: log p of each later answer token.
        let forcedItems = items.indices.filter { answers[$0].count > 1 }
        if !forcedItems.isEmpty {
            let forced = try model.forward(
                forcedItems.map {
                    SequenceInput(
                        state: batchStates[$0], tokens: Array(answers[$0].dropLast()), logitsFrom: 0
                    )
                })
            for (j, i) in forcedItems.enumerated() {
                try LogitMath.requireFinite(
                    forced[j], context: "on the answer to \"\(items[i].question)\"")
                for t in 1..<answers[i].count {
                    logProbs[i] += LogitMath.logProbability(
                        forced[j], row: t - 1, token: answers[i][t])
                }
            }
        }
        // Greedy generation from each prompt, in lockstep.
        var continuations: [String?] = Array(repeating: nil, count: items.count)
        if options.maxNewTokens > 0 {
            for (s, p) in zip(batchStates, prompts) { s.truncate(to: p.count) }
            var generated = [[Int]](repeating: [], count: items.count)
            var latest = promptLogits
            var active = Array(items.indices)
            while !active.isEmpty {
                var next: [Int] = []
                for (j, i) in active.enumerated() {
                    try LogitMath.requireFinite(
                        latest[j], context: "generating after \"\(items[i].question)\"")
                    let token = LogitMath.argmax(latest[j], row: latest[j].shape[0] - 1)
                    generated[i].append(token)
                    next.append(token)
                }
                let keep = active.indices.filter {
                    generated[active[$0]].count < options.maxNewTokens
                        && next[$0] != tokenizer.eosID
                }
                if keep.isEmpty { break }
                latest = try model.forward(
                    keep.map {
                        SequenceInput(state: batchStates[active[$0]], tokens: [next[$0]])
                    })
                active = keep.map { active[$0] }
            }
            continuations = generated.map { tokenizer.decode($0) }
        }
        return items.indices.map { i in
            QAItemResult(
                question: items[i].question, answer: items[i].answer,
                continuation: continuations[i],
                generationMatch: continuations[i].map {
                    Self.generationMatches(answer: items[i].answer, continuation: $0)
                },
                firstTokenRank: ranks[i], meanLogProb: logProbs[i] / Double(answers[i].count),
                answerTokens: answers[i].count)
        }
    }
}
