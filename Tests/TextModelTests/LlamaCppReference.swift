// Values recorded from llama.cpp (llama-cpp-python 0.3.36, 2 threads) on the SmolLM2 GGUF.

enum LlamaCppReference {
    /// `llm.tokenize(text.encode(), add_bos=False, special=False)`.
    static let tokenizations: [(String, [Int])] = [
        ("Hello world 12345 café!", [19556, 905, 216, 33, 34, 35, 36, 37, 37366, 17])
    ]

    /// Next-token logits after a prompt: llama.cpp's top tokens with their logits. Our Float32
    /// forward differs from llama.cpp's (which rounds activations to 8 bits for the quantized
    /// matrix products) by up to `tolerance`.
    struct NextToken {
        let prompt: String
        let top: [(token: Int, logit: Double)]
        let tolerance: Double
    }

    static let nextTokens: [NextToken] = []
}
