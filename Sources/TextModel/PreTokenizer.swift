// The pre-tokenizers GPT-2-style BPE vocabularies declare: text split into words before merging.

/// How text is split into words before BPE (`tokenizer.ggml.pre`).
public enum PreTokenizer: String, Sendable {
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// Every digit split off on its own first (`\p{N}`), then the GPT-2 pattern on the rest
    /// (llama.cpp's `smollm`, shared with starcoder and others).
    case smollm

    /// Maps a GGUF `tokenizer.ggml.pre` name to a pre-tokenizer, or nil when unknown.
    public init?(ggufName: String) {
        switch ggufName {
        case "gpt2", "default", "gpt-2", "mpt", "olmo": self = .gpt2
        case "smollm", "starcoder", "refact", "command-r", "codeshell": self = .smollm
        default: return nil
        }
    }

    /// The words of `text`, in order; concatenated they give back the text.
    public func split(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var words: [String] = []
        switch self {
        case .gpt2:
            PreTokenizer.gpt2Split(scalars, 0, scalars.count, into: &words)
        case .smollm:
            var start = 0
            for i in 0..<scalars.count where CharacterClass(scalars[i]) == .number {
                PreTokenizer.gpt2Split(scalars, start, i, into: &words)
                words.append(String(String.UnicodeScalarView(scalars[i...i])))
                start = i + 1
            }
            PreTokenizer.gpt2Split(scalars, start, scalars.count, into: &words)
        }
        return words
    }

    /// The GPT-2 pattern on scalars[start..<end], as llama.cpp's hand-written matcher applies it
    /// (look-ahead never crosses `end`).
    static func gpt2Split(
        _ s: [Unicode.Scalar], _ start: Int, _ end: Int, into words: inout [String]
    ) {
        func cls(_ i: Int) -> CharacterClass { i < end ? CharacterClass(s[i]) : .outOfRange }
        func emit(_ a: Int, _ b: Int) {
            if b > a { words.append(String(String.UnicodeScalarView(s[a..<b]))) }
        }
        var pos = start
        while pos < end {
            let c = s[pos]
            // Contractions: 's 't 'd 'm, then 're 've 'll.
            if c == "'" && pos + 1 < end {
                let n1 = s[pos + 1]
                if n1 == "s" || n1 == "t" || n1 == "d" || n1 == "m" {
                    emit(pos, pos + 2)
                    pos += 2
                    continue
                }
                if pos + 2 < end {
                    let n2 = s[pos + 2]
                    if (n1 == "r" && n2 == "e") || (n1 == "v" && n2 == "e")
                        || (n1 == "l" && n2 == "l")
                    {
                        emit(pos, pos + 3)
                        pos += 3
                        continue
                    }
                }
            }
            let leadingSpace = c == " "
            let c2 = leadingSpace ? cls(pos + 1) : cls(pos)
            // ` ?\p{L}+` and ` ?\p{N}+`
            if c2 == .letter || c2 == .number {
                let begin = pos
                pos += leadingSpace ? 1 : 0
                while cls(pos) == c2 { pos += 1 }
                emit(begin, pos)
                continue
            }
            // ` ?[^\s\p{L}\p{N}]+`
            if c2 == .other {
                let begin = pos
                pos += leadingSpace ? 1 : 0
                while cls(pos) == .other { pos += 1 }
                emit(begin, pos)
                continue
            }
            // `\s+(?!\S)` then `\s+`: a run of spaces leaves its last one to the next word.
            var spaces = 0
            while cls(pos + spaces) == .space { spaces += 1 }
            if spaces > 1 && cls(pos + spaces) != .outOfRange {
                emit(pos, pos + spaces - 1)
                pos += spaces - 1
                continue
            }
            if spaces > 0 {
                emit(pos, pos + spaces)
                pos += spaces
                continue
            }
            emit(pos, pos + 1)
            pos += 1
        }
    }
}

/// The Unicode classes the pattern distinguishes.
enum CharacterClass: Equatable {
    case letter, number, space, other, unassigned, outOfRange

    init(_ scalar: Unicode.Scalar) {
        let p = scalar.properties
        if p.isWhitespace {
            self = .space
            return
        }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            self = .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            self = .number
        case .unassigned:
            self = .unassigned
        default:
            self = .other
        }
    }
}
