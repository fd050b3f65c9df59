// A decoder's hyperparameters, read and checked from a GGUF file's `ARCH.*` keys, and the one place
// that says what each supported architecture (`llama`, `gemma3`) does differently.

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
            return
                "model architecture '\(a)' is not supported (known: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")))"
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

/// The decoder families the forward pass runs, each as llama.cpp builds its graph.
public enum Architecture: String, Sendable, CaseIterable {
    /// Llama (SmolLM2): pre-norm blocks, SwiGLU MLP, RoPE on adjacent pairs, every layer global.
    case llama
    /// Gemma 3: embeddings scaled by √width, RMSNorm on each query and key head, norms after
    /// attention and after the MLP as well as before, GELU-gated MLP, RoPE on the two halves of each
    /// head, five sliding-window layers (local RoPE base) to one global layer.
    case gemma3

    /// How RoPE pairs a head's dimensions.
    public enum RopeStyle: Sendable { case adjacent, halves }
    /// The gate's nonlinearity in the gated MLP.
    public enum Activation: Sendable { case silu, gelu }

    var ropeStyle: RopeStyle { self == .llama ? .adjacent : .halves }
    var activation: Activation { self == .llama ? .silu : .gelu }
    /// Embedding rows are multiplied by √width before the first layer.
    var scalesEmbedding: Bool { self == .gemma3 }
    /// Queries and keys are RMS-normalised per head (weights `attn_q_norm`, `attn_k_norm`).
    var normalisesQueryKey: Bool { self == .gemma3 }
    /// Attention and MLP outputs are RMS-normalised before the residual add (`post_attention_norm`,
    /// `post_ffw_norm`).
    var normalisesSublayerOutputs: Bool { self == .gemma3 }
}

/// Sizes and constants of a decoder.
public struct LlamaConfig: Sendable, Equatable {
    public var architecture: Architecture
    public var layers: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var heads: Int
    public var kvHeads: Int
    public var vocabularySize: Int
    public var contextLength: Int
    /// RoPE base of the global layers (and of every layer without a sliding window).
    public var ropeBase: Float
    public var rmsEpsilon: Float
    /// Width of one query, key or value head.
    public var headDim: Int
    /// Positions a sliding-window layer attends to (its own included); nil: none slides.
    public var slidingWindow: Int?
    /// Every `slidingPattern`-th layer (the last of each group) is global, the others slide.
    public var slidingPattern: Int
    /// RoPE base of the sliding-window layers.
    public var localRopeBase: Float
    /// Positions are divided by this before RoPE in the global layers (linear RoPE scaling).
    public var ropeScale: Float
    /// Queries are multiplied by this before attention.
    public var attentionScale: Float
    /// Logits become c·tanh(logit/c) when set.
    public var finalLogitSoftcap: Float?

    /// Width of all query heads together (the hidden width for Llama).
    public var queryWidth: Int { heads * headDim }
    public var kvDim: Int { kvHeads * headDim }

    /// Whether layer `l` attends over a sliding window.
    public func slides(layer l: Int) -> Bool {
        slidingWindow != nil && l % slidingPattern < slidingPattern - 1
    }

    public init(
        architecture: Architecture = .llama, layers: Int, hiddenSize: Int, intermediateSize: Int,
        heads: Int, kvHeads: Int, vocabularySize: Int, contextLength: Int, ropeBase: Float,
        rmsEpsilon: Float, headDim: Int? = nil, slidingWindow: Int? = nil, slidingPattern: Int = 1,
        localRopeBase: Float? = nil, ropeScale: Float = 1, attentionScale: Float? = nil,
        finalLogitSoftcap: Float? = nil
    ) throws {
        self.architecture = architecture
        self.layers = layers
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.heads = heads
        self.kvHeads = kvHeads
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.ropeBase = ropeBase
        self.rmsEpsilon = rmsEpsilon
        let headDim = headDim ?? hiddenSize / max(1, heads)
        self.headDim = headDim
        self.slidingWindow = slidingWindow
        self.slidingPattern = slidingPattern
        self.localRopeBase = localRopeBase ?? ropeBase
        self.ropeScale = ropeScale
        self.attentionScale = attentionScale ?? 1 / Float(max(1, headDim)).squareRoot()
        self.finalLogitSoftcap = finalLogitSoftcap
        try validate()
    }

