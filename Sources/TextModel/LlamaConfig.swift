// The Llama architecture's hyperparameters, read and checked from a GGUF file's `llama.*` keys.

/// Errors building or running a language model.
public enum TextModelError: Error, CustomStringConvertible, Equatable {
    case unsupportedArchitecture(String)
    case invalidConfig(String)
    case tokenOutOfRange(Int, vocabulary: Int)
    case contextFull(needed: Int, capacity: Int)
    case emptyInput
    /// The model produced a NaN or infinite logit (its weights or a reduction are broken).
    case nonFiniteLogits(context: String)

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let a):
            return "model architecture '\(a)' is not supported (only 'llama')"
        case .invalidConfig(let why): return "invalid model configuration: \(why)"
        case .tokenOutOfRange(let id, let n):
            return "token id \(id) is outside the vocabulary of \(n)"
        case .contextFull(let needed, let capacity):
            return "sequence of \(needed) tokens exceeds the context capacity of \(capacity)"
        case .emptyInput: return "no tokens to run"
        case .nonFiniteLogits(let context):
            return
                "the model produced a non-finite logit (NaN or infinity) \(context); its weights are broken"
        }
    }
}

/// Sizes and constants of a Llama model.
public struct LlamaConfig: Sendable, Equatable {
    public var layers: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var heads: Int
    public var kvHeads: Int
    public var vocabularySize: Int
    public var contextLength: Int
    public var ropeBase: Float
    public var rmsEpsilon: Float

    public var headDim: Int { hiddenSize / heads }
    public var kvDim: Int { kvHeads * headDim }

    public init(
        layers: Int, hiddenSize: Int, intermediateSize: Int, heads: Int, kvHeads: Int,
        vocabularySize: Int, contextLength: Int, ropeBase: Float, rmsEpsilon: Float
    ) throws {
        self.layers = layers
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.heads = heads
        self.kvHeads = kvHeads
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.ropeBase = ropeBase
        self.rmsEpsilon = rmsEpsilon
        try validate()
    }

    /// Reads `llama.*` from the file (vocabulary size from the token list when not given).
    public init(gguf: GGUFFile) throws {
        let arch = (try? gguf.string("general.architecture")) ?? "(none)"
        guard arch == "llama" else { throw TextModelError.unsupportedArchitecture(arch) }
        let tokenCount = try gguf.value("tokenizer.ggml.tokens").arrayValue?.count ?? 0
        let vocab = (try? gguf.int("llama.vocab_size")) ?? tokenCount
        let heads = try gguf.int("llama.attention.head_count")
        try self.init(
            layers: try gguf.int("llama.block_count"),
            hiddenSize: try gguf.int("llama.embedding_length"),
            intermediateSize: try gguf.int("llama.feed_forward_length"),
            heads: heads,
            kvHeads: (try? gguf.int("llama.attention.head_count_kv")) ?? heads,
            vocabularySize: vocab,
            contextLength: (try? gguf.int("llama.context_length")) ?? 2048,
            ropeBase: Float((try? gguf.double("llama.rope.freq_base")) ?? 10000),
            rmsEpsilon: Float(try gguf.double("llama.attention.layer_norm_rms_epsilon")))
        if let ropeDims = try? gguf.int("llama.rope.dimension_count"), ropeDims != headDim {
            throw TextModelError.invalidConfig(
                "partial RoPE (\(ropeDims) of \(headDim) dims) is not supported")
        }
    }

    func validate() throws {
        let sizes = [
            layers, hiddenSize, intermediateSize, heads, kvHeads, vocabularySize, contextLength,
        ]
        guard sizes.allSatisfy({ $0 > 0 && $0 < 1 << 24 }) else {
            throw TextModelError.invalidConfig("sizes must be positive and below 2^24: \(sizes)")
        }
        guard hiddenSize % heads == 0, headDim % 2 == 0 else {
            throw TextModelError.invalidConfig(
                "width \(hiddenSize) does not split into \(heads) even-sized heads")
        }
        guard heads % kvHeads == 0 else {
            throw TextModelError.invalidConfig(
                "\(heads) heads are not a multiple of \(kvHeads) key/value heads")
        }
        guard ropeBase > 1, rmsEpsilon > 0, rmsEpsilon < 1 else {
            throw TextModelError.invalidConfig(
                "RoPE base \(ropeBase) or RMS epsilon \(rmsEpsilon) out of range")
        }
    }
}
