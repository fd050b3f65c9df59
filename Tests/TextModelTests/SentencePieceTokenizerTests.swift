// The SentencePiece tokenizer on small vocabularies built to show each rule of llama.cpp's SPM
// session: merge order by score, ties to the left, byte fallback, special-token splitting, the
// space prefix, and decoding back.
import Testing

@testable import TextModel

@Suite struct SentencePieceTokenizerTests {
    /// Pieces with scores; types: 1 normal, 3 control, 4 user-defined, 6 byte.
    static func make(
        _ pieces: [(String, Float, Int)], spacePrefix: Bool = false, bytes: Bool = false
    ) throws -> SentencePieceTokenizer {
        var all = pieces
        if bytes {
            for b in 0..<256 {
                let hex = String(b, radix: 16, uppercase: true)
                all.append(("<0x" + (hex.count == 1 ? "0" : "") + hex + ">", 0, 6))
            }
        }
        return try SentencePieceTokenizer(
            tokens: all.map(\.0), scores: all.map(\.1), tokenTypes: all.map(\.2), bosID: 0,
            eosID: 1, addBOS: false, addSpacePrefix: spacePrefix)
    }

    static let base: [(String, Float, Int)] = [
        ("<bos>", 0, 3), ("<eos>", 0, 3), ("a", -10, 1), ("b", -10, 1), ("c", -10, 1),
        ("▁", -10, 1),
    ]

    @Test func theHigherScoringPairMergesFirst() throws {
        let abFirst = try Self.make(Self.base + [("ab", -1, 1), ("bc", -2, 1)])
        #expect(abFirst.encode("abc").map { abFirst.tokens[$0] } == ["ab", "c"])
        let bcFirst = try Self.make(Self.base + [("ab", -2, 1), ("bc", -1, 1)])
        #expect(bcFirst.encode("abc").map { bcFirst.tokens[$0] } == ["a", "bc"])
    }

    @Test func equalScoresMergeLeftmostFirst() throws {
        // "aaa": both pairs are "aa"; the left one merges, leaving "aa" "a".
        let t = try Self.make(Self.base + [("aa", -1, 1)])
        #expect(t.encode("aaa").map { t.tokens[$0] } == ["aa", "a"])
    }

    @Test func mergesChainWhileTheTextIsAToken() throws {
        let t = try Self.make(Self.base + [("▁a", -1, 1), ("▁ab", -3, 1), ("ab", -2, 1)])
        #expect(t.encode(" ab").map { t.tokens[$0] } == ["▁ab"])
        #expect(t.encode("a b").map { t.tokens[$0] } == ["a", "▁", "b"])
    }

    @Test func unknownCharactersFallBackToTheirBytes() throws {
        let t = try Self.make(Self.base, bytes: true)
        #expect(t.encode("aé").map { t.tokens[$0] } == ["a", "<0xC3>", "<0xA9>"])
        #expect(t.decode(t.encode("aé b")) == "aé b")
    }

    @Test func userDefinedTokensSplitAlwaysControlOnlyWhenParsed() throws {
        let t = try Self.make(Self.base + [("  ", 0, 4), ("<x>", 0, 3)], bytes: true)
        // Two spaces are a user-defined token, cut out before spaces become ▁.
        #expect(t.encode("a  b").map { t.tokens[$0] } == ["a", "  ", "b"])
        #expect(t.encode("a   b").map { t.tokens[$0] } == ["a", "  ", "▁", "b"])
        #expect(t.encode("a<x>b", parseSpecial: true).map { t.tokens[$0] } == ["a", "<x>", "b"])
        #expect(!t.encode("a<x>b").contains(t.id(of: "<x>")!))
        #expect(t.decode(t.encode("a<x>b", parseSpecial: true)) == "ab")
        #expect(t.decode(t.encode("a<x>b", parseSpecial: true), special: true) == "a<x>b")
    }

    @Test func spacePrefixBeforeTextThatStartsOrFollowsASpecialToken() throws {
        let t = try Self.make(Self.base + [("▁a", -1, 1), ("<x>", 0, 3)], spacePrefix: true)
        #expect(t.encode("a").map { t.tokens[$0] } == ["▁a"])
        #expect(t.encode("a<x>a", parseSpecial: true).map { t.tokens[$0] } == ["▁a", "<x>", "▁a"])
    }

    @Test func bosFollowsTheFlagUnlessToldAndContinuationsNeverGetIt() throws {
        let t = try SentencePieceTokenizer(
            tokens: ["<bos>", "<eos>", "a"], scores: [0, 0, 0], tokenTypes: [3, 3, 1], bosID: 0,
            eosID: 1, addBOS: true, addSpacePrefix: false)
        #expect(t.encode("a") == [0, 2])
        #expect(t.encode("a", addBOS: false) == [2])
        #expect(t.encodeContinuation("a") == [2])
    }

    @Test func inconsistentMetadataIsRefused() {
        #expect(throws: TokenizerError.self) {
            try SentencePieceTokenizer(tokens: ["a", "b"], scores: [0], tokenTypes: nil)
        }
        #expect(throws: TokenizerError.self) {
            try SentencePieceTokenizer(tokens: ["a"], scores: [0], tokenTypes: nil, bosID: 5)
        }
    }
}
