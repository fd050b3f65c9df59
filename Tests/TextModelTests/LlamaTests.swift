// The Llama forward pass on a tiny random model written as GGUF: against a naive reference, batched
// against token-by-token and multi-sequence, factored against dense, and its LASER interface.
import Core
import Foundation
import Laser
import LinearAlgebra
import Testing

@testable import TextModel

/// A tiny random Llama (2 layers, width 8, 2 query heads sharing 1 key/value head) as a GGUF file.
struct TinyLlama {
    let layers = 2, hidden = 8, heads = 2, kvHeads = 1, ff = 12, vocab = 8
    var headDim: Int { hidden / heads }
    var kvDim: Int { kvHeads * headDim }
    var weights: [String: [Float]] = [:]
    var shapes: [String: [Int]] = [:]  // outermost first

    init(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        func add(_ name: String, _ shape: [Int], scale: Float = 0.5, offset: Float = 0) {
            let n = shape.reduce(1, *)
            weights[name] = (0..<n).map { _ in offset + scale * Float(rng.nextNormal()) }
            shapes[name] = shape
        }
        add("token_embd.weight", [vocab, hidden], scale: 1)
        add("output_norm.weight", [hidden], scale: 0.1, offset: 1)
        for l in 0..<layers {
            add("blk.\(l).attn_norm.weight", [hidden], scale: 0.1, offset: 1)
            add("blk.\(l).attn_q.weight", [hidden, hidden])
            add("blk.\(l).attn_k.weight", [kvDim, hidden])
            add("blk.\(l).attn_v.weight", [kvDim, hidden])
            add("blk.\(l).attn_output.weight", [hidden, hidden])
            add("blk.\(l).ffn_norm.weight", [hidden], scale: 0.1, offset: 1)
            add("blk.\(l).ffn_gate.weight", [ff, hidden])
            add("blk.\(l).ffn_up.weight", [ff, hidden])
            add("blk.\(l).ffn_down.weight", [hidden, ff])
        }
    }

