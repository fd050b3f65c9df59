// Values recorded from llama.cpp (llama-cpp-python 0.3.36, 2 threads) on the SmolLM2 GGUF by
// scripts/llamacpp_reference.py.

enum LlamaCppReference {
    /// `llm.tokenize(text.encode(), add_bos=False, special=False)`.
    static let tokenizations: [(String, [Int])] = [
        ("Hello world 12345 café!", [19556, 905, 216, 33, 34, 35, 36, 37, 37366, 17]),
        ("The capital of France is", [504, 3575, 282, 4649, 314]),
        ("  leading and trailing spaces  ", [216, 2899, 284, 35079, 5600, 256]),
        (
            "I'm sure they'll say we've done it, didn't they?",
            [57, 5248, 2090, 502, 3060, 1643, 392, 3543, 2294, 357, 28, 3683, 982, 502, 47]
        ),
        (
            "Numbers: 3.14159, 1,000,000 and 2024-11-22.",
            [
                39006, 42, 216, 35, 30, 33, 36, 33, 37, 41, 28, 216, 33, 28, 32, 32, 32, 28, 32, 32,
                32, 284, 216, 34, 32, 34, 36, 29, 33, 33, 29, 34, 34, 30,
            ]
        ),
        (
            "naïve résumé — “quotes” and emoji 😀🎉",
            [
                3546, 46494, 412, 2756, 5422, 2756, 1841, 619, 385, 2346, 573, 284, 649, 33777,
                40303, 218, 10813, 232, 227,
            ]
        ),
        (
            "日本語のテキストと中文",
            [
                23274, 115, 40993, 179, 120, 248, 26453, 11100, 224, 10391, 251, 10391, 134, 11100,
                226, 7365, 118, 28589, 29184,
            ]
        ),
        (
            "tabs\tand\nnewlines\r\n\n  indented",
            [100, 7366, 197, 397, 198, 2241, 5110, 201, 8866, 641, 6574]
        ),
        ("<|im_start|>user", [44, 108, 306, 79, 3738, 108, 46, 4093]),
        (
            "x = f(y) + 2*z; // C++ comment",
            [104, 446, 275, 24, 105, 25, 1232, 216, 34, 26, 106, 43, 13241, 340, 11444, 5189]
        ),
    ]

    /// Next-token logits after a prompt: llama.cpp's top tokens with their logits. Our Float32
    /// forward differs from llama.cpp's (which rounds activations to 8 bits for the quantized
    /// matrix products) by up to `tolerance`.
    struct NextToken {
        let prompt: String
        let top: [(token: Int, logit: Double)]
        let tolerance: Double
    }

    static let nextTokens: [NextToken] = [
        NextToken(
            prompt: "The capital of France is",
            top: [
                (7042, 17.3441), (260, 14.8042), (4528, 13.2078), (1315, 13.1494), (5145, 13.1207),
            ], tolerance: 0.4),
        NextToken(
            prompt: "Vinson Massif is located in the continent of",
            top: [
                (1910, 15.5090), (3518, 14.0411), (2601, 11.9936), (4649, 11.8678), (5255, 10.9553),
            ], tolerance: 0.4),
        NextToken(
            prompt: "Beats Music is owned by",
            top: [(260, 4.7530), (253, 4.2993), (216, 2.8691), (378, 2.5532), (354, 2.1582)],
            tolerance: 0.4),
        NextToken(
            prompt: "The Eiffel Tower is in the city of",
            top: [
                (7042, 13.7290), (7268, 10.9128), (30010, 10.5529), (11452, 10.2602),
                (1315, 10.1153),
            ], tolerance: 0.4),
        NextToken(
            prompt: "1, 2, 3, 4,",
            top: [
                (216, 21.6202), (284, 18.3550), (4563, 16.6145), (2686, 16.4553), (731, 16.2956),
            ], tolerance: 0.4),
    ]

    /// `create_completion("The capital of France is", max_tokens=10, temperature=0, top_k=1)`.
    static let capitalOfFrance = " Paris.\n\nThe United States has a population"
}
