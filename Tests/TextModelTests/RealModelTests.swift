// SmolLM2-135M itself: greedy text, next-token agreement with llama.cpp, and LASER on it.
// Skipped when the GGUF is absent (scripts/fetch-model.sh fetches it; CI does so first).
import Foundation
import Laser
import LinearAlgebra
import Testing

@testable import TextModel

@Suite(.serialized, .enabled(if: RealModel.isAvailable, RealModel.skipMessage))
struct RealModelTests {
    nonisolated(unsafe) static let model: LlamaModel? = RealModel.path.flatMap {
        try? LlamaModel(path: $0)
    }

    @Test func configurationIsSmolLM2() throws {
        let m = try #require(Self.model)
        #expect(
            m.config
                == (try LlamaConfig(
                    layers: 30, hiddenSize: 576, intermediateSize: 1536, heads: 9, kvHeads: 3,
                    vocabularySize: 49152,
                    contextLength: 8192, ropeBase: 100_000, rmsEpsilon: 1e-5)))
        #expect(m.outputWeight == nil)  // tied embeddings
        #expect(m.reducibleMatrices.count == 30 * 7)
    }

    @Test func capitalOfFranceContinuesLikeLlamaCpp() throws {
        let m = try #require(Self.model)
        let prompt = m.tokenizer.encode("The capital of France is")
        #expect(prompt == [504, 3575, 282, 4649, 314])
        let generated = try m.generate(prompt: prompt, maxNewTokens: 10)
        // llama.cpp continues " Paris.\n\nThe United States has". The sixth token is a near tie
        // (" answer" 14.62 vs " United" 14.40 here), within llama.cpp's 8-bit activation rounding;
        // the first five tokens must agree.
        #expect(Array(generated.prefix(5)) == [7042, 30, 198, 198, 504])
        #expect(m.tokenizer.decode(Array(generated.prefix(5))) == " Paris.\n\nThe")
    }

    @Test func nextTokensAgreeWithLlamaCpp() throws {
        let m = try #require(Self.model)
        for reference in LlamaCppReference.nextTokens {
            let logits = try m.forward(
                m.tokenizer.encode(reference.prompt), state: m.makeState(capacity: 64))
            #expect(LogitMath.argmax(logits) == reference.top[0].token, "\(reference.prompt)")
            for (token, logit) in reference.top {
                #expect(
                    abs(Double(logits[0, token]) - logit) < reference.tolerance,
                    "\(reference.prompt): token \(token) logit \(logits[0, token]) vs llama.cpp \(logit)"
                )
            }
        }
    }

    @Test func reductionChangesAndRestoreRecoversTheModel() throws {
        let m = try #require(Self.model)
        let tokens = m.tokenizer.encode("Beats Music is owned by")
        let before = try m.forward(tokens, state: m.makeState(capacity: 32))
        let reducer = Reducer(model: m)
        let reports = try reducer.apply(try Intervention(parsing: "28:fc_out:0.01"))
        #expect(reports.map(\.rankKept) == [5])
        #expect(m.layers[28].down.factoredRank == 5)
        let reduced = try m.forward(tokens, state: m.makeState(capacity: 32))
        #expect(reduced.maxAbsDifference(before) > 0.01)
        try reducer.restoreAll()
        #expect(m.layers[28].down.factoredRank == nil)
        // Restored to the file's blocks, not to a Float32 copy of them.
        #expect(m.layers[28].down.linear == nil && m.layers[28].down.quantized != nil)
        #expect(try m.forward(tokens, state: m.makeState(capacity: 32)) == before)
    }

    @Test func quantizedProductsAgreeWithTheFloat32Reference() throws {
        let m = try #require(Self.model)
        let path = try #require(RealModel.path)
        let reference = try LlamaModel(path: path, weights: .float32, threads: 1)
        #expect(m.layers[0].query.quantized?.type == .q4_1)
        #expect(m.embedding.quantized?.type == .q8_0)
        #expect(reference.layers[0].query.quantized == nil)
        for prompt in ["The capital of France is", "Beats Music is owned by"] {
            let tokens = m.tokenizer.encode(prompt)
            // Every position's logits, batched (prompt path) and one token at a time (generation).
            let quantized = try m.forward(tokens, state: m.makeState(capacity: 32), logitsFrom: 0)
            let exact = try reference.forward(
                tokens, state: reference.makeState(capacity: 32), logitsFrom: 0)
            let state = m.makeState(capacity: 32)
            for (i, token) in tokens.enumerated() {
                let step = try m.forward([token], state: state)
                let row = Tensor(
                    shape: [1, m.config.vocabularySize],
                    scalars: Array(
                        quantized.scalars[
                            (i * m.config.vocabularySize)..<((i + 1) * m.config.vocabularySize)]))
                // Single tokens multiply 16-bit activations, batches Float32 ones: logits of about
                // ±20 agree to a few thousandths.
                #expect(step.maxAbsDifference(row) < 1e-2, "\(prompt) position \(i)")
            }
            // 8-bit activations move logits by a few hundredths of their spread of about 20.
            for i in 0..<tokens.count {
                let v = m.config.vocabularySize
                let q = Array(quantized.scalars[(i * v)..<((i + 1) * v)])
                let e = Array(exact.scalars[(i * v)..<((i + 1) * v)])
                let difference = zip(q, e).map { abs($0 - $1) }.max()!
                #expect(difference < 0.6, "\(prompt) position \(i): \(difference)")
                let mean = zip(q, e).map { abs($0 - $1) }.reduce(0, +) / Float(v)
                #expect(mean < 0.1, "\(prompt) position \(i): mean \(mean)")
            }
            let v = m.config.vocabularySize
            let last = (tokens.count - 1) * v
            #expect(
                LogitMath.argmax(Tensor(shape: [1, v], scalars: Array(quantized.scalars[last...])))
                    == LogitMath.argmax(
                        Tensor(shape: [1, v], scalars: Array(exact.scalars[last...]))))
        }
    }
}
