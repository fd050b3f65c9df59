// What a file looks like from its first bytes, so a command given the wrong kind of file can say
// which kind it got ("is a GGUF file, not a safetensors checkpoint") instead of a parser's
// complaint about a header length.
import Foundation

enum FileFormat: Equatable, CustomStringConvertible {
    case gguf
    case safetensors
    case text
    case empty
    case other

    var description: String {
        switch self {
        case .gguf: return "a GGUF file"
        case .safetensors: return "a safetensors file"
        case .text: return "a text file"
        case .empty: return "an empty file"
        case .other: return "a binary file of an unknown format"
        }
    }

    /// Sniffs the first bytes: GGUF's magic; safetensors' 8-byte little-endian header length
    /// followed by `{`; text when the first bytes are printable UTF-8.
    static func of(path: String) -> FileFormat? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 512) else { return nil }
        let bytes = [UInt8](head)
        if bytes.isEmpty { return .empty }
        if bytes.starts(with: Array("GGUF".utf8)) { return .gguf }
        if bytes.count >= 9 && bytes[8] == UInt8(ascii: "{") { return .safetensors }
        if String(validating: bytes, as: UTF8.self) != nil
            || String(validating: bytes.dropLast(3), as: UTF8.self) != nil,
            !bytes.contains(0)
        {
            return .text
        }
        return .other
    }

    /// Throws a one-line error when `path` is clearly another kind of file than `expected`.
    static func require(_ expected: FileFormat, path: String, purpose: String) throws {
        guard let found = of(path: path), found != expected else { return }
        if found == .empty && expected == .text { return }
        throw CLIError("\(path) is \(found), not \(purpose)")
    }
}
