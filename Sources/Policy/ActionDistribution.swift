// The policy's distribution over the four moves, from one sample's logits: the max-shifted softmax,
// log-probabilities, entropy, argmax and sampling in one place.
import Core
import LinearAlgebra

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// softmax(logits) over PolicyGeometry.actionCount actions, without allocating.
public struct ActionDistribution {
    public let logits: SIMD4<Float>
    /// The largest logit and Σ e^(logit − largest): the softmax's shift and normaliser.
    public let maximum: Float
    public let total: Float

    /// The distribution of sample `sample` of a (batch × 4) logits array.
    public init(_ logits: [Float], sample: Int) {
        let base = sample * PolicyGeometry.actionCount
        self.init(SIMD4(logits[base], logits[base + 1], logits[base + 2], logits[base + 3]))
    }

    public init(_ logits: SIMD4<Float>) {
        self.logits = logits
        var maximum = -Float.infinity
        for c in 0..<4 { maximum = max(maximum, logits[c]) }
        var total: Float = 0
        for c in 0..<4 { total += expf(logits[c] - maximum) }
        self.maximum = maximum
        self.total = total
    }

    /// log Σ e^logit.
    public var logNormalizer: Float { logf(total) + maximum }

    /// log P(action), as the rollout records it.
    public func logProbability(of action: Int) -> Float { logits[action] - maximum - logf(total) }

    /// P(action).
    public func probability(of action: Int) -> Float { expf(logits[action] - maximum) / total }

    /// log P(c) for every action (logit − log-normaliser).
    public var logProbabilities: SIMD4<Float> { logits - SIMD4(repeating: logNormalizer) }

    /// −Σ P(c) log P(c).
    public var entropy: Float {
        let lp = logProbabilities
        var entropy: Float = 0
        for c in 0..<4 { entropy -= expf(lp[c]) * lp[c] }
        return entropy
    }

    /// The most likely action (the first on ties).
    public var argmax: Int { Self.argmax(logits) }

    /// The action with the largest logit (the first on ties), without the softmax.
    @inline(__always)
    public static func argmax(_ logits: SIMD4<Float>) -> Int {
        var best = 0
        for c in 1..<4 where logits[c] > logits[best] { best = c }
        return best
    }

    /// Draws an action with one uniform number from `random`.
    public func sample(_ random: inout SplitMix64) -> Int {
        var u = Float(random.nextUnit()) * total
        for c in 0..<4 {
            u -= expf(logits[c] - maximum)
            if u < 0 { return c }
        }
        return 3
    }
}
