// The real Gemma 3 270M against llama.cpp (values recorded by scripts/llamacpp_reference_json.py
// into Gemma3Reference.json): token ids of hard strings and of every known_facts_dev question and
// answer, logits at every position of a few prompts, a greedy continuation; and the quantized
// products against the Float32 reference. Skipped when the GGUF is absent
// (scripts/fetch-model.sh gemma3-270m; CI fetches it).
import Foundation
import Laser
import LinearAlgebra
import Testing

@testable import TextModel

enum Gemma3Model {
    static let path: String? = {
        if let p = ProcessInfo.processInfo.environment["LASER_GEMMA_MODEL"], !p.isEmpty { return p }
        return DefaultModel.locate(.gemma3_270m)
    }()
    static let skipMessage: Comment =
        "Gemma 3 GGUF not found (set LASER_GEMMA_MODEL or run scripts/fetch-model.sh gemma3-270m); test skipped"
    static var isAvailable: Bool { path != nil }
}

/// llama.cpp's values for the Gemma 3 file.
struct Gemma3Reference: Decodable {
    struct Encoded: Decodable {
        let text: String
        let ids: [Int]
    }
    struct Prompt: Decodable {
        let text: String
        let ids: [Int]
        /// Per position: [token, logit] of llama.cpp's top five.
        let top: [[[Double]]]
    }
    struct Greedy: Decodable {
        let prompt: String
        let text: String
    }
    let strings: [Encoded]
    let questions: [Encoded]
    let answers: [Encoded]
    let prompts: [Prompt]
    let greedy: Greedy

    static let recorded: Gemma3Reference = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Gemma3Reference.json")
        return try! JSONDecoder().decode(Gemma3Reference.self, from: Data(contentsOf: url))
    }()
}

@Suite(.serialized, .enabled(if: Gemma3Model.isAvailable, Gemma3Model.skipMessage))
struct Gemma3ModelTests {
    nonisolated(unsafe) static let model: LlamaModel? = Gemma3Model.path.flatMap {
        try? LlamaModel(path: $0)
    }

    @Test func configurationIsGemma3_270M() throws {
        let m = try #require(Self.model)
        let c = m.config
        #expect(c.architecture == .gemma3 && c.layers == 18 && c.hiddenSize == 640)
        #expect(c.heads == 4 && c.kvHeads == 1 && c.headDim == 256 && c.intermediateSize == 2048)
        #expect(c.vocabularySize == 262_144 && c.slidingWindow == 512)
        #expect((0..<18).filter { !c.slides(layer: $0) } == [5, 11, 17])
        #expect(c.ropeBase == 1_000_000 && c.localRopeBase == 10_000)
        #expect(m.outputWeight == nil)  // tied embeddings
        #expect(m.layers[0].query.quantized?.type == .q5_0)
        #expect(m.layers[0].down.quantized?.type == .q6_K)
        #expect(m.layers[0].output.quantized?.type == .q4_K)
        #expect(m.reducibleMatrices.count == 18 * 7)
    }

    @Test func tokenIdsAreLlamaCpps() throws {
        let t = try #require(Self.model).tokenizer
        let r = Gemma3Reference.recorded
        for s in r.strings { #expect(t.encode(s.text, addBOS: false) == s.ids, "\(s.text)") }
        #expect(r.questions.count == 400)
        for q in r.questions { #expect(t.encode(q.text) == q.ids, "\(q.text)") }
        for a in r.answers { #expect(t.encodeContinuation(a.text) == a.ids, "\(a.text)") }
    }

    /// llama.cpp rounds the activations entering every quantized product to 8 bits; Gemma's are
    /// wide (embeddings × √640, outlier channels), so its logits sit further from our Float32 ones
    /// than SmolLM2's: measured mean |Δ| 0.18 and largest 0.82 over the 38 positions × top 5 here,
    /// the same for our Float32 reference as for our quantized path, and 0.07 at most on the first
    /// position (BOS), where no product has rounded anything yet.
    @Test func logitsAtEveryPositionAgreeWithLlamaCpp() throws {
        let m = try #require(Self.model)
        var total = 0.0
        var count = 0.0
        for prompt in Gemma3Reference.recorded.prompts {
            let ids = m.tokenizer.encode(prompt.text)
            #expect(ids == prompt.ids)
            let logits = try m.forward(ids, state: m.makeState(capacity: 64), logitsFrom: 0)
            for (position, top) in prompt.top.enumerated() {
                let ours = LogitMath.argmax(logits, row: position)
                #expect(
                    ours == Int(top[0][0]) || Double(logits[position, ours]) - top[0][1] < 1.0,
                    "\(prompt.text) position \(position): top token \(ours) vs llama.cpp \(top[0][0])"
                )
                for pair in top {
                    let difference = abs(Double(logits[position, Int(pair[0])]) - pair[1])
                    total += difference
                    count += 1
                    #expect(
                        difference < (position == 0 ? 0.15 : 1.0),
                        "\(prompt.text) position \(position) token \(Int(pair[0])): Δ \(difference)"
                    )
                }
            }
        }
        #expect(total / count < 0.25, "mean |Δ| \(total / count)")
    }

    @Test func greedyContinuationIsLlamaCpps() throws {
        let m = try #require(Self.model)
        let g = Gemma3Reference.recorded.greedy
        let generated = try m.generate(prompt: m.tokenizer.encode(g.prompt), maxNewTokens: 10)
        #expect(m.tokenizer.decode(generated) == g.text)
    }

    @Test func quantizedProductsAgreeWithTheFloat32Reference() throws {
        let m = try #require(Self.model)
        let path = try #require(Gemma3Model.path)
        let reference = try LlamaModel(path: path, weights: .float32, threads: 2)
        let ids = m.tokenizer.encode("Vinson Massif is located in the continent of")
        let quantized = try m.forward(ids, state: m.makeState(capacity: 32), logitsFrom: 0)
        let exact = try reference.forward(
            ids, state: reference.makeState(capacity: 32), logitsFrom: 0)
        // Logits spread over about 40; 16-bit activations and 8-bit ones (K formats) move them by
        // a few tenths at most.
        #expect(quantized.maxAbsDifference(exact) < 0.5)
        #expect(
            LogitMath.argmax(quantized, row: ids.count - 1)
                == LogitMath.argmax(exact, row: ids.count - 1))
    }

    @Test func reductionChangesAndRestoreRecoversTheModel() throws {
        let m = try #require(Self.model)
        let ids = m.tokenizer.encode("Beats Music is owned by")
        let before = try m.forward(ids, state: m.makeState(capacity: 32))
        let reducer = Reducer(model: m)
        let reports = try reducer.apply(try Intervention(parsing: "16:fc_out:0.01"))
        #expect(reports.map(\.rankKept) == [6])  // ⌊0.01 · min(640, 2048)⌋
        #expect(
            try m.forward(ids, state: m.makeState(capacity: 32)).maxAbsDifference(before) > 0.01)
        try reducer.restoreAll()
        #expect(try m.forward(ids, state: m.makeState(capacity: 32)) == before)
    }
}
