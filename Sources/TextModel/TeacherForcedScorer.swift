// Cheap QA scoring for sweeps: teacher-forced metrics over packed batches of whole sequences,
// restarting at the lowest changed layer from the unreduced model's recorded residual stream.
import Laser
import LinearAlgebra

/// First-token top-1 / top-k accuracy and mean answer log-probability of a fixed item set.
///
/// Each item is its prompt followed by its answer minus the last token, run as one sequence; a
/// forward pass packs many items (weights read once per pass). At construction the unreduced
/// model's residual stream entering every layer is recorded (within a memory budget), so scoring a
/// model whose lowest changed layer is L only runs layers L and above. Create the scorer while the
/// model is unreduced.
public final class TeacherForcedScorer {
    public let model: LlamaModel
    public let items: [QAItem]
    public let topK: Int
    /// Metrics of the unreduced model, measured at construction, and their per-item scores.
    public var baseline: [String: Double] { baselineEvaluation.metrics }
    public private(set) var baselineEvaluation = Evaluation(metrics: [:])
    /// Whether the residual streams are recorded (false when over the memory budget).
    public let recordsLayerInputs: Bool

    private struct Chunk {
        let items: Range<Int>
        let rows: Int
        /// Residual stream entering each layer, (rows, hidden) per layer; empty when not recorded.
        var layerInputs: [[Float]]
    }

    private let prompts: [[Int]]
    private let answers: [[Int]]
    private var chunks: [Chunk] = []
    private var states: [LlamaState] = []

    /// - Parameters:
    ///   - chunkTokens: rows per forward pass (items are packed until this many tokens).
    ///   - cacheBudgetBytes: the most memory the recorded residual streams may take.
    public init(
        model: LlamaModel, items: [QAItem], topK: Int = 5, chunkTokens: Int = 512,
        cacheBudgetBytes: Int = 768 << 20
    ) throws {
        guard !items.isEmpty else { throw TextModelError.emptyInput }
        self.model = model
        self.items = items
        self.topK = topK
        prompts = items.map { model.tokenizer.encode($0.question) }
        answers = items.map {
            model.tokenizer.encodeContinuation(QAEvaluator.scoredAnswer($0.answer))
        }
        for (p, a) in zip(prompts, answers) where p.isEmpty || a.isEmpty {
            throw TextModelError.emptyInput
        }
        let lengths = zip(prompts, answers).map { $0.count + $1.count - 1 }
        let totalRows = lengths.reduce(0, +)
        let bytes = totalRows * model.config.hiddenSize * model.config.layers * 4
        recordsLayerInputs = bytes <= cacheBudgetBytes
        var start = 0
        while start < items.count {
            var end = start
            var rows = 0
            while end < items.count && (end == start || rows + lengths[end] <= chunkTokens) {
                rows += lengths[end]
                end += 1
            }
            chunks.append(Chunk(items: start..<end, rows: rows, layerInputs: []))
            start = end
        }
        let capacity = lengths.max()!
        let perChunk = chunks.map(\.items.count).max()!
        states = (0..<perChunk).map { _ in model.makeState(capacity: capacity) }
        baselineEvaluation = try score(from: 0, record: recordsLayerInputs)
    }

    /// The metrics with the model's current weights, where every layer below `firstChangedLayer`
    /// still holds its original weights (nil: nothing changed, the recorded baseline is returned).
    public func score(firstChangedLayer: Int?) throws -> [String: Double] {
        try evaluation(firstChangedLayer: firstChangedLayer).metrics
    }

    /// The metrics and each item's scores (`top1`, `topk` as 0/1, `mean_logprob`), as `score`.
    public func evaluation(firstChangedLayer: Int?) throws -> Evaluation {
        guard let layer = firstChangedLayer else { return baselineEvaluation }
        return try score(
            from: recordsLayerInputs ? max(0, min(layer, model.config.layers)) : 0, record: false)
    }

    private func score(from startLayer: Int, record: Bool) throws -> Evaluation {
        let h = model.config.hiddenSize
        var top1 = [Double](repeating: 0, count: items.count)
        var inTopK = [Double](repeating: 0, count: items.count)
        var logProbs = [Double](repeating: 0, count: items.count)
        for c in chunks.indices {
            let chunk = chunks[c]
            let inputs = chunk.items.enumerated().map { j, i -> SequenceInput in
                states[j].reset()
                return SequenceInput(
                    state: states[j], tokens: prompts[i] + answers[i].dropLast(),
                    logitsFrom: prompts[i].count - 1)
            }
            var recorded: [[Float]] = []
            let logits: [Tensor]
            if startLayer > 0 {
                logits = try chunk.layerInputs[startLayer].withUnsafeBufferPointer {
                    try model.run(
                        inputs, startLayer: startLayer, hidden: $0.baseAddress!,
                        recordLayerInput: nil)
                }
            } else {
                logits = try model.run(
                    inputs, startLayer: 0, hidden: nil,
                    recordLayerInput: record
                        ? { _, x in
                            recorded.append(
                                Array(UnsafeBufferPointer(start: x, count: chunk.rows * h)))
                        } : nil)
            }
            if record { chunks[c].layerInputs = recorded }
            for (j, i) in chunk.items.enumerated() {
                try LogitMath.requireFinite(logits[j], context: "scoring \"\(items[i].question)\"")
                let rank = LogitMath.rank(logits[j], token: answers[i][0])
                top1[i] = rank == 0 ? 1 : 0
                inTopK[i] = rank < topK ? 1 : 0
                var sum = 0.0
                for (row, token) in answers[i].enumerated() {
                    sum += LogitMath.logProbability(logits[j], row: row, token: token)
                }
                logProbs[i] = sum / Double(answers[i].count)
            }
        }
        let n = Double(items.count)
        return Evaluation(
            metrics: [
                "top1": top1.reduce(0, +) / n, "topk": inTopK.reduce(0, +) / n,
                "mean_logprob": logProbs.reduce(0, +) / n,
            ],
            items: ["top1": top1, "topk": inTopK, "mean_logprob": logProbs])
    }
}
