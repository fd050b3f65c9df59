// FNV-1a, 64 bits: the fast non-cryptographic hash of positions (the evaluator's cycle check and
// the solver's transposition table). LinearAlgebra's file fingerprint uses the same function over
// bytes; the Sokoban module stays free of the numeric code, so it keeps this copy of the constants.

/// An FNV-1a state: fold values in with `combine`, read `value`.
struct FNV1a {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    @inline(__always) mutating func combine(_ x: UInt64) {
        value = (value ^ x) &* 0x0000_0100_0000_01B3
    }
}
