// Perplexity as llama.cpp's `llama-perplexity` computes it, and with an edited model beside the
// unedited one, the KL-divergence figures of its `--kl-divergence` mode.
import Core
import Laser
import LinearAlgebra

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How `llama-perplexity` cuts a text: the tokens (with BOS first when the vocabulary adds one)
/// in consecutive chunks of `context` tokens, the last partial chunk dropped; each chunk is run
/// from an empty cache with its first token replaced by BOS (when the vocabulary adds one), and
/// only its second half is scored: the logits at positions first ..< context − 1, first =
/// context / 2, predict the tokens at first + 1 ..< context.
public struct PerplexityChunking: Sendable, Equatable {
    public let context: Int
    public let chunks: Int
    /// BOS, when the vocabulary adds it (then each chunk starts with it).
    public let bos: Int?

    /// Chunks of `tokens.count` tokens; at least two are needed, as llama-perplexity requires.
    public init(tokenCount: Int, context: Int, bos: Int?, maximumChunks: Int? = nil) throws {
        guard context >= 4 else {
            throw TextModelError.invalidConfig(
                "a perplexity context of \(context) tokens is too short (at least 4)")
        }
        guard tokenCount >= 2 * context else {
            throw TextModelError.invalidConfig(
                "the text has \(tokenCount) tokens; perplexity at context \(context) needs at least \(2 * context) (two chunks)"
            )
        }
        self.context = context
        chunks = min(tokenCount / context, maximumChunks ?? .max)
        self.bos = bos
    }

    /// The first position whose logits are scored.
    public var first: Int { context / 2 }
    /// Predictions scored per chunk.
    public var scoredPerChunk: Int { context - 1 - first }

    /// Chunk i's tokens as run.
    public func tokens(ofChunk i: Int, in all: [Int]) -> [Int] {
        var chunk = Array(all[(i * context)..<((i + 1) * context)])
        if let bos { chunk[0] = bos }
        return chunk
    }
}

/// A perplexity measurement, with the edit's shift when an edited model was compared.
public struct PerplexityReport: Codable, Sendable {
    public let tokens: Int
    public let context: Int
    public let chunks: Int
    public let scored: Int
    /// The unedited model's perplexity and llama-perplexity's ±.
    public let perplexity: Double
    public let perplexityError: Double
    /// The edited model's, when one was compared.
    public let editedPerplexity: Double?
    public let editedPerplexityError: Double?
    /// KL divergence, same top token and Δp of the edited model against the unedited one.
    public let shift: DistributionShiftSummary?
    public let seconds: Double

    enum CodingKeys: String, CodingKey {
        case tokens, context, chunks, scored, perplexity, shift, seconds
        case perplexityError = "perplexity_error"
        case editedPerplexity = "edited_perplexity"
        case editedPerplexityError = "edited_perplexity_error"
    }
}

/// Runs the chunks through a model (and an edited copy of it), a few chunks per forward pass.
public final class PerplexityEvaluator {
    public let model: LlamaModel
    public let edited: LlamaModel?
    /// Chunks run together in one batched forward pass.
    public let chunksPerPass: Int

    public init(model: LlamaModel, edited: LlamaModel? = nil, chunksPerPass: Int = 2) {
        precondition(chunksPerPass >= 1)
        self.model = model
        self.edited = edited
        self.chunksPerPass = chunksPerPass
    }

    /// The text's tokens as llama-perplexity makes them (BOS first when the vocabulary adds it).
    public func tokenize(_ text: String) -> [Int] { model.tokenizer.encode(text) }

    /// The perplexity of `tokens` at `context`; `progress` hears (chunks done, chunks).
    public func evaluate(
        tokens: [Int], context: Int, maximumChunks: Int? = nil,
        progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> PerplexityReport {
        guard context <= model.config.contextLength else {
            throw TextModelError.invalidConfig(
                "context \(context) exceeds the model's \(model.config.contextLength) tokens")
        }
        let chunking = try PerplexityChunking(
            tokenCount: tokens.count, context: context,
            bos: model.tokenizer.addBOS ? model.tokenizer.bosID : nil,
            maximumChunks: maximumChunks)
        let clock = ContinuousClock()
        let start = clock.now
        var base = NLLSum()
        var shift = DistributionShift()
        let vocabulary = model.config.vocabularySize
        var done = 0
        progress(0, chunking.chunks)
        while done < chunking.chunks {
            let group = done..<min(chunking.chunks, done + chunksPerPass)
            let inputs = group.map { chunking.tokens(ofChunk: $0, in: tokens) }
            let baseLogits = try run(model, inputs, chunking)
            let editedLogits = try edited.map { try run($0, inputs, chunking) }
            for (j, chunk) in inputs.enumerated() {
                let label = "in perplexity chunk \(group.lowerBound + j)"
                try LogitMath.requireFinite(baseLogits[j], context: label)
                if let editedLogits {
                    try LogitMath.requireFinite(editedLogits[j], context: label + " (edited)")
                }
                baseLogits[j].scalars.withUnsafeBufferPointer { b in
                    for r in 0..<chunking.scoredPerChunk {
                        let target = chunk[chunking.first + 1 + r]
                        let row = b.baseAddress! + r * vocabulary
                        if let editedLogits {
                            editedLogits[j].scalars.withUnsafeBufferPointer { e in
                                shift.add(
                                    base: row, edited: e.baseAddress! + r * vocabulary,
                                    count: vocabulary, target: target)
                            }
                        } else {
                            base.add(nll(row, count: vocabulary, target: target))
                        }
                    }
                }
            }
            done = group.upperBound
            progress(done, chunking.chunks)
        }
        if edited != nil { base = shift.baseNLL }
        return PerplexityReport(
            tokens: tokens.count, context: context, chunks: chunking.chunks, scored: base.count,
            perplexity: base.perplexity ?? .nan, perplexityError: base.perplexityError,
            editedPerplexity: edited == nil ? nil : shift.editedNLL.perplexity,
            editedPerplexityError: edited == nil ? nil : shift.editedNLL.perplexityError,
            shift: shift.summary, seconds: (clock.now - start).inSeconds)
    }

    private var scratch: [Float] = []

    /// −log softmax(row)[target]: llama-perplexity's log-softmax (max-shifted, sum in Double).
    private func nll(_ row: UnsafePointer<Float>, count n: Int, target: Int) -> Double {
        if scratch.count < n { scratch = [Float](repeating: 0, count: n) }
        return scratch.withUnsafeMutableBufferPointer { s in
            FastExp.logSumExp(row, count: n, scratch: s.baseAddress!).logSum - Double(row[target])
        }
    }

    /// Each chunk from an empty cache; logits of the scored positions first ..< context − 1.
    private func run(_ m: LlamaModel, _ chunks: [[Int]], _ chunking: PerplexityChunking) throws
        -> [Tensor]
    {
        let inputs = chunks.map {
            SequenceInput(
                state: m.makeState(capacity: chunking.context), tokens: $0,
                logitsFrom: chunking.first)
        }
        return try m.forward(inputs)
    }
}
