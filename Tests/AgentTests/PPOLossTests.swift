// PPO's loss against finite differences, and the action distribution against its definitions.
import Core
import Foundation
import LinearAlgebra
import Policy
import Testing

@testable import Agent

@Suite struct PPOLossTests {
    /// A minibatch away from the loss's kinks (ratio and value-clip boundaries).
    static func minibatch(count: Int, seed: UInt64) -> (
        logits: [Float], values: [Float], samples: [PPOLoss.Sample]
    ) {
        var rng = SplitMix64(seed: seed)
        func uniform(_ low: Float, _ high: Float) -> Float {
            low + (high - low) * Float(rng.nextUnit())
        }
        let logits = (0..<(count * 4)).map { _ in uniform(-2, 2) }
        let values = (0..<count).map { _ in uniform(-1, 1) }
        var samples: [PPOLoss.Sample] = []
        for j in 0..<count {
            let action = Int(rng.next() % 4)
            let current = ActionDistribution(logits, sample: j).logProbability(of: action)
            // log-ratios in ±0.1 (inside the clip) or ±0.4 (outside), values inside or outside.
            let logRatio = (j % 2 == 0 ? 0.1 : 0.4) * (j % 4 < 2 ? 1 : -1) * uniform(0.5, 1)
            let valueStep = (j % 3 == 0 ? 0.1 : 0.5) * (j % 2 == 0 ? 1 : -1) * uniform(0.6, 1)
            samples.append(
                PPOLoss.Sample(
                    action: action, oldLogProbability: current - logRatio,
                    advantage: uniform(-1.5, 1.5), oldValue: values[j] - valueStep,
                    target: uniform(-1, 1)))
        }
        return (logits, values, samples)
    }

    @Test(arguments: [false, true]) func gradientMatchesFiniteDifferences(clipValueLoss: Bool) {
        let loss = PPOLoss(
            clipCoefficient: 0.2, entropyCoefficient: 0.05, valueCoefficient: 0.5,
            clipValueLoss: clipValueLoss)
        let (logits, values, samples) = Self.minibatch(count: 8, seed: 11)
        var gradLogits = [Float](repeating: 0, count: logits.count)
        var gradValues = [Float](repeating: 0, count: values.count)
        let terms = loss.evaluate(
            logits: logits, values: values, samples: samples, gradLogits: &gradLogits,
            gradValues: &gradValues)
        #expect(terms.clipFraction > 0 && terms.clipFraction < 1)
        func total(_ l: [Float], _ v: [Float]) -> Double {
            var gl = gradLogits
            var gv = gradValues
            return loss.total(
                loss.evaluate(
                    logits: l, values: v, samples: samples, gradLogits: &gl, gradValues: &gv))
        }
        // Central differences of the total loss, one coordinate of logits or values at a time.
        let h: Float = 1e-3
        func expectGradient(
            _ analytic: [Float], _ perturbed: (Int, Float) -> Double, _ what: String
        ) {
            for i in analytic.indices {
                let numeric = (perturbed(i, h) - perturbed(i, -h)) / Double(2 * h)
                #expect(
                    abs(numeric - Double(analytic[i])) < 2e-3 + 1e-2 * abs(numeric), "\(what) \(i)")
            }
        }
        expectGradient(
            gradLogits,
            { i, step in
                var moved = logits
                moved[i] += step
                return total(moved, values)
            }, "logit")
        expectGradient(
            gradValues,
            { j, step in
                var moved = values
                moved[j] += step
                return total(logits, moved)
            }, "value")
    }

    @Test func actionDistributionFollowsItsDefinitions() {
        let logits: SIMD4<Float> = [0.5, -1, 2, 2]
        let d = ActionDistribution(logits)
        let exps = (0..<4).map { Double(logits[$0]).exp }
        let sum = exps.reduce(0, +)
        for c in 0..<4 {
            #expect(abs(Double(d.logProbabilities[c]) - (Double(logits[c]) - sum.log)) < 1e-6)
            #expect(abs(Double(d.logProbability(of: c)) - (Double(logits[c]) - sum.log)) < 1e-6)
        }
        let entropy = -exps.map { $0 / sum * ($0 / sum).log }.reduce(0, +)
        #expect(abs(Double(d.entropy) - entropy) < 1e-6)
        #expect(d.argmax == 2)  // the first of two equal largest
        var rng = SplitMix64(seed: 3)
        var counts = [0, 0, 0, 0]
        for _ in 0..<20_000 { counts[d.sample(&rng)] += 1 }
        for c in 0..<4 {
            #expect(abs(Double(counts[c]) / 20_000 - exps[c] / sum) < 0.015)
        }
    }
}

extension Double {
    fileprivate var exp: Double { Foundation.exp(self) }
    fileprivate var log: Double { Foundation.log(self) }
}
