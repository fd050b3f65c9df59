// GPT-2 byte-level BPE from a GGUF vocabulary: encode text to token ids and decode them back.

/// Errors building a tokenizer from GGUF metadata.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    case unsupportedModel(String)
    case unsupportedPreTokenizer(String)
    case badMerge(index: Int, text: String)
    case inconsistent(String)

    public var description: String {
        switch self {
        case .unsupportedModel(let m):
            return
                "tokenizer model '\(m)' is not supported (known: 'gpt2' byte-level BPE, 'llama' SentencePiece)"
        case .unsupportedPreTokenizer(let p):
            return "pre-tokenizer '\(p)' is not supported (known: gpt2, smollm and its aliases)"
        case .badMerge(let i, let text):
            return "BPE merge \(i) '\(text)' is not two known tokens joining into a known token"
        case .inconsistent(let why): return "inconsistent tokenizer metadata: \(why)"
        }
    }
}

/// A byte-level BPE tokenizer (GPT-2 style) as llama.cpp runs it.
public struct BPETokenizer: TextTokenizer {
    public let tokens: [String]
    public let tokenTypes: [TokenType]
    public let preTokenizer: PreTokenizer
    public let bosID: Int?
    public let eosID: Int?
    public let addBOS: Bool
    private let ids: [String: Int32]
    /// (left id << 32 | right id) → (rank, merged id)
    private let merges: [UInt64: (rank: Int32, merged: Int32)]
    /// Control, user-defined and unknown tokens, cut out of the text in llama.cpp's order.
    private let splitter: SpecialTokenSplitter
    /// Token id of each byte's mapped character.
    private let byteTokens: [Int32]

    public var vocabularySize: Int { tokens.count }

    /// Builds the tokenizer from a vocabulary, types and merges (`"left right"` strings, by rank).
    public init(
        tokens: [String], tokenTypes typeIDs: [Int]?, merges mergeTexts: [String],
        preTokenizer: PreTokenizer, bosID: Int? = nil, eosID: Int? = nil,
        addBOS: Bool = false
    ) throws {
        self.tokens = tokens
        let tokenTypes = try Vocabulary.types(typeIDs, tokens: tokens.count)
        self.tokenTypes = tokenTypes
        self.preTokenizer = preTokenizer
        try Vocabulary.checkSpecialIDs([bosID, eosID], tokens: tokens.count)
        self.bosID = bosID
        self.eosID = eosID
        self.addBOS = addBOS
        let ids = Vocabulary.index(tokens)
        self.ids = ids
        var merges: [UInt64: (rank: Int32, merged: Int32)] = [:]
        merges.reserveCapacity(mergeTexts.count)
        for (rank, text) in mergeTexts.enumerated() {
            let parts = text.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let l = ids[String(parts[0])], let r = ids[String(parts[1])],
                let m = ids[String(parts[0]) + String(parts[1])]
            else { throw TokenizerError.badMerge(index: rank, text: text) }
            let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
            if merges[key] == nil { merges[key] = (Int32(rank), m) }
        }
        self.merges = merges
        splitter = SpecialTokenSplitter(tokens: tokens, types: self.tokenTypes)
        byteTokens = ByteLevel.byteToScalar.map { ids[String(Character($0))] ?? -1 }
    }

    /// Builds the tokenizer a GGUF file declares (`tokenizer.ggml.*`).
    public init(gguf: GGUFFile) throws {
        let model = try gguf.string("tokenizer.ggml.model")
        guard model == "gpt2" else { throw TokenizerError.unsupportedModel(model) }
        let preName = (try? gguf.string("tokenizer.ggml.pre")) ?? "default"
        guard let pre = PreTokenizer(ggufName: preName) else {
            throw TokenizerError.unsupportedPreTokenizer(preName)
        }
        let types =
            gguf.metadata["tokenizer.ggml.token_type"] == nil
            ? nil : try gguf.intArray("tokenizer.ggml.token_type")
        try self.init(
            tokens: try gguf.stringArray("tokenizer.ggml.tokens"), tokenTypes: types,
            merges: try gguf.stringArray("tokenizer.ggml.merges"), preTokenizer: pre,
            bosID: try? gguf.int("tokenizer.ggml.bos_token_id"),
            eosID: try? gguf.int("tokenizer.ggml.eos_token_id"),
            addBOS: gguf.metadata["tokenizer.ggml.add_bos_token"]?.boolValue ?? false)
    }

    /// Token ids of `text`. User-defined tokens written in the text always become their ids, and
    /// control tokens (such as `<|im_start|>`) too with `parseSpecial`; otherwise they are ordinary
    /// text. They are cut out as llama.cpp does, longest token first. `addBOS` defaults to the
    /// file's `add_bos_token`.
    public func encode(_ text: String, parseSpecial: Bool, addBOS: Bool?) -> [Int] {
        var out: [Int] = []
        if addBOS ?? self.addBOS, let bos = bosID { out.append(bos) }
        if splitter.isEmpty {
            encodePlain(text, into: &out)
            return out
        }
        for fragment in splitter.split(Array(text.utf8), parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id): out.append(id)
            // A special token's bytes are whole UTF-8 characters, so the cut never splits one.
            case .text(let bytes): encodePlain(String(decoding: bytes, as: UTF8.self), into: &out)
            }
        }
        return out
    }

    private func encodePlain(_ text: String, into out: inout [Int]) {
        if text.isEmpty { return }
        for word in preTokenizer.split(text) { encodeWord(word, into: &out) }
    }

    /// BPE on one word: start from its bytes' tokens, merge the lowest-ranked pair until none is left.
    private func encodeWord(_ word: String, into out: inout [Int]) {
        var symbols: [Int32] = []
        symbols.reserveCapacity(word.utf8.count)
        for b in word.utf8 where byteTokens[Int(b)] >= 0 { symbols.append(byteTokens[Int(b)]) }
        while symbols.count > 1 {
            var best = -1
            var bestRank = Int32.max
            var bestMerged: Int32 = 0
            for i in 0..<(symbols.count - 1) {
                let key = UInt64(UInt32(symbols[i])) << 32 | UInt64(UInt32(symbols[i + 1]))
                if let m = merges[key], m.rank < bestRank {
                    best = i
                    bestRank = m.rank
                    bestMerged = m.merged
                }
            }
            if best < 0 { break }
            symbols[best] = bestMerged
            symbols.remove(at: best + 1)
        }
        for s in symbols { out.append(Int(s)) }
    }

    /// The bytes a token stands for (control tokens give their text only when `special`).
    public func bytes(of id: Int, special: Bool) -> [UInt8] {
        guard id >= 0 && id < tokens.count else { return [] }
        let text = tokens[id]
        if let bytes = Vocabulary.nonTextBytes(text, type: tokenTypes[id], special: special) {
            return bytes
        }
        var bytes: [UInt8] = []
        for scalar in text.unicodeScalars {
            if let b = ByteLevel.scalarToByte[scalar.value] {
                bytes.append(b)
            } else {
                bytes.append(contentsOf: Array(String(Character(scalar)).utf8))
            }
        }
        return bytes
    }

    /// The id of a token's exact text, if it is in the vocabulary.
    public func id(of token: String) -> Int? { ids[token].map(Int.init) }
}
