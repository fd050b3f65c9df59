// SentencePiece (BPE by piece score, byte fallback) from a GGUF vocabulary, as llama.cpp's SPM
// tokenizer runs it (Gemma's `tokenizer.ggml.model = llama`).
import Collections

/// A SentencePiece tokenizer: spaces become U+2581, then adjacent pieces merge, highest score
/// first (leftmost among equals), while the merged text is a token; what stays unknown falls back
/// to `<0xXX>` byte tokens.
public struct SentencePieceTokenizer: TextTokenizer {
    public let tokens: [String]
    public let tokenTypes: [TokenType]
    public let scores: [Float]
    public let bosID: Int?
    public let eosID: Int?
    public let addBOS: Bool
    /// Whether a space is put before text that starts a prompt or follows a special token.
    public let addSpacePrefix: Bool
    private let ids: [String: Int32]
    /// Token id of each byte's `<0xXX>`.
    private let byteTokens: [Int32]
    private let splitter: SpecialTokenSplitter

    public var vocabularySize: Int { tokens.count }

    public init(
        tokens: [String], scores: [Float], tokenTypes typeIDs: [Int]?, bosID: Int? = nil,
        eosID: Int? = nil, addBOS: Bool = false, addSpacePrefix: Bool = true
    ) throws {
        guard scores.count == tokens.count else {
            throw TokenizerError.inconsistent("\(scores.count) scores for \(tokens.count) tokens")
        }
        let types = try Vocabulary.types(typeIDs, tokens: tokens.count)
        try Vocabulary.checkSpecialIDs([bosID, eosID], tokens: tokens.count)
        self.tokens = tokens
        self.scores = scores
        tokenTypes = types
        self.bosID = bosID
        self.eosID = eosID
        self.addBOS = addBOS
        self.addSpacePrefix = addSpacePrefix
        let ids = Vocabulary.index(tokens)
        self.ids = ids
        byteTokens = (0..<256).map { b in
            ids[
                "<0x" + String(b >> 4, radix: 16, uppercase: true)
                    + String(b & 15, radix: 16, uppercase: true) + ">"]
                ?? ids[String(decoding: [UInt8(b)], as: UTF8.self)] ?? -1
        }
        splitter = SpecialTokenSplitter(tokens: tokens, types: types)
    }

    /// Builds the tokenizer a GGUF file declares (`tokenizer.ggml.*`, model `llama`).
    public init(gguf: GGUFFile) throws {
        let model = try gguf.string("tokenizer.ggml.model")
        guard model == "llama" else { throw TokenizerError.unsupportedModel(model) }
        let types =
            gguf.metadata["tokenizer.ggml.token_type"] == nil
            ? nil : try gguf.intArray("tokenizer.ggml.token_type")
        guard let scoreValues = try gguf.value("tokenizer.ggml.scores").arrayValue else {
            throw GGUFError.wrongKeyType(key: "tokenizer.ggml.scores", expected: "an array")
        }
        let scores = try scoreValues.map {
            guard let v = $0.doubleValue else {
                throw GGUFError.wrongKeyType(key: "tokenizer.ggml.scores", expected: "numbers")
            }
            return Float(v)
        }
        try self.init(
            tokens: try gguf.stringArray("tokenizer.ggml.tokens"), scores: scores,
            tokenTypes: types, bosID: try? gguf.int("tokenizer.ggml.bos_token_id"),
            eosID: try? gguf.int("tokenizer.ggml.eos_token_id"),
            addBOS: gguf.metadata["tokenizer.ggml.add_bos_token"]?.boolValue ?? true,
            addSpacePrefix: gguf.metadata["tokenizer.ggml.add_space_prefix"]?.boolValue ?? true)
    }

