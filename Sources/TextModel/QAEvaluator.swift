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
        generationMatch = generated.isEmpty ? nil : Double(generated.filter { $0 }.count) / Double(generated.count)
        top1 = Double(results.filter { $0.firstTokenRank == 0 }.count) / n
        topK = Double(results.filter { $0.firstTokenRank < k }.count) / n
        self.k = k
        meanLogProb = results.reduce(0) { $0 + $1.meanLogProb } / n
    }

    enum CodingKeys: String, CodingKey {
        case items, k
        case generationMatch = "generation_match"
        case top1, topK = "topk"
        case meanLogProb = "mean_logprob"
    }
}

/// Runs the QA metrics on a model, one item at a time through the KV cache.
public struct QAEvaluator {
    public let model: LlamaModel
    public let options: QAOptions
    private let state: LlamaState

    public init(model: LlamaModel, options: QAOptions = QAOptions(), capacity: Int = 512) {
        self.model = model
        self.options = options
        state = model.makeState(capacity: capacity)
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

    /// Scores one item: a batched pass over the prompt, a batched teacher-forced pass over the
    /// answer, then greedy generation from the prompt's cache.
    public func evaluate(_ item: QAItem) throws -> QAItemResult {
        let prompt = model.tokenizer.encode(item.question)
        let answer = model.tokenizer.encode(Self.scoredAnswer(item.answer))
        guard !prompt.isEmpty, !answer.isEmpty else { throw TextModelError.emptyInput }
        let needed = prompt.count + max(answer.count - 1, options.maxNewTokens)
        let s = needed <= state.capacity ? state : model.makeState(capacity: needed)
        s.reset()
        let promptLogits = try model.forward(prompt, state: s)
        let rank = LogitMath.rank(promptLogits, token: answer[0])
        var logProb = LogitMath.logProbability(promptLogits, token: answer[0])
        if answer.count > 1 {
            let forced = try model.forward(Array(answer.dropLast()), state: s, logitsFrom: 0)
            for i in 1..<answer.count {
                logProb += LogitMath.logProbability(forced, row: i - 1, token: answer[i])
            }
        }
        var continuation: String?
        var match: Bool?
        if options.maxNewTokens > 0 {
            s.truncate(to: prompt.count)
            let generated = try model.continueGreedy(
                from: promptLogits, maxNewTokens: options.maxNewTokens, state: s)
            let text = model.tokenizer.decode(generated)
            continuation = text
            match = Self.generationMatches(answer: item.answer, continuation: text)
        }
        return QAItemResult(
            question: item.question, answer: item.answer, continuation: continuation,
            generationMatch: match, firstTokenRank: rank, meanLogProb: logProb / Double(answer.count),
            answerTokens: answer.count)
    }

    /// Scores every item; `progress` is told how many are done.
    public func evaluate(_ items: [QAItem], progress: ((Int) -> Void)? = nil) throws -> [QAItemResult] {
        var results: [QAItemResult] = []
        results.reserveCapacity(items.count)
        for item in items {
            results.append(try evaluate(item))
            progress?(results.count)
        }
        return results
    }
}
