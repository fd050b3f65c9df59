// The Gemma 3 forward pass on a tiny random model written as GGUF, against a naive reference that
// spells out what differs from Llama: √width embedding scale, per-head query/key norms, RoPE on
// head halves, norms after attention and the MLP, GELU gating, sliding-window layers with their
// own RoPE base, and head size unrelated to the width.
import Core
import Foundation
import LinearAlgebra
import Testing

@testable import TextModel

/// A tiny random Gemma 3: 3 layers (pattern 3: layers 0 and 1 slide over 3 positions, layer 2 is
/// global), width 8, 2 query heads of 6 sharing 1 key/value head.
struct TinyGemma3 {
    let layers = 3, hidden = 8, heads = 2, kvHeads = 1, headDim = 6, ff = 12
    let window: Int
    let pattern = 3
    let globalBase = 1000.0, localBase = 50.0
    let tokens = ["<pad>", "<eos>", "<bos>", "▁a", "a", "b", "▁", "ab", "▁ab", "c"]
    var vocab: Int { tokens.count }
    var weights: [String: [Float]] = [:]
    var shapes: [String: [Int]] = [:]

    init(seed: UInt64, window: Int = 3) {
        self.window = window
        var rng = SplitMix64(seed: seed)
        func add(_ name: String, _ shape: [Int], scale: Float = 0.5, offset: Float = 0) {
            weights[name] = (0..<shape.reduce(1, *)).map { _ in
                offset + scale * Float(rng.nextNormal())
            }
            shapes[name] = shape
        }
        add("token_embd.weight", [vocab, hidden], scale: 0.3)
        add("output_norm.weight", [hidden], scale: 0.1, offset: 1)
        for l in 0..<layers {
            add("blk.\(l).attn_norm.weight", [hidden], scale: 0.1, offset: 1)
            add("blk.\(l).attn_q.weight", [heads * headDim, hidden])
            add("blk.\(l).attn_k.weight", [kvHeads * headDim, hidden])
            add("blk.\(l).attn_v.weight", [kvHeads * headDim, hidden])
            add("blk.\(l).attn_q_norm.weight", [headDim], scale: 0.1, offset: 1)
            add("blk.\(l).attn_k_norm.weight", [headDim], scale: 0.1, offset: 1)
            add("blk.\(l).attn_output.weight", [hidden, heads * headDim])
            add("blk.\(l).post_attention_norm.weight", [hidden], scale: 0.1, offset: 1)
            add("blk.\(l).ffn_norm.weight", [hidden], scale: 0.1, offset: 1)
            add("blk.\(l).ffn_gate.weight", [ff, hidden])
            add("blk.\(l).ffn_up.weight", [ff, hidden])
            add("blk.\(l).ffn_down.weight", [hidden, ff])
            add("blk.\(l).post_ffw_norm.weight", [hidden], scale: 0.1, offset: 1)
        }
    }

    func builder(architecture: String = "gemma3") -> GGUFBuilder {
        var b = GGUFBuilder()
        let a = architecture
        b.add("general.architecture", .string(a))
        b.add("\(a).block_count", .uint32(UInt32(layers)))
        b.add("\(a).context_length", .uint32(256))
        b.add("\(a).embedding_length", .uint32(UInt32(hidden)))
        b.add("\(a).feed_forward_length", .uint32(UInt32(ff)))
        b.add("\(a).attention.head_count", .uint32(UInt32(heads)))
        b.add("\(a).attention.head_count_kv", .uint32(UInt32(kvHeads)))
        b.add("\(a).attention.key_length", .uint32(UInt32(headDim)))
        b.add("\(a).attention.value_length", .uint32(UInt32(headDim)))
        b.add("\(a).attention.sliding_window", .uint32(UInt32(window)))
        b.add("\(a).attention.sliding_window_pattern", .uint32(UInt32(pattern)))
        b.add("\(a).rope.freq_base", .float32(Float(globalBase)))
        b.add("\(a).rope.freq_base_swa", .float32(Float(localBase)))
        b.add("\(a).attention.layer_norm_rms_epsilon", .float32(1e-6))
        b.add("tokenizer.ggml.model", .string("llama"))
        b.add("tokenizer.ggml.tokens", .array(elementType: 8, tokens.map { .string($0) }))
        b.add(
            "tokenizer.ggml.scores",
            .array(elementType: 6, (0..<vocab).map { .float32(-Float($0)) }))
        b.add(
            "tokenizer.ggml.token_type",
            .array(elementType: 5, [3, 3, 3, 1, 1, 1, 1, 1, 1, 1].map { .int32($0) }))
        b.add("tokenizer.ggml.bos_token_id", .uint32(2))
        b.add("tokenizer.ggml.eos_token_id", .uint32(1))
        b.add("tokenizer.ggml.add_space_prefix", .bool(false))
        for name in weights.keys.sorted() {
            b.addF32(name, dims: shapes[name]!.reversed(), values: weights[name]!)
        }
        return b
    }

    func load(weights format: WeightFormat = .quantized) throws -> LlamaModel {
        let path = builder().write(name: "tiny-gemma3")
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try LlamaModel(path: path, weights: format)
    }

