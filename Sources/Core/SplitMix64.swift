// The one seeded random generator: no global randomness anywhere in the project.

/// SplitMix64 (Steele, Lea, Flood 2014): small, fast, good enough for initialisation and sampling,
/// and splittable by seeding children from its output.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        let output = Self.mix(state)
        state &+= 0x9E37_79B9_7F4A_7C15
        return output
    }

    /// The first output of a generator seeded with `x`: a strong 64-bit mixing function, for
    /// order-free hashes of sets (a sum of mixed members).
    @inline(__always) public static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Standard normal by Box–Muller.
    public mutating func nextNormal() -> Double {
        var u1 = nextUnit()
        while u1 <= Double.leastNormalMagnitude { u1 = nextUnit() }
        let u2 = nextUnit()
        return (-2 * Foundation_log(u1)).squareRoot() * Foundation_cos(2 * Double.pi * u2)
    }

    /// An independent generator derived from this one (for per-thread or per-item streams).
    public mutating func split() -> SplitMix64 { SplitMix64(seed: next()) }
}