    func builder(dropping: String? = nil) -> GGUFBuilder {
        var b = GGUFBuilder()
        b.add("general.architecture", .string("llama"))
        b.add("llama.block_count", .uint32(UInt32(layers)))
        b.add("llama.context_length", .uint32(256))
        b.add("llama.embedding_length", .uint32(UInt32(hidden)))
        b.add("llama.feed_forward_length", .uint32(UInt32(ff)))
        b.add("llama.attention.head_count", .uint32(UInt32(heads)))
        b.add("llama.attention.head_count_kv", .uint32(UInt32(kvHeads)))
        b.add("llama.rope.freq_base", .float32(10000))
        b.add("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
        b.add("tokenizer.ggml.model", .string("gpt2"))
        b.add("tokenizer.ggml.pre", .string("smollm"))
        b.add(
            "tokenizer.ggml.tokens",
            .array(
                elementType: 8,
                ["a", "b", "c", "Ġ", "ab", "abc", "Ġa", "<|end|>"].map { .string($0) }))
        b.add(
            "tokenizer.ggml.token_type",
            .array(elementType: 5, [1, 1, 1, 1, 1, 1, 1, 3].map { .int32($0) }))
        b.add(
            "tokenizer.ggml.merges",
            .array(elementType: 8, ["a b", "ab c", "Ġ a"].map { .string($0) }))
        b.add("tokenizer.ggml.eos_token_id", .uint32(7))
        for name in weights.keys.sorted() where name != dropping {
            b.addF32(name, dims: shapes[name]!.reversed(), values: weights[name]!)
        }
        return b
    }

    func load() throws -> LlamaModel {
        let path = builder().write(name: "tiny-llama")
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try LlamaModel(path: path)
    }

    /// The naive reference: the whole sequence from scratch in Double, loops only.
    func referenceLogits(_ tokens: [Int]) -> [[Double]] {
        func w(_ name: String) -> [Double] { weights[name]!.map(Double.init) }
        func linear(_ name: String, _ x: [Double]) -> [Double] {
            let m = w(name)
            let rows = shapes[name]![0]
            let cols = shapes[name]![1]
            return (0..<rows).map { r in (0..<cols).reduce(0.0) { $0 + m[r * cols + $1] * x[$1] } }
        }
        func norm(_ x: [Double], _ name: String) -> [Double] {
            let g = w(name)
            let scale = 1 / ((x.reduce(0) { $0 + $1 * $1 } / Double(x.count)) + 1e-5).squareRoot()
            return x.indices.map { x[$0] * scale * g[$0] }
        }
        func rope(_ v: [Double], position: Int) -> [Double] {
            var out = v
            for start in stride(from: 0, to: v.count, by: headDim) {
                for i in 0..<(headDim / 2) {
                    let theta = Double(position) * pow(10000, -2 * Double(i) / Double(headDim))
                    let a = v[start + 2 * i]
                    let b = v[start + 2 * i + 1]
                    out[start + 2 * i] = a * cos(theta) - b * sin(theta)
                    out[start + 2 * i + 1] = a * sin(theta) + b * cos(theta)
                }
            }
            return out
        }
        let embedding = w("token_embd.weight")
        var h = tokens.map { t in Array(embedding[(t * hidden)..<((t + 1) * hidden)]) }
        for l in 0..<layers {
            let xn = h.map { norm($0, "blk.\(l).attn_norm.weight") }
            let q = xn.enumerated().map { rope(linear("blk.\(l).attn_q.weight", $1), position: $0) }
            let k = xn.enumerated().map { rope(linear("blk.\(l).attn_k.weight", $1), position: $0) }
            let v = xn.map { linear("blk.\(l).attn_v.weight", $0) }
            for p in tokens.indices {
                var attention = [Double](repeating: 0, count: hidden)
                for head in 0..<heads {
                    let g = head / (heads / kvHeads)
                    var scores = (0...p).map { j in
                        (0..<headDim).reduce(0.0) {
                            $0 + q[p][head * headDim + $1] * k[j][g * headDim + $1]
                        }
                            / Double(headDim).squareRoot()
                    }
                    let top = scores.max()!
                    scores = scores.map { exp($0 - top) }
                    let total = scores.reduce(0, +)
                    for j in 0...p {
                        for d in 0..<headDim {
                            attention[head * headDim + d] +=
                                scores[j] / total * v[j][g * headDim + d]
                        }
                    }
                }
                let o = linear("blk.\(l).attn_output.weight", attention)
                for i in 0..<hidden { h[p][i] += o[i] }
            }
            for p in tokens.indices {
                let x = norm(h[p], "blk.\(l).ffn_norm.weight")
                let gate = linear("blk.\(l).ffn_gate.weight", x)
                let up = linear("blk.\(l).ffn_up.weight", x)
                let act = gate.indices.map { gate[$0] / (1 + exp(-gate[$0])) * up[$0] }
                let down = linear("blk.\(l).ffn_down.weight", act)
                for i in 0..<hidden { h[p][i] += down[i] }
            }
        }
        return h.map { linear("token_embd.weight", norm($0, "output_norm.weight")) }
    }
}

func maxDifference(_ logits: Tensor, _ reference: [[Double]]) -> Double {
    var worst = 0.0
    for r in reference.indices {
        for j in reference[r].indices {
            worst = max(worst, abs(Double(logits[r, j]) - reference[r][j]))
        }
    }
    return worst
}

@Suite struct LlamaForwardTests {
    let tiny = TinyLlama(seed: 11)
    let tokens = [0, 1, 2, 3, 4, 5, 6, 7, 2, 1, 0]

    @Test func matchesNaiveReference() throws {
        let model = try tiny.load()
        #expect(model.config.headDim == 4 && model.config.kvDim == 4)
        let logits = try model.forward(tokens, state: model.makeState(capacity: 32), logitsFrom: 0)
        #expect(logits.shape == [tokens.count, tiny.vocab])
        let diff = maxDifference(logits, tiny.referenceLogits(tokens))
        #expect(diff < 1e-4, "max |difference| \(diff)")
    }