    public func encode(_ text: String, parseSpecial: Bool, addBOS: Bool?) -> [Int] {
        var out: [Int] = []
        if addBOS ?? self.addBOS, let bos = bosID { out.append(bos) }
        var previousSpecial = true
        for fragment in splitter.split(Array(text.utf8), parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id):
                out.append(id)
                previousSpecial = true
            case .text(let bytes):
                var escaped: [UInt8] = addSpacePrefix && previousSpecial ? [0xE2, 0x96, 0x81] : []
                for b in bytes {
                    if b == 0x20 {
                        escaped.append(contentsOf: [0xE2, 0x96, 0x81])
                    } else {
                        escaped.append(b)
                    }
                }
                encodePieces(escaped, into: &out)
                previousSpecial = false
            }
        }
        return out
    }

    /// A symbol of the merge: bytes start ..< start + length of the text, linked to its neighbours.
    private struct Symbol {
        var start: Int
        var length: Int
        var previous: Int
        var next: Int
    }

    /// A candidate merge of symbols left and right (adjacent when made) into a token of `score`.
    private struct Bigram: Comparable {
        let score: Float
        let left: Int
        let right: Int
        let length: Int
        /// Higher score first, then the leftmost: the heap's maximum is the next merge.
        static func < (a: Bigram, b: Bigram) -> Bool {
            a.score != b.score ? a.score < b.score : a.left > b.left
        }
    }

    private func encodePieces(_ text: [UInt8], into out: inout [Int]) {
        if text.isEmpty { return }
        var symbols: [Symbol] = []
        var offset = 0
        while offset < text.count {
            let length = min(Self.utf8Length(text[offset]), text.count - offset)
            symbols.append(
                Symbol(
                    start: offset, length: length, previous: symbols.count - 1,
                    next: offset + length == text.count ? -1 : symbols.count + 1))
            offset += length
        }
        var queue = Heap<Bigram>()
        func token(_ start: Int, _ length: Int) -> Int32? {
            ids[String(decoding: text[start..<(start + length)], as: UTF8.self)]
        }
        func tryAdd(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let length = symbols[left].length + symbols[right].length
            guard let id = token(symbols[left].start, length) else { return }
            queue.insert(Bigram(score: scores[Int(id)], left: left, right: right, length: length))
        }
        for i in 1..<symbols.count { tryAdd(i - 1, i) }
        while let bigram = queue.popMax() {
            let left = symbols[bigram.left]
            let right = symbols[bigram.right]
            // Stale: one side has merged since this pair was queued.
            if left.length == 0 || right.length == 0 || left.length + right.length != bigram.length
            {
                continue
            }
            symbols[bigram.left].length += right.length
            symbols[bigram.right].length = 0
            symbols[bigram.left].next = right.next
            if right.next >= 0 { symbols[right.next].previous = bigram.left }
            tryAdd(symbols[bigram.left].previous, bigram.left)
            tryAdd(bigram.left, symbols[bigram.left].next)
        }
        var i = 0
        while i != -1 {
            let s = symbols[i]
            if let id = token(s.start, s.length) {
                out.append(Int(id))
            } else {
                // Only single characters can be unknown (merges make tokens): their bytes.
                for b in text[s.start..<(s.start + s.length)] where byteTokens[Int(b)] >= 0 {
                    out.append(Int(byteTokens[Int(b)]))
                }
            }
            i = s.next
        }
    }

    /// Bytes of the UTF-8 sequence a lead byte starts (1 for a stray continuation byte).
    private static func utf8Length(_ lead: UInt8) -> Int {
        switch lead >> 4 {
        case 0xF: return 4
        case 0xE: return 3
        case 0xC, 0xD: return 2
        default: return 1
        }
    }

    public func bytes(of id: Int, special: Bool) -> [UInt8] {
        guard id >= 0 && id < tokens.count else { return [] }
        let text = tokens[id]
        if let bytes = Vocabulary.nonTextBytes(text, type: tokenTypes[id], special: special) {
            return bytes
        }
        // U+2581 (E2 96 81) stands for a space.
        let utf8 = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var i = 0
        while i < utf8.count {
            if i + 2 < utf8.count && utf8[i] == 0xE2 && utf8[i + 1] == 0x96 && utf8[i + 2] == 0x81 {
                out.append(0x20)
                i += 3
            } else {
                out.append(utf8[i])
                i += 1
            }
        }
        return out
    }

    /// The id of a token's exact text, if it is in the vocabulary.
    public func id(of token: String) -> Int? { ids[token].map(Int.init) }
}
