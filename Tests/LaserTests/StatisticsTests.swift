// The paired statistics against values computed independently: scipy 1.17's
// `binomtest(k, n, 0.5).pvalue` (exact McNemar) and `binomtest(k, n).proportion_ci(method="wilson")`,
// and the Newcombe square-and-add interval of Fagerland, Lydersen & Laake's contingencytables
// package (their Chapter 8 test: the table [[59, 6], [16, 80]] gives −0.0621, 95% CI −0.1186 to
// −0.0046).
import Core
import Foundation
import LinearAlgebra
import Testing

@testable import Laser

@Suite struct StatisticsTests {
    @Test func exactMcNemarMatchesScipy() {
        let cases: [(Int, Int, Double)] = [
            (6, 16, 0.052478790283203125), (0, 5, 0.0625), (3, 0, 0.25),
            (10, 20, 0.09873714670538905),
            (250, 270, 0.4047522841590482), (1, 0, 1.0), (4, 4, 1.0), (0, 0, 1.0),
        ]
        for (gained, lost, expected) in cases {
            let p = Statistics.exactMcNemar(gained: gained, lost: lost)
            #expect(abs(p - expected) <= 1e-12 * max(1, expected), "\(gained)/\(lost): \(p)")
            #expect(Statistics.exactMcNemar(gained: lost, lost: gained) == p)
        }
        // Large counts stay finite and tiny.
        #expect(Statistics.exactMcNemar(gained: 0, lost: 2000) < 1e-300)
    }

    @Test func wilsonMatchesScipy() {
        let cases: [(Int, Int, Double, Double)] = [
            (65, 161, 0.33103675483709327, 0.4809037592679162), (0, 10, 0, 0.27753279986288926),
            (10, 10, 0.7224672001371109, 1), (473, 1000, 0.4422178794680813, 0.5039887654901386),
            (1, 3, 0.06149194472039626, 0.7923403991979523),
        ]
        for (k, n, low, high) in cases {
            let w = Statistics.wilson(successes: k, n: n)
            #expect(abs(w.low - low) < 1e-12 && abs(w.high - high) < 1e-12, "\(k)/\(n): \(w)")
        }
    }

    @Test func newcombeMatchesContingencyTables() throws {
        // Rows: reduced right / wrong; columns: baseline right / wrong.
        let c = PairedComparison(both: 59, gained: 6, lost: 16, neither: 80)
        #expect(abs(c.difference - -0.0621) < 5e-5)
        #expect(abs(c.differenceCI.low - -0.1186) < 5e-5, "\(c.differenceCI)")
        #expect(abs(c.differenceCI.high - -0.0046) < 5e-5, "\(c.differenceCI)")
        #expect(abs(c.pValue - 0.052478790283203125) < 1e-12)
        #expect(c.n == 161 && c.reducedSuccesses == 65 && c.baselineSuccesses == 75)
        #expect(!c.significant)
        #expect(
            c.summary
                == "-6.2 points [-11.9, -0.5], p = 0.0525 (gained 6, lost 16; n = 161), not significant"
        )
    }

    @Test func fromPerItemOutcomes() throws {
        let baseline = [true, true, false, false, true, false]
        let reduced = [true, false, true, true, true, false]
        let c = try PairedComparison(baseline: baseline, reduced: reduced)
        #expect(c.gained == 2 && c.lost == 1 && c.n == 6)
        #expect(c == PairedComparison(both: 2, gained: 2, lost: 1, neither: 1))
        #expect(c.differenceCI.contains(c.difference))
        #expect(throws: LaserError.self) { try PairedComparison(baseline: [true], reduced: []) }
        // Identical scorings: no change, p = 1, an interval around 0.
        let same = try PairedComparison(baseline: baseline, reduced: baseline)
        #expect(same.pValue == 1 && same.difference == 0 && same.differenceCI.contains(0))
    }

    /// The bootstrap interval is seeded (the same every run), covers the observed difference,
    /// agrees with the normal approximation on a large sample, and collapses for a constant shift.
    @Test func pairedBootstrap() throws {
        var rng = SplitMix64(seed: 3)
        let baseline = (0..<400).map { _ in rng.nextNormal() }
        let reduced = baseline.map { $0 + 0.1 + 0.5 * rng.nextNormal() }
        let a = try PairedMeanComparison(
            baseline: baseline, reduced: reduced, resamples: 4000, seed: 7)
        let b = try PairedMeanComparison(
            baseline: baseline, reduced: reduced, resamples: 4000, seed: 7)
        #expect(a == b)
        #expect(a.differenceCI.contains(a.difference))
        let d = zip(reduced, baseline).map { $0 - $1 }
        let mean = d.reduce(0, +) / 400
        let sd = sqrt(d.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 399)
        let half = 1.96 * sd / sqrt(400)
        #expect(abs(a.differenceCI.low - (mean - half)) < 0.15 * half)
        #expect(abs(a.differenceCI.high - (mean + half)) < 0.15 * half)
        #expect(a.significant && a.pValue < 0.01)
        let shifted = try PairedMeanComparison(baseline: baseline, reduced: baseline.map { $0 + 1 })
        #expect(
            abs(shifted.differenceCI.low - 1) < 1e-9 && abs(shifted.differenceCI.high - 1) < 1e-9)
        let none = try PairedMeanComparison(baseline: baseline, reduced: baseline)
        #expect(!none.significant)
    }

    @Test func quantileInterpolatesLikeNumpy() {
        #expect(Statistics.quantile(sorted: [1, 2, 3, 4], 0.5) == 2.5)
        #expect(Statistics.quantile(sorted: [1, 2, 3, 4, 5], 0.025) == 1.1)
    }
}