    @Test func tokenByTokenThroughTheCacheEqualsBatched() throws {
        let model = try tiny.load()
        let batched = try model.forward(tokens, state: model.makeState(capacity: 32), logitsFrom: 0)
        let state = model.makeState(capacity: 32)
        // First a chunk of 4, then one token at a time.
        var rows = try model.forward(Array(tokens[0..<4]), state: state, logitsFrom: 0).scalars
        for t in tokens[4...] { rows += try model.forward([t], state: state).scalars }
        #expect(state.length == tokens.count)
        let stepped = Tensor(shape: [tokens.count, tiny.vocab], scalars: rows)
        #expect(stepped.maxAbsDifference(batched) < 1e-5)
    }

    @Test func multiSequenceBatchEqualsSeparateRuns() throws {
        let model = try tiny.load()
        let a = [1, 2, 3]
        let b = [7, 6, 5, 4, 3]
        let c = [0]
        func alone(_ t: [Int]) throws -> Tensor {
            try model.forward(t, state: model.makeState(capacity: 16), logitsFrom: 0)
        }
        // Sequence b already has a cached prefix, so positions differ across the batch.
        let sa = model.makeState(capacity: 16)
        let sb = model.makeState(capacity: 16)
        let sc = model.makeState(capacity: 16)
        _ = try model.forward(Array(b[0..<2]), state: sb)
        let out = try model.forward([
            SequenceInput(state: sa, tokens: a, logitsFrom: 0),
            SequenceInput(state: sb, tokens: Array(b[2...]), logitsFrom: 1),
            SequenceInput(state: sc, tokens: c),
        ])
        #expect(out[0].maxAbsDifference(try alone(a)) < 1e-5)
        #expect(out[1].maxAbsDifference(try alone(b).rows(3..<5)) < 1e-5)
        #expect(out[2].maxAbsDifference(try alone(c)) < 1e-5)
        #expect(sa.length == 3 && sb.length == 5 && sc.length == 1)
    }

    @Test func truncateRewindsTheCache() throws {
        let model = try tiny.load()
        let state = model.makeState(capacity: 16)
        let first = try model.forward([1, 2, 3, 4], state: state)
        state.truncate(to: 3)
        let again = try model.forward([4], state: state)
        #expect(again.maxAbsDifference(first) < 1e-5)
    }

    @Test func greedyGenerationFollowsArgmax() throws {
        let model = try tiny.load()
        let generated = try model.generate(prompt: [1, 2], maxNewTokens: 5, stopAtEOS: false)
        #expect(generated.count == 5)
        var sequence = [1, 2]
        for token in generated {
            let reference = tiny.referenceLogits(sequence).last!
            let best = reference.indices.max { reference[$0] < reference[$1] }!
            #expect(token == best)
            sequence.append(token)
        }
    }

    @Test func badInputsAreErrors() throws {
        let model = try tiny.load()
        let state = model.makeState(capacity: 4)
        #expect(throws: TextModelError.tokenOutOfRange(8, vocabulary: 8)) {
            try model.forward([8], state: state)
        }
        #expect(throws: TextModelError.tokenOutOfRange(-1, vocabulary: 8)) {
            try model.forward([-1], state: state)
        }
        #expect(throws: TextModelError.emptyInput) { try model.forward([], state: state) }
        #expect(throws: TextModelError.contextFull(needed: 5, capacity: 4)) {
            try model.forward([1, 2, 3, 4, 5], state: state)
        }
        #expect(state.length == 0)
    }

    @Test func brokenModelFilesAreErrors() throws {
        let missing = tiny.builder(dropping: "blk.1.ffn_up.weight").write(name: "missing")
        defer { try? FileManager.default.removeItem(atPath: missing) }
        #expect(throws: GGUFError.missingTensor("blk.1.ffn_up.weight")) {
            try LlamaModel(path: missing)
        }
        var b = tiny.builder()
        b.metadata = b.metadata.map {
            $0.0 == "llama.attention.head_count_kv" ? ($0.0, .uint32(3)) : $0
        }
        let badHeads = b.write(name: "heads")
        defer { try? FileManager.default.removeItem(atPath: badHeads) }
        #expect(
            throws: TextModelError.invalidConfig("2 heads are not a multiple of 3 key/value heads")
        ) {
            try LlamaModel(path: badHeads)
        }
        b = tiny.builder()
        b.metadata = b.metadata.map {
            $0.0 == "general.architecture" ? ($0.0, .string("gpt2")) : $0
        }
        let arch = b.write(name: "arch")
        defer { try? FileManager.default.removeItem(atPath: arch) }
        #expect(throws: TextModelError.unsupportedArchitecture("gpt2")) {
            try LlamaModel(path: arch)
        }
    }

    /// A NaN weight is refused at load, naming the tensor (it was scored as top-1 100% before).
    @Test func nonFiniteWeightsAreRefusedAtLoad() throws {
        var broken = tiny
        broken.weights["output_norm.weight"]![3] = .nan
        let path = broken.builder().write(name: "nan")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: GGUFError.nonFiniteTensor(tensor: "output_norm.weight", element: 3)) {
            try LlamaModel(path: path)
        }
    }

    /// Finite weights can still overflow to infinite logits; scoring refuses them.
    @Test func nonFiniteLogitsAreRefusedWhereScored() throws {
        var huge = tiny
        huge.weights["output_norm.weight"] = huge.weights["output_norm.weight"]!.map { _ in 3e38 }
        let path = huge.builder().write(name: "overflow")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let model = try LlamaModel(path: path)
        let evaluator = QAEvaluator(model: model, options: QAOptions(maxNewTokens: 2, topK: 2))
        #expect {
            try evaluator.evaluate([QAItem(question: "ab c", answer: "abc")])
        } throws: { error in
            guard case TextModelError.nonFiniteLogits = error else { return false }
            return true
        }
    }
}

