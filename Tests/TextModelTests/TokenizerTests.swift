// Tokenizer: the pre-tokenizer's splits, BPE merge order on a tiny vocabulary, and the real
// SmolLM2 vocabulary against token ids from llama.cpp.
import Core
import Foundation
import LinearAlgebra
import Testing

@testable import TextModel

@Suite struct PreTokenizerTests {
    @Test func smollmSplitsDigitsFirst() {
        #expect(
            PreTokenizer.smollm.split("Hello world 12345 café!")
                == ["Hello", " world", " ", "1", "2", "3", "4", "5", " café", "!"])
        #expect(
            PreTokenizer.gpt2.split("Hello world 12345 café!")
                == ["Hello", " world", " 12345", " café", "!"])
    }

    @Test func gpt2Pattern() {
        let p = PreTokenizer.gpt2
        #expect(
            p.split("I'm we've they'll it's") == [
                "I", "'m", " we", "'ve", " they", "'ll", " it", "'s",
            ])
        #expect(p.split("a   b") == ["a", "  ", " b"])
        #expect(p.split("a  ") == ["a", "  "])
        #expect(p.split("x\n\ny") == ["x", "\n", "\n", "y"])
        #expect(p.split(" ...!? ok") == [" ...!?", " ok"])
        #expect(p.split("日本語テキスト") == ["日本語テキスト"])
        #expect(p.split("") == [])
    }

    @Test func splitsConcatenateBackToTheText() {
        var rng = SplitMix64(seed: 3)
        let alphabet = Array("ab Z9'\n\t.,é日😀 ").map(String.init)
        for _ in 0..<300 {
            let n = Int(rng.next() % 20)
            let text = (0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
                .joined()
            for p in [PreTokenizer.gpt2, .smollm] {
                let words = p.split(text)
                #expect(words.joined() == text)
                #expect(!words.contains(""))
            }
        }
    }

    @Test func namesFromGGUF() {
        #expect(PreTokenizer(ggufName: "smollm") == .smollm)
        #expect(PreTokenizer(ggufName: "gpt2") == .gpt2)
        #expect(PreTokenizer(ggufName: "llama-bpe") == nil)
    }
}

@Suite struct BPETests {
    static func tiny() throws -> BPETokenizer {
        // Ġ is the byte-level character of the space byte.
        try BPETokenizer(
            tokens: ["a", "b", "c", "Ġ", "ab", "abc", "Ġa", "<|end|>"],
            tokenTypes: [1, 1, 1, 1, 1, 1, 1, 3],
            merges: ["a b", "ab c", "Ġ a"], preTokenizer: .gpt2, bosID: 7, eosID: 7)
    }

    @Test func mergesLowestRankFirst() throws {
        let t = try Self.tiny()
        // "abc" → a b c → ab c → abc.  " ab" → Ġ a b: (a b) ranks before (Ġ a) → Ġ ab.
        #expect(t.encode("abc ab") == [5, 3, 4])
        #expect(t.encode(" a") == [6])
        #expect(t.decode([5, 3, 4]) == "abc ab")
        #expect(t.encode("abc", addBOS: true) == [7, 5])
    }

    @Test func specialTokens() throws {
        let t = try Self.tiny()
        #expect(t.encode("ab<|end|>c", parseSpecial: true) == [4, 7, 2])
        // Unparsed, the marker's bytes are not in this vocabulary and are dropped.
        #expect(t.encode("ab<|end|>c") == [4, 2])
        #expect(t.decode([4, 7, 2]) == "abc")
        #expect(t.decode([4, 7, 2], special: true) == "ab<|end|>c")
    }

    /// llama.cpp's partition: user-defined tokens are always cut out, control tokens only when
    /// parsed, and the longest token first wherever it is (not the leftmost match).
    @Test func specialTokensAreCutOutAsLlamaCppDoes() throws {
        let t = try BPETokenizer(
            tokens: ["a", "b", "c", "Ġ", "ab", "<x>", "<x><y>", "<|end|>", "x", "<", ">"],
            tokenTypes: [1, 1, 1, 1, 1, 4, 4, 3, 1, 1, 1], merges: ["a b"], preTokenizer: .gpt2)
        #expect(t.encode("a<x>b") == [0, 5, 1], "user-defined, not parsed")
        #expect(t.encode("a<|end|>b", parseSpecial: true) == [0, 7, 1])
        #expect(t.encode("a<|end|>b").contains(7) == false, "control, not parsed")
        // Leftmost-first would take <x> at 0 and then never see <x><y>; longest-first finds it.
        #expect(t.encode("<x><x><y>") == [5, 6])
    }

    @Test func badMetadataIsAnError() {
        #expect(throws: TokenizerError.badMerge(index: 0, text: "a z")) {
            try BPETokenizer(
                tokens: ["a", "b"], tokenTypes: nil, merges: ["a z"], preTokenizer: .gpt2)
        }
        #expect(throws: TokenizerError.badMerge(index: 0, text: "ab")) {
            try BPETokenizer(
                tokens: ["a", "b"], tokenTypes: nil, merges: ["ab"], preTokenizer: .gpt2)
        }
        #expect(throws: TokenizerError.inconsistent("1 token types for 2 tokens")) {
            try BPETokenizer(tokens: ["a", "b"], tokenTypes: [1], merges: [], preTokenizer: .gpt2)
        }
        #expect(throws: TokenizerError.inconsistent("special token id 9 is outside the vocabulary"))
        {
            try BPETokenizer(
                tokens: ["a"], tokenTypes: nil, merges: [], preTokenizer: .gpt2, bosID: 9)
        }
    }
}

@Suite(.enabled(if: RealModel.isAvailable, RealModel.skipMessage))
struct RealTokenizerTests {
    static let tokenizer: BPETokenizer? = RealModel.path.flatMap {
        try? BPETokenizer(gguf: GGUFFile(path: $0))
    }

    /// Token ids llama.cpp (llama-cpp-python 0.3.36, `tokenize(text, add_bos=False, special=False)`)
    /// gives for each string with this GGUF.
    static let expected: [(String, [Int])] = LlamaCppReference.tokenizations

    @Test func matchesLlamaCpp() throws {
        let t = try #require(Self.tokenizer)
        #expect(t.vocabularySize == 49152)
        #expect(t.preTokenizer == .smollm)
        #expect(t.addBOS == false)
        for (text, ids) in Self.expected {
            #expect(t.encode(text) == ids, "\(text.debugDescription)")
            #expect(t.decode(ids) == text, "\(text.debugDescription)")
        }
    }

    @Test func chatMarkersAreSpecialTokens() throws {
        let t = try #require(Self.tokenizer)
        #expect(t.encode("<|im_start|>user", parseSpecial: true) == [1, 4093])
        #expect(t.decode([1, 4093, 2], special: true) == "<|im_start|>user<|im_end|>")
        #expect(t.decode([1, 4093, 2]) == "user")
    }
}
