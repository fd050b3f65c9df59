// A decoder's weights (SmolLM2 / Llama, Gemma 3) loaded from GGUF, kept quantized or dequantized
// to Float32, and exposed to LASER.
import Core
import Laser
import LinearAlgebra

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One transformer block's weights; linear weights are (out, in) and may be factored by LASER.
struct LlamaLayer {
    var attentionNorm: [Float]  // (hidden)
    var query: LlamaMatrix  // (queryWidth, hidden)
    var key: LlamaMatrix  // (kvDim, hidden)
    var value: LlamaMatrix  // (kvDim, hidden)
    var output: LlamaMatrix  // (hidden, queryWidth)
    var ffnNorm: [Float]  // (hidden)
    var gate: LlamaMatrix  // (intermediate, hidden)
    var up: LlamaMatrix  // (intermediate, hidden)
    var down: LlamaMatrix  // (hidden, intermediate)
    /// Per-head query and key norms (headDim), when the architecture has them.
    var queryNorm: [Float]? = nil
    var keyNorm: [Float]? = nil
    /// Norms of the attention and MLP outputs (hidden), when the architecture has them.
    var postAttentionNorm: [Float]? = nil
    var postFFNNorm: [Float]? = nil
}

/// A decoder-only language model (SmolLM2-135M by default; any `Architecture`) running on the CPU:
/// weights kept in the file's quantized blocks (or all in Float32, the reference), activations in
/// Float32.
public final class LlamaModel: ReducibleModel {
    public let config: LlamaConfig
    public let tokenizer: any TextTokenizer
    public let weightFormat: WeightFormat
    /// (vocab, hidden) token embeddings; also the output projection when tied.
    let embedding: LlamaMatrix
    /// The output projection when not tied to the embedding.
    let outputWeight: LlamaMatrix?
    let outputNorm: [Float]
    /// The threads of the quantized products.
    let pool: QuantizedThreadPool
    /// Quantized activations of the forward pass, grown to the largest batch seen.
    let activationMemory = ScratchMemory()
    var layers: [LlamaLayer]
    /// Scratch memory of the forward pass, grown to the largest batch seen.
    let scratchMemory = ScratchMemory()
    /// RoPE cos/sin of the global and the sliding-window layers for positions < contextLength,
    /// (position, headDim / 2) each, built on demand.
    private(set) var ropeTables: (global: RopeTable, local: RopeTable)

    /// Each reducible matrix once: the reference code's type, the GGUF tensor name, the layer field.
    struct Matrix: Sendable {
        let type: String
        let gguf: String
        let field: WritableKeyPath<LlamaLayer, LlamaMatrix> & Sendable
    }
    static let matrices: [Matrix] = [
        Matrix(type: "q_proj", gguf: "attn_q", field: \.query),
        Matrix(type: "k_proj", gguf: "attn_k", field: \.key),
        Matrix(type: "v_proj", gguf: "attn_v", field: \.value),
        Matrix(type: "out_proj", gguf: "attn_output", field: \.output),
        Matrix(type: "fc_in", gguf: "ffn_gate", field: \.gate),
        Matrix(type: "fc_up", gguf: "ffn_up", field: \.up),
        Matrix(type: "fc_out", gguf: "ffn_down", field: \.down),
    ]

    /// Loads the model and tokenizer from a GGUF file. `.quantized` keeps Q4_0, Q4_1, Q5_0, Q8_0, Q4_K
    /// and Q6_K matrices in the mapped file; `threads` run the quantized products.
    public convenience init(
        path: String, weights: WeightFormat = .quantized, threads: Int = defaultThreads
    ) throws {
        try self.init(gguf: try GGUFFile(path: path), weights: weights, threads: threads)
    }

    /// Every core, or LASER_WORKERS when set (`Workers.default`).
    public static var defaultThreads: Int { Workers.default }

