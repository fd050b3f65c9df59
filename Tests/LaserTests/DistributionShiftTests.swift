// The KL-divergence figures of an edit on distributions small enough to work out by hand.
import Foundation
import Testing

@testable import Laser

@Suite struct DistributionShiftTests {
    func add(_ shift: inout DistributionShift, _ base: [Float], _ edited: [Float], target: Int?) {
        base.withUnsafeBufferPointer { b in
            edited.withUnsafeBufferPointer { e in
                shift.add(
                    base: b.baseAddress!, edited: e.baseAddress!, count: base.count, target: target)
            }
        }
    }

    @Test func aKnownPairOfDistributions() throws {
        var shift = DistributionShift()
        // p = (1/4, 3/4), q = (1/2, 1/2): KL = ¼ ln ½ + ¾ ln (3/2).
        add(&shift, [0, Float(log(3.0))], [2, 2], target: 1)
        let s = try #require(shift.summary)
        #expect(abs(s.meanKLD - (0.25 * log(0.5) + 0.75 * log(1.5))) < 1e-6)
        #expect(s.sameTop == 0, "the base's top is outcome 1, the edited's (a tie) outcome 0")
        #expect(abs(try #require(s.meanProbabilityChange) - (0.5 - 0.75)) < 1e-6)
        #expect(abs(try #require(shift.baseNLL.perplexity) - 4.0 / 3) < 1e-5)
        #expect(abs(try #require(shift.editedNLL.perplexity) - 2) < 1e-5)
    }

    @Test func identicalDistributionsDoNotShift() throws {
        var shift = DistributionShift()
        for row in [[Float](arrayLiteral: 1, -2, 0.5, 3), [0, 0, 0, 0.1]] {
            add(&shift, row, row, target: 2)
        }
        let s = try #require(shift.summary)
        #expect(s.positions == 2)
        #expect(s.maximumKLD < 1e-6 && s.sameTop == 1)
        #expect(abs(try #require(s.rmsProbabilityChange)) < 1e-7)
        #expect(DistributionShift().summary == nil)
    }

    @Test func percentilesAndErrorsOfSeveralPositions() throws {
        var shift = DistributionShift()
        // KL of (½, ½) from p = (x, 1 − x) grows as p leaves ½: four distinct divergences.
        let xs: [Double] = [0.5, 0.6, 0.7, 0.9]
        var kls: [Double] = []
        for x in xs {
            add(&shift, [Float(log(x)), Float(log(1 - x))], [0, 0], target: nil)
            kls.append(x * log(x / 0.5) + (1 - x) * log((1 - x) / 0.5))
        }
        let s = try #require(shift.summary)
        #expect(abs(s.meanKLD - kls.reduce(0, +) / 4) < 1e-6)
        #expect(abs(s.medianKLD - (kls[1] + kls[2]) / 2) < 1e-6)
        #expect(abs(s.maximumKLD - kls[3]) < 1e-6)
        #expect(s.meanProbabilityChange == nil, "no observed outcomes")
        let mean = kls.reduce(0, +) / 4
        let sd = (kls.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 3).squareRoot()
        #expect(abs(s.meanKLDStandardError - sd / 2) < 1e-6)
    }

    @Test func perplexityErrorFollowsLlamaPerplexity() {
        var sum = NLLSum()
        for v in [1.0, 2.0, 3.0] { sum.add(v) }
        // mean 2, E[x²] − mean² = 14/3 − 4 = 2/3; ± = √(2/3 / 2) · e².
        #expect(abs(sum.perplexity! - exp(2.0)) < 1e-12)
        #expect(abs(sum.perplexityError - (1.0 / 3).squareRoot() * exp(2.0)) < 1e-9)
    }
}
