// SmolLM2 / Llama weights loaded from GGUF (kept quantized, or dequantized to Float32) and exposed
// to LASER.
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
    var query: LlamaMatrix  // (hidden, hidden)
    var key: LlamaMatrix  // (kvDim, hidden)
    var value: LlamaMatrix  // (kvDim, hidden)
    var output: LlamaMatrix  // (hidden, hidden)
    var ffnNorm: [Float]  // (hidden)
    var gate: LlamaMatrix  // (intermediate, hidden)
    var up: LlamaMatrix  // (intermediate, hidden)
    var down: LlamaMatrix  // (hidden, intermediate)
}

/// A Llama-architecture language model (SmolLM2-135M by default) running on the CPU: weights kept
/// in the file's quantized blocks (or all in Float32, the reference), activations in Float32.
public final class LlamaModel: ReducibleModel {
    public let config: LlamaConfig
    public let tokenizer: BPETokenizer
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
    /// RoPE cos/sin for positions < contextLength, (position, headDim / 2), built on demand.
    private(set) var ropeTable: (cos: [Float], sin: [Float], positions: Int) = ([], [], 0)

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

    /// Loads the model and tokenizer from a GGUF file. `.quantized` keeps Q4_0, Q4_1, Q8_0, Q4_K
    /// and Q6_K matrices in the mapped file; `threads` run the quantized products.
    public convenience init(
        path: String, weights: WeightFormat = .quantized, threads: Int = defaultThreads
    ) throws {
        try self.init(gguf: try GGUFFile(path: path), weights: weights, threads: threads)
    }

    /// Every core, or LASER_WORKERS when set.
    public static var defaultThreads: Int {
        if let text = getenv("LASER_WORKERS"), let n = Int(String(cString: text)), n >= 1 {
            return min(n, 256)
        }
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    public init(gguf: GGUFFile, weights: WeightFormat = .quantized, threads: Int = defaultThreads)
        throws
    {
        let c = try LlamaConfig(gguf: gguf)
        config = c
        weightFormat = weights
        pool = QuantizedThreadPool(threads: threads)
        // The forward pass spreads products and attention heads over its own threads; BLAS calls
        // inside them (attention, LASER factors) run single-threaded rather than oversubscribe.
        OpenBLASInfo.setThreads(1)
        tokenizer = try BPETokenizer(gguf: gguf)
        guard tokenizer.vocabularySize == c.vocabularySize else {
            throw TextModelError.invalidConfig(
                "vocabulary of \(tokenizer.vocabularySize) tokens but vocab_size \(c.vocabularySize)"
            )
        }
        let h = c.hiddenSize
        let kv = c.kvDim
        let ff = c.intermediateSize
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
            layers.append(
                LlamaLayer(
                    attentionNorm: try gguf.tensor(named: "blk.\(i).attn_norm.weight", shape: [h])
                        .scalars,
                    query: try w("attn_q", [h, h]), key: try w("attn_k", [kv, h]),
                    value: try w("attn_v", [kv, h]), output: try w("attn_output", [h, h]),
                    ffnNorm: try gguf.tensor(named: "blk.\(i).ffn_norm.weight", shape: [h]).scalars,
                    gate: try w("ffn_gate", [ff, h]), up: try w("ffn_up", [ff, h]),
                    down: try w("ffn_down", [h, ff])))
        }
        self.layers = layers
    }

    /// A fresh sequence state holding up to `capacity` tokens (at most the context length).
    public func makeState(capacity: Int = 1024) -> LlamaState {
        LlamaState(config: config, capacity: max(1, min(capacity, config.contextLength)))
    }

    /// Ensures the RoPE table covers `positions` (llama.cpp's NORM mode: adjacent pairs rotate by
    /// position · base^(−2i/headDim)).
    func ensureRope(positions: Int) {
        if ropeTable.positions >= positions { return }
        let n = min(config.contextLength, max(positions, 2 * ropeTable.positions, 256))
        let half = config.headDim / 2
        var cosTable = [Float](repeating: 0, count: n * half)
        var sinTable = [Float](repeating: 0, count: n * half)
        for p in 0..<n {
            for i in 0..<half {
                let theta =
                    Double(p)
                    * pow(Double(config.ropeBase), -2.0 * Double(i) / Double(config.headDim))
                cosTable[p * half + i] = Float(cos(theta))
                sinTable[p * half + i] = Float(sin(theta))
            }
        }
        ropeTable = (cosTable, sinTable, n)
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
