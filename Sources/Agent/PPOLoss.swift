// PPO's loss on a minibatch (cleanrl's ppo.py): the clipped surrogate, the entropy bonus and the
// (optionally clipped) value loss, with its gradient with respect to the logits and values.
import Policy

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// L = mean(max(−A·r, −A·clip(r, 1 ± ε))) − c_H · mean(H) + c_V · mean(½ max((v − R)², (v_clip − R)²)),
/// r = π(a)/π_old(a).
struct PPOLoss {
    let clipCoefficient: Float
    let entropyCoefficient: Float
    let valueCoefficient: Float
    let clipValueLoss: Bool

    /// What the rollout recorded for one sample.
    struct Sample {
        let action: Int
        let oldLogProbability: Float
        /// Already normalised when the run normalises advantages.
        let advantage: Float
        let oldValue: Float
        let target: Float
    }

    /// The minibatch means of each term.
    struct Terms {
        var policy = 0.0
        var value = 0.0
        var entropy = 0.0
        var approximateKL = 0.0
        var clipFraction = 0.0
    }

    init(_ config: PPOConfig) {
        clipCoefficient = config.clipCoefficient
        entropyCoefficient = config.entropyCoefficient
        valueCoefficient = config.valueCoefficient
        clipValueLoss = config.clipValueLoss
    }

    init(
        clipCoefficient: Float, entropyCoefficient: Float, valueCoefficient: Float,
        clipValueLoss: Bool
    ) {
        self.clipCoefficient = clipCoefficient
        self.entropyCoefficient = entropyCoefficient
        self.valueCoefficient = valueCoefficient
        self.clipValueLoss = clipValueLoss
    }

    /// The total loss of the terms, as the gradient differentiates it.
    func total(_ t: Terms) -> Double {
        t.policy - Double(entropyCoefficient) * t.entropy + Double(valueCoefficient) * t.value
    }

    /// The terms for samples j < samples.count (logits (batch × 4), values (batch)), and the
    /// gradient of `total` with respect to them written to gradLogits and gradValues.
    func evaluate(
        logits: [Float], values: [Float], samples: [Sample], gradLogits: inout [Float],
        gradValues: inout [Float]
    ) -> Terms {
        let m = samples.count
        let a = PolicyGeometry.actionCount
        let scale = 1 / Float(m)
        let lower = 1 - clipCoefficient
        let upper = 1 + clipCoefficient
        var terms = Terms()
        for (j, sample) in samples.enumerated() {
            let distribution = ActionDistribution(logits, sample: j)
            let logProbabilities = distribution.logProbabilities
            let entropy = distribution.entropy
            let logRatio = logProbabilities[sample.action] - sample.oldLogProbability
            let ratio = expf(logRatio)
            let unclipped = -sample.advantage * ratio
            let clipped = -sample.advantage * min(max(ratio, lower), upper)
            terms.policy += Double(max(unclipped, clipped)) / Double(m)
            terms.entropy += Double(entropy) / Double(m)
            terms.approximateKL += Double((ratio - 1) - logRatio) / Double(m)
            if abs(ratio - 1) > clipCoefficient { terms.clipFraction += 1 / Double(m) }
            // d/dlogit_c: the surrogate (when the unclipped term is the max) and −c_H·H.
            let surrogateActive = unclipped >= clipped
            for c in 0..<a {
                let lp = logProbabilities[c]
                let p = expf(lp)
                var g: Float = 0
                if surrogateActive {
                    g += -sample.advantage * ratio * ((c == sample.action ? 1 : 0) - p)
                }
                g += entropyCoefficient * p * (lp + entropy)
                gradLogits[j * a + c] = g * scale
            }
            let v = values[j]
            var dv = v - sample.target
            var loss = 0.5 * dv * dv
            if clipValueLoss {
                let clippedV =
                    sample.oldValue
                    + min(max(v - sample.oldValue, -clipCoefficient), clipCoefficient)
                let clippedLoss = 0.5 * (clippedV - sample.target) * (clippedV - sample.target)
                if clippedLoss > loss {
                    loss = clippedLoss
                    dv = abs(v - sample.oldValue) < clipCoefficient ? clippedV - sample.target : 0
                }
            }
            terms.value += Double(loss) / Double(m)
            gradValues[j] = valueCoefficient * dv * scale
        }
        return terms
    }
}