@Suite struct LlamaLaserTests {
    let tiny = TinyLlama(seed: 5)

    @Test func exposesEveryProjectionWithTheReferenceTypes() throws {
        let model = try tiny.load()
        let infos = model.reducibleMatrices
        #expect(infos.count == 2 * 7)
        #expect(
            Set(infos.map(\.type)) == [
                "q_proj", "k_proj", "v_proj", "out_proj", "fc_in", "fc_up", "fc_out",
            ])
        let gate = try model.matrixInfo(named: "blk.1.ffn_gate.weight")
        #expect(gate.layer == 1 && gate.type == "fc_in" && gate.rows == 12 && gate.columns == 8)
        let down = try model.matrixInfo(named: "blk.0.ffn_down.weight")
        #expect(down.type == "fc_out" && down.rows == 8 && down.columns == 12)
        #expect(
            try model.weightMatrix(named: "blk.0.attn_k.weight").scalars
                == tiny.weights["blk.0.attn_k.weight"])
        #expect(throws: LaserError.self) { try model.weightMatrix(named: "blk.2.ffn_gate.weight") }
        #expect(throws: LaserError.self) { try model.weightMatrix(named: "token_embd.weight") }
        #expect(model.typeGroups["mlp"] == ["fc_in", "fc_up", "fc_out"])
    }

    @Test func factoredForwardEqualsDenseReconstruction() throws {
        let factored = try tiny.load()
        let dense = try tiny.load()
        let interventions = [
            try Intervention(parsing: "1:fc_in:0.25"), try Intervention(parsing: "0:attn:0.5"),
        ]
        let reports = try Reducer(model: factored, storage: .factored).apply(interventions)
        try Reducer(model: dense, storage: .dense).apply(interventions)
        #expect(reports.count == 5)
        #expect(factored.layers[1].gate.factoredRank == 2)
        #expect(factored.layers[0].query.factoredRank == 4)
        let tokens = [1, 2, 3, 4, 5]
        let a = try factored.forward(tokens, state: factored.makeState(capacity: 8), logitsFrom: 0)
        let b = try dense.forward(tokens, state: dense.makeState(capacity: 8), logitsFrom: 0)
        #expect(a.maxAbsDifference(b) < 1e-4)
        // And the reduction changed the model.
        let original = try tiny.load()
        let c = try original.forward(tokens, state: original.makeState(capacity: 8), logitsFrom: 0)
        #expect(a.maxAbsDifference(c) > 1e-3)
    }

    @Test func restoreGivesBackTheExactModel() throws {
        let model = try tiny.load()
        let tokens = [3, 1, 4, 1, 5]
        let before = try model.forward(tokens, state: model.makeState(capacity: 8), logitsFrom: 0)
        let reducer = Reducer(model: model)
        try reducer.apply(try Intervention(parsing: "all:all:0.25"))
        try reducer.restoreAll()
        let after = try model.forward(tokens, state: model.makeState(capacity: 8), logitsFrom: 0)
        #expect(after == before)
    }
}

