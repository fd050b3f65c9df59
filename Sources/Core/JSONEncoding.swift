// The one way this project writes JSON: keys sorted (the same value gives the same bytes), and
// non-finite numbers as the strings "inf", "-inf" and "nan" rather than an encoding error.
import Foundation

public enum JSONEncoding {
    public struct Style: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// Indented, one field a line.
        public static let pretty = Style(rawValue: 1)
        /// Swift's camelCase property names written as snake_case keys.
        public static let snakeCaseKeys = Style(rawValue: 2)
        /// "/" written as is rather than as "\/" (paths read better).
        public static let plainSlashes = Style(rawValue: 4)
    }

    public static func data(_ value: some Encodable, style: Style = []) throws -> Data {
        let encoder = JSONEncoder()
        var formatting: JSONEncoder.OutputFormatting = [.sortedKeys]
        if style.contains(.pretty) { formatting.insert(.prettyPrinted) }
        if style.contains(.plainSlashes) { formatting.insert(.withoutEscapingSlashes) }
        encoder.outputFormatting = formatting
        if style.contains(.snakeCaseKeys) { encoder.keyEncodingStrategy = .convertToSnakeCase }
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(value)
    }

    public static func string(_ value: some Encodable, style: Style = []) throws -> String {
        String(decoding: try data(value, style: style), as: UTF8.self)
    }
}
