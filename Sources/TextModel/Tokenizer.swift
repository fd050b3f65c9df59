// What the model, the QA benchmark and the CLI need of a tokenizer, and the one place that picks the
// implementation a GGUF file declares (`tokenizer.ggml.model`).

/// Text to token ids and back, as llama.cpp tokenizes for the same GGUF.
public protocol TextTokenizer: Sendable {
    var vocabularySize: Int { get }
    var bosID: Int? { get }
    var eosID: Int? { get }
    /// Whether the file asks for BOS before a prompt (`tokenizer.ggml.add_bos_token`).
    var addBOS: Bool { get }
    /// Token ids of `text`. With `parseSpecial`, control tokens written in the text become their
    /// ids; otherwise they are ordinary text. `addBOS` defaults to the file's `add_bos_token`.
    func encode(_ text: String, parseSpecial: Bool, addBOS: Bool?) -> [Int]
    /// The bytes a token stands for (control tokens give their text only when `special`).
    func bytes(of id: Int, special: Bool) -> [UInt8]
}

extension TextTokenizer {
    public func encode(_ text: String, parseSpecial: Bool = false, addBOS: Bool? = nil) -> [Int] {
        encode(text, parseSpecial: parseSpecial, addBOS: addBOS)
    }

    /// Text continuing a sequence (an answer after its question): never BOS.
    public func encodeContinuation(_ text: String) -> [Int] {
        encode(text, parseSpecial: false, addBOS: false)
    }

    public func bytes(of id: Int) -> [UInt8] { bytes(of: id, special: false) }

    /// The text of a sequence of tokens (invalid UTF-8 across the whole is replaced by U+FFFD).
    public func decode(_ ids: [Int], special: Bool = false) -> String {
        var bytes: [UInt8] = []
        for id in ids { bytes.append(contentsOf: self.bytes(of: id, special: special)) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// ggml token types (`tokenizer.ggml.token_type`).
public enum TokenType: Int, Sendable {
    case undefined = 0
    case normal = 1
    case unknown = 2
    case control = 3
    case userDefined = 4
    case unused = 5
    case byte = 6
}

/// What both tokenizers read from a vocabulary the same way.
enum Vocabulary {
    /// The token types (`tokenizer.ggml.token_type`, or all normal), one per token.
    static func types(_ typeIDs: [Int]?, tokens: Int) throws -> [TokenType] {
        guard let typeIDs else { return [TokenType](repeating: .normal, count: tokens) }
        guard typeIDs.count == tokens else {
            throw TokenizerError.inconsistent("\(typeIDs.count) token types for \(tokens) tokens")
        }
        return typeIDs.map { TokenType(rawValue: $0) ?? .undefined }
    }

    /// Refuses BOS/EOS ids outside the vocabulary.
    static func checkSpecialIDs(_ ids: [Int?], tokens: Int) throws {
        for id in ids.compactMap({ $0 }) where id < 0 || id >= tokens {
            throw TokenizerError.inconsistent("special token id \(id) is outside the vocabulary")
        }
    }

    /// Each token text's first id.
    static func index(_ tokens: [String]) -> [String: Int32] {
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() where ids[t] == nil { ids[t] = Int32(i) }
        return ids
    }

    /// The bytes of a token that is not normal text (control ones only when `special`, `<0xAB>`
    /// byte tokens as their byte); nil for normal tokens, whose text each tokenizer maps its way.
    static func nonTextBytes(_ text: String, type: TokenType, special: Bool) -> [UInt8]? {
        switch type {
        case .control, .unknown, .unused:
            return special ? Array(text.utf8) : []
        case .userDefined:
            return Array(text.utf8)
        case .byte:
            if text.count == 6, let v = UInt8(text.dropFirst(3).dropLast(), radix: 16) {
                return [v]
            }
            return Array(text.utf8)
        case .normal, .undefined:
            return nil
        }
    }
}

/// The tokenizer a GGUF file declares: `gpt2` (byte-level BPE) or `llama` (SentencePiece).
public func makeTokenizer(gguf: GGUFFile) throws -> any TextTokenizer {
    let model = try gguf.string("tokenizer.ggml.model")
    switch model {
    case "gpt2": return try BPETokenizer(gguf: gguf)
    case "llama": return try SentencePieceTokenizer(gguf: gguf)
    default: throw TokenizerError.unsupportedModel(model)
    }
}

/// Splits text at the special tokens written in it, as llama.cpp does before tokenizing the rest:
/// each special token in turn (longest first) is cut out of every remaining text fragment,
/// leftmost occurrences first. Control tokens are cut only when `parseSpecial`; user-defined ones
/// always.
struct SpecialTokenSplitter: Sendable {
    enum Fragment: Equatable {
        case text([UInt8])
        case token(Int)
    }

    /// (bytes, id, isControl), longest first.
    private let specials: [(bytes: [UInt8], id: Int, control: Bool)]
    /// Which first bytes start some special token (a quick test before the ordered search).
    private let firstBytes: [Bool]

    init(tokens: [String], types: [TokenType]) {
        specials = tokens.indices
            .filter {
                [.control, .userDefined, .unknown].contains(types[$0]) && !tokens[$0].isEmpty
            }
            .map { (Array(tokens[$0].utf8), $0, types[$0] != .userDefined) }
            // Stable among equal lengths (llama.cpp's std::sort leaves their order unspecified).
            .enumerated().sorted {
                $0.element.0.count != $1.element.0.count
                    ? $0.element.0.count > $1.element.0.count : $0.offset < $1.offset
            }.map(\.element)
        var first = [Bool](repeating: false, count: 256)
        for s in specials { first[Int(s.bytes[0])] = true }
        firstBytes = first
    }

    var isEmpty: Bool { specials.isEmpty }

    func split(_ text: [UInt8], parseSpecial: Bool) -> [Fragment] {
        // Only the specials that occur somewhere take part (the ordered cut below is then exact
        // and cheap on long texts).
        var present: [Int] = []
        if text.contains(where: { firstBytes[Int($0)] }) {
            for (i, s) in specials.enumerated() where parseSpecial || !s.control {
                if Self.find(s.bytes, in: text[...]) != nil { present.append(i) }
            }
        }
        var fragments: [Fragment] = [.text(text)]
        for i in present {
            let s = specials[i]
            var next: [Fragment] = []
            for fragment in fragments {
                guard case .text(let bytes) = fragment else {
                    next.append(fragment)
                    continue
                }
                var rest = bytes[...]
                while let at = Self.find(s.bytes, in: rest) {
                    if at > rest.startIndex { next.append(.text(Array(rest[..<at]))) }
                    next.append(.token(s.id))
                    rest = rest[(at + s.bytes.count)...]
                }
                if !rest.isEmpty { next.append(.text(Array(rest))) }
            }
            fragments = next
        }
        return fragments
    }

    /// Index of the first occurrence of `needle` in `haystack`.
    private static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        let first = needle[0]
        var i = haystack.startIndex
        let last = haystack.endIndex - needle.count
        while i <= last {
            if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) {
                return i
            }
            i += 1
        }
        return nil
    }
}