    /// Reads `ARCH.*` from the file (vocabulary size from the token list when not given).
    public init(gguf: GGUFFile) throws {
        let name = (try? gguf.string("general.architecture")) ?? "(none)"
        guard let arch = Architecture(rawValue: name) else {
            throw TextModelError.unsupportedArchitecture(name)
        }
        func key(_ k: String) -> String { name + "." + k }
        let tokenCount = try gguf.value("tokenizer.ggml.tokens").arrayValue?.count ?? 0
        let vocab = (try? gguf.int(key("vocab_size"))) ?? tokenCount
        let heads = try gguf.int(key("attention.head_count"))
        let hidden = try gguf.int(key("embedding_length"))
        let headDim = (try? gguf.int(key("attention.key_length"))) ?? hidden / max(1, heads)
        if let valueDim = try? gguf.int(key("attention.value_length")), valueDim != headDim {
            throw TextModelError.invalidConfig(
                "value heads of \(valueDim) differ from key heads of \(headDim)")
        }
        let layers = try gguf.int(key("block_count"))
        var window: Int? = nil
        var pattern = 1
        var localBase: Float? = nil
        var attentionScale: Float? = nil
        if arch == .gemma3 {
            // llama.cpp's gemma3 defaults: pattern 6, local base 10,000; the 27B model scales
            // queries by the width per head rather than the head size.
            if let w = try? gguf.int(key("attention.sliding_window")), w > 0 { window = w }
            pattern = (try? gguf.int(key("attention.sliding_window_pattern"))) ?? 6
            localBase = Float((try? gguf.double(key("rope.freq_base_swa"))) ?? 10000)
            if layers == 62 { attentionScale = 1 / Float(hidden / heads).squareRoot() }
        }
        var ropeScale: Float = 1
        if let type = try? gguf.string(key("rope.scaling.type")), type != "none" {
            guard type == "linear" else {
                throw TextModelError.invalidConfig("RoPE scaling '\(type)' is not supported")
            }
            ropeScale = Float((try? gguf.double(key("rope.scaling.factor"))) ?? 1)
        }
        let softcap = (try? gguf.double(key("final_logit_softcapping"))).map(Float.init)
        try self.init(
            architecture: arch,
            layers: layers,
            hiddenSize: hidden,
            intermediateSize: try gguf.int(key("feed_forward_length")),
            heads: heads,
            kvHeads: (try? gguf.int(key("attention.head_count_kv"))) ?? heads,
            vocabularySize: vocab,
            contextLength: (try? gguf.int(key("context_length"))) ?? 2048,
            ropeBase: Float((try? gguf.double(key("rope.freq_base"))) ?? 10000),
            rmsEpsilon: Float(try gguf.double(key("attention.layer_norm_rms_epsilon"))),
            headDim: headDim, slidingWindow: window, slidingPattern: pattern,
            localRopeBase: localBase, ropeScale: ropeScale, attentionScale: attentionScale,
            finalLogitSoftcap: softcap.flatMap { $0 > 0 ? $0 : nil })
        if let ropeDims = try? gguf.int(key("rope.dimension_count")), ropeDims != headDim {
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
        guard headDim > 0, headDim % 2 == 0, headDim < 1 << 16 else {
            throw TextModelError.invalidConfig("head size \(headDim) is not a positive even number")
        }
        guard architecture != .llama || hiddenSize == heads * headDim else {
            throw TextModelError.invalidConfig(
                "width \(hiddenSize) does not split into \(heads) even-sized heads")
        }
        guard slidingPattern >= 1, (slidingWindow ?? 1) >= 1, ropeScale > 0,
            localRopeBase > 1, attentionScale > 0, (finalLogitSoftcap ?? 1) > 0
        else {
            throw TextModelError.invalidConfig(
                "sliding window, RoPE scaling, attention scale or soft cap out of range")
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
