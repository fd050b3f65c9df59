// FNV-1a, 64 bits: the project's one fast non-cryptographic hash — of positions (the evaluator's
// cycle check, the solver's transposition table), of levels (saved solutions) and of files
// (fingerprints in result logs). Not a security hash.

/// An FNV-1a state: fold values in with `combine` (a word) or `combine(byte:)`, read `value`.
public struct FNV1a: Sendable {
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    public init() {}

    /// Folds in a 64-bit word at once (positions: faster than byte by byte, and only compared
    /// with hashes made the same way).
    @inline(__always) public mutating func combine(_ x: UInt64) {
        value = (value ^ x) &* 0x0000_0100_0000_01B3
    }

    /// Folds in one byte (the standard FNV-1a over a byte string).
    @inline(__always) public mutating func combine(byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
    }

    /// The standard FNV-1a of `bytes`.
    public static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var h = FNV1a()
        for b in bytes { h.combine(byte: b) }
        return h.value
    }
}