    /// The whole sequence from scratch in Double, loops only.
    func referenceLogits(_ ids: [Int]) -> [[Double]] {
        func w(_ name: String) -> [Double] { weights[name]!.map(Double.init) }
        func linear(_ name: String, _ x: [Double]) -> [Double] {
            let m = w(name)
            let (rows, cols) = (shapes[name]![0], shapes[name]![1])
            return (0..<rows).map { r in (0..<cols).reduce(0.0) { $0 + m[r * cols + $1] * x[$1] } }
        }
        func norm(_ x: [Double], _ g: [Double]) -> [Double] {
            let scale = 1 / ((x.reduce(0) { $0 + $1 * $1 } / Double(x.count)) + 1e-6).squareRoot()
            return x.indices.map { x[$0] * scale * g[$0] }
        }
        /// Each head normalised, then its halves' pairs rotated.
        func headsNormedAndRotated(_ v: [Double], _ g: [Double], position: Int, base: Double)
            -> [Double]
        {
            var out: [Double] = []
            for start in stride(from: 0, to: v.count, by: headDim) {
                var head = norm(Array(v[start..<(start + headDim)]), g)
                let half = headDim / 2
                for i in 0..<half {
                    let theta = Double(position) * pow(base, -2 * Double(i) / Double(headDim))
                    let (a, b) = (head[i], head[i + half])
                    head[i] = a * cos(theta) - b * sin(theta)
                    head[i + half] = a * sin(theta) + b * cos(theta)
                }
                out += head
            }
            return out
        }
        func gelu(_ x: Double) -> Double {
            0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
        }
        let embedding = w("token_embd.weight")
        var h = ids.map { t in
            embedding[(t * hidden)..<((t + 1) * hidden)].map { $0 * Double(hidden).squareRoot() }
        }
        for l in 0..<layers {
            let slides = l % pattern < pattern - 1
            let base = slides ? localBase : globalBase
            let p = "blk.\(l)."
            let xn = h.map { norm($0, w(p + "attn_norm.weight")) }
            let q = xn.enumerated().map {
                headsNormedAndRotated(
                    linear(p + "attn_q.weight", $1), w(p + "attn_q_norm.weight"), position: $0,
                    base: base)
            }
            let k = xn.enumerated().map {
                headsNormedAndRotated(
                    linear(p + "attn_k.weight", $1), w(p + "attn_k_norm.weight"), position: $0,
                    base: base)
            }
            let v = xn.map { linear(p + "attn_v.weight", $0) }
            for i in ids.indices {
                let first = slides ? max(0, i - window + 1) : 0
                var attention = [Double](repeating: 0, count: heads * headDim)
                for head in 0..<heads {
                    var scores = (first...i).map { j in
                        (0..<headDim).reduce(0.0) { $0 + q[i][head * headDim + $1] * k[j][$1] }
                            / Double(headDim).squareRoot()
                    }
                    let top = scores.max()!
                    scores = scores.map { exp($0 - top) }
                    let total = scores.reduce(0, +)
                    for (n, j) in (first...i).enumerated() {
                        for d in 0..<headDim {
                            attention[head * headDim + d] += scores[n] / total * v[j][d]
                        }
                    }
                }
                let o = norm(
                    linear(p + "attn_output.weight", attention), w(p + "post_attention_norm.weight")
                )
                for c in 0..<hidden { h[i][c] += o[c] }
            }
            for i in ids.indices {
                let x = norm(h[i], w(p + "ffn_norm.weight"))
                let gate = linear(p + "ffn_gate.weight", x)
                let up = linear(p + "ffn_up.weight", x)
                let down = norm(
                    linear(p + "ffn_down.weight", gate.indices.map { gelu(gate[$0]) * up[$0] }),
                    w(p + "post_ffw_norm.weight"))
                for c in 0..<hidden { h[i][c] += down[c] }
            }
        }
        return h.map { linear("token_embd.weight", norm($0, w("output_norm.weight"))) }
    }
}

@Suite struct Gemma3ForwardTests {
    let tiny = TinyGemma3(seed: 5)
    /// Longer than the window, so the sliding layers forget what the global one still sees.
    let ids = [2, 3, 4, 5, 6, 7, 8, 9, 4, 3, 5]

    @Test func configurationComesFromTheGemma3Keys() throws {
        let c = try tiny.load().config
        #expect(c.architecture == .gemma3)
        #expect(c.headDim == 6 && c.queryWidth == 12 && c.kvDim == 6)
        #expect(c.slidingWindow == 3 && c.localRopeBase == 50 && c.ropeBase == 1000)
        #expect((0..<3).map { c.slides(layer: $0) } == [true, true, false])
    }

    @Test func matchesNaiveReference() throws {
        let model = try tiny.load()
        let logits = try model.forward(ids, state: model.makeState(capacity: 32), logitsFrom: 0)
        let diff = maxDifference(logits, tiny.referenceLogits(ids))
        #expect(diff < 1e-4, "max |difference| \(diff)")
    }

    @Test func slidingWindowMattersAndTokenByTokenEqualsBatched() throws {
        let model = try tiny.load()
        let batched = try model.forward(ids, state: model.makeState(capacity: 32), logitsFrom: 0)
        let state = model.makeState(capacity: 32)
        var rows: [Float] = []
        for id in ids { rows += try model.forward([id], state: state).scalars }
        #expect(Tensor(shape: batched.shape, scalars: rows).maxAbsDifference(batched) < 1e-4)
        // The same model with no window differs once the sequence outgrows the window.
        let wide = try TinyGemma3(seed: 5, window: 64).load()
        let wideLogits = try wide.forward(ids, state: wide.makeState(capacity: 32), logitsFrom: 0)
        let v = tiny.vocab
        let early = Tensor(shape: [3, v], scalars: Array(wideLogits.scalars[0..<(3 * v)]))
        #expect(
            early.maxAbsDifference(
                Tensor(shape: [3, v], scalars: Array(batched.scalars[0..<(3 * v)]))) < 1e-5)
        #expect(wideLogits.maxAbsDifference(batched) > 1e-3)
    }

    @Test func unknownArchitectureIsNamed() throws {
        let path = tiny.builder(architecture: "mamba").write(name: "tiny-mamba")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            try LlamaModel(path: path)
        } throws: { error in
            "\(error)".contains("'mamba' is not supported (known: llama, gemma3)")
        }
    }
}