    public init(gguf: GGUFFile, weights: WeightFormat = .quantized, threads: Int = defaultThreads)
        throws
    {
        let c = try LlamaConfig(gguf: gguf)
        config = c
        weightFormat = weights
        // The forward pass spreads products and attention heads over these threads; run BLAS
        // single-threaded beside them (the CLI's --blas-threads default) rather than oversubscribe.
        pool = QuantizedThreadPool(threads: threads)
        tokenizer = try makeTokenizer(gguf: gguf)
        guard tokenizer.vocabularySize == c.vocabularySize else {
            throw TextModelError.invalidConfig(
                "vocabulary of \(tokenizer.vocabularySize) tokens but vocab_size \(c.vocabularySize)"
            )
        }
        let h = c.hiddenSize
        let qw = c.queryWidth
        let kv = c.kvDim
        let ff = c.intermediateSize
        let hd = c.headDim
        func matrix(_ name: String, _ shape: [Int]) throws -> LlamaMatrix {
            if weights == .quantized, let q = try gguf.quantizedMatrix(named: name, shape: shape) {
                return LlamaMatrix(quantized: q)
            }
            return LlamaMatrix(dense: try gguf.tensor(named: name, shape: shape))
        }
        embedding = try matrix("token_embd.weight", [c.vocabularySize, h])
        outputWeight =
            gguf.hasTensor(named: "output.weight")
            ? try matrix("output.weight", [c.vocabularySize, h]) : nil
        outputNorm = try gguf.tensor(named: "output_norm.weight", shape: [h]).scalars
        var layers: [LlamaLayer] = []
        for i in 0..<c.layers {
            func w(_ name: String, _ shape: [Int]) throws -> LlamaMatrix {
                try matrix("blk.\(i).\(name).weight", shape)
            }
            func norm(_ name: String, _ width: Int) throws -> [Float] {
                try gguf.tensor(named: "blk.\(i).\(name).weight", shape: [width]).scalars
            }
            var layer = LlamaLayer(
                attentionNorm: try norm("attn_norm", h),
                query: try w("attn_q", [qw, h]), key: try w("attn_k", [kv, h]),
                value: try w("attn_v", [kv, h]), output: try w("attn_output", [h, qw]),
                ffnNorm: try norm("ffn_norm", h),
                gate: try w("ffn_gate", [ff, h]), up: try w("ffn_up", [ff, h]),
                down: try w("ffn_down", [h, ff]))
            if c.architecture.normalisesQueryKey {
                layer.queryNorm = try norm("attn_q_norm", hd)
                layer.keyNorm = try norm("attn_k_norm", hd)
            }
            if c.architecture.normalisesSublayerOutputs {
                layer.postAttentionNorm = try norm("post_attention_norm", h)
                layer.postFFNNorm = try norm("post_ffw_norm", h)
            }
            layers.append(layer)
        }
        self.layers = layers
        ropeTables = (
            RopeTable(base: c.ropeBase, scale: c.ropeScale, headDim: hd),
            RopeTable(base: c.localRopeBase, scale: 1, headDim: hd)
        )
    }

    /// A fresh sequence state holding up to `capacity` tokens (at most the context length).
    public func makeState(capacity: Int = 1024) -> LlamaState {
        LlamaState(config: config, capacity: max(1, min(capacity, config.contextLength)))
    }

    /// Ensures the RoPE tables cover `positions`.
    func ensureRope(positions: Int) {
        let n = min(config.contextLength, positions)
        ropeTables.global.ensure(positions: n, limit: config.contextLength)
        if config.slidingWindow != nil {
            ropeTables.local.ensure(positions: n, limit: config.contextLength)
        }
    }

    /// The RoPE table of layer `l`.
    func ropeTable(layer l: Int) -> RopeTable {
        config.slides(layer: l) ? ropeTables.local : ropeTables.global
    }

    // MARK: ReducibleModel

    public var reducibleMatrices: [WeightMatrixInfo] {
        var infos: [WeightMatrixInfo] = []
        for (i, layer) in layers.enumerated() {
            for m in Self.matrices {
                let w = layer[keyPath: m.field]
                infos.append(
                    WeightMatrixInfo(
                        name: "blk.\(i).\(m.gguf).weight", layer: i, type: m.type,
                        rows: w.rows, columns: w.columns))
            }
        }
        return infos
    }

    public func weightMatrix(named name: String) throws -> Tensor {
        let (layer, m) = try locate(name)
        return layers[layer][keyPath: m.field].dense
    }

    public func setWeightMatrix(named name: String, to value: WeightValue) throws {
        let (layer, m) = try locate(name)
        layers[layer][keyPath: m.field].set(value)
    }

    /// The layer and matrix of a name such as `blk.27.ffn_gate.weight`.
    private func locate(_ name: String) throws -> (Int, Matrix) {
        let parts = name.split(separator: ".")
        if parts.count == 4, parts[0] == "blk", parts[3] == "weight", let layer = Int(parts[1]),
            layer >= 0, layer < layers.count,
            let m = Self.matrices.first(where: { $0.gguf == parts[2] })
        {
            return (layer, m)
        }
        throw LaserError.unknownMatrix(name, known: reducibleMatrices.map(\.name))
    }
}

/// RoPE's cos and sin for positions < `positions`, (position, headDim / 2): dimension pair i turns by
/// (position / scale) · base^(−2i/headDim), as llama.cpp computes it.
struct RopeTable {
    let base: Float
    let scale: Float
    let headDim: Int
    private(set) var cosines: [Float] = []
    private(set) var sines: [Float] = []
    private(set) var positions = 0

    init(base: Float, scale: Float, headDim: Int) {
        self.base = base
        self.scale = scale
        self.headDim = headDim
    }

    mutating func ensure(positions needed: Int, limit: Int) {
        if positions >= needed { return }
        let n = min(limit, max(needed, 2 * positions, 256))
        let half = headDim / 2
        var cosTable = [Float](repeating: 0, count: n * half)
        var sinTable = [Float](repeating: 0, count: n * half)
        for p in 0..<n {
            for i in 0..<half {
                let theta =
                    Double(p) / Double(scale)
                    * pow(Double(base), -2.0 * Double(i) / Double(headDim))
                cosTable[p * half + i] = Float(cos(theta))
                sinTable[p * half + i] = Float(sin(theta))
            }
        }
        cosines = cosTable
        sines = sinTable
        positions = n
    }
}