@Suite struct QAScoringTests {
    let tiny = TinyLlama(seed: 23)
    let items = [
        QAItem(question: "ab c", answer: "abc"), QAItem(question: "a", answer: "b"),
        QAItem(question: "abc abc a", answer: "ab c"), QAItem(question: "c b a", answer: "a"),
        QAItem(question: "b", answer: "abc ab"),
    ]

    @Test func batchedEvaluatorEqualsOneAtATime() throws {
        let model = try tiny.load()
        let batched = try QAEvaluator(
            model: model, options: QAOptions(maxNewTokens: 4, topK: 2), batchSize: 3
        )
        .evaluate(items)
        let single = QAEvaluator(
            model: model, options: QAOptions(maxNewTokens: 4, topK: 2), batchSize: 1)
        for (item, result) in zip(items, batched) {
            let alone = try single.evaluate(item)
            #expect(alone.firstTokenRank == result.firstTokenRank)
            #expect(abs(alone.meanLogProb - result.meanLogProb) < 1e-5)
            #expect(alone.continuation == result.continuation)
        }
        // The first token's rank and log-probability agree with the naive reference.
        let prompt = model.tokenizer.encode(items[0].question)
        let answer = model.tokenizer.encode(QAEvaluator.scoredAnswer(items[0].answer))
        let reference = tiny.referenceLogits(prompt).last!
        let rank = reference.indices.filter { reference[$0] > reference[answer[0]] }.count
        #expect(batched[0].firstTokenRank == rank)
    }

    @Test func teacherForcedScorerMatchesTheEvaluatorAndReusesThePrefix() throws {
        let model = try tiny.load()
        let scorer = try TeacherForcedScorer(model: model, items: items, topK: 2, chunkTokens: 8)
        #expect(scorer.recordsLayerInputs)
        let summary = QASummary(
            results: try QAEvaluator(model: model, options: QAOptions(maxNewTokens: 0, topK: 2))
                .evaluate(items), k: 2)
        #expect(scorer.baseline["top1"] == summary.top1)
        #expect(scorer.baseline["topk"] == summary.topK)
        #expect(abs(scorer.baseline["mean_logprob"]! - summary.meanLogProb) < 1e-5)
        #expect(
            abs(try scorer.score(firstChangedLayer: 0)["mean_logprob"]! - summary.meanLogProb)
                < 1e-5)
        // Reduce layer 1: restarting at layer 1 from the recorded stream equals a full pass.
        try Reducer(model: model).apply(try Intervention(parsing: "1:mlp:0.2"))
        let reused = try scorer.score(firstChangedLayer: 1)
        let full = try TeacherForcedScorer(model: model, items: items, topK: 2).baseline
        #expect(abs(reused["mean_logprob"]! - full["mean_logprob"]!) < 1e-5)
        #expect(reused["top1"] == full["top1"] && reused["topk"] == full["topk"])
        #expect(abs(reused["mean_logprob"]! - summary.meanLogProb) > 1e-4)
    }
}

@Suite struct LongPromptTests {
    @Test func blockedCausalAttentionMatchesTheReference() throws {
        // 150 tokens: three query blocks of 64, the last partial; a cached prefix shifts positions.
        let tiny = TinyLlama(seed: 31)
        let model = try tiny.load()
        var rng = SplitMix64(seed: 9)
        let tokens = (0..<150).map { _ in Int(rng.next() % 8) }
        let big = model.makeState(capacity: 160)
        _ = try model.forward(Array(tokens[0..<10]), state: big)
        let logits = try model.forward(Array(tokens[10...]), state: big, logitsFrom: 0)
        let reference = Array(tiny.referenceLogits(tokens)[10...])
        #expect(maxDifference(logits, reference) < 2e-4)
    }
}
