// GGUF metadata values in a few words, for listings (`laser inspect`).

extension GGUFValue {
    /// A metadata value in a few words: scalars as they are, short arrays in full, long ones as
    /// their length and element type (a vocabulary has tens of thousands of entries).
    public var summary: String {
        switch self {
        case .string(let s):
            return s.count > 200 ? String(s.prefix(200)) + "… (\(s.count) characters)" : s
        case .array(_, let values):
            if values.count <= 8 {
                return "[" + values.map { $0.summary }.joined(separator: ", ") + "]"
            }
            let kind: String
            switch values.first {
            case .string?: kind = "strings"
            case .float32?, .float64?: kind = "numbers"
            case .array?: kind = "arrays"
            default: kind = "integers"
            }
            return "[\(values.count) \(kind)]"
        default:
            if let i = intValue { return String(i) }
            if let d = doubleValue { return String(d) }
            if case .bool(let b) = self { return String(b) }
            return "\(self)"
        }
    }
}
