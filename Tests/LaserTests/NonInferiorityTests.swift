// Non-inferiority statistics against independent computations: the restricted maximum-likelihood
// estimate by a direct search of the likelihood, Tango's score from its definition, and the
// one-sided bound against the two-sided 90% Newcombe interval.
import Foundation
import Testing

@testable import Laser

@Suite struct NonInferiorityTests {
    /// The restricted MLE of p_l found by a fine search of the log-likelihood (no algebra shared
    /// with the closed form).
    func searchedLostProbability(g: Int, l: Int, n: Int, delta d: Double) -> Double {
        let m = Double(n - g - l)
        func logLikelihood(_ p: Double) -> Double {
            let pg = p + d
            let rest = 1 - 2 * p - d
            guard pg > 0 || g == 0, p > 0 || l == 0, rest > 0 || m == 0 else { return -.infinity }
            return (g > 0 ? Double(g) * log(pg) : 0) + (l > 0 ? Double(l) * log(p) : 0)
                + (m > 0 ? m * log(rest) : 0)
        }
        var low = max(0, -d)
        var high = (1 - d) / 2
        // Golden-section search on the concave likelihood.
        let phi = (5.0.squareRoot() - 1) / 2
        for _ in 0..<200 {
            let x1 = high - phi * (high - low)
            let x2 = low + phi * (high - low)
            if logLikelihood(x1) < logLikelihood(x2) { low = x1 } else { high = x2 }
        }
        return (low + high) / 2
    }

    @Test(arguments: [
        (g: 12, l: 9, n: 500, delta: -0.015), (g: 3, l: 5, n: 500, delta: -0.015),
        (g: 40, l: 20, n: 1000, delta: -0.01), (g: 0, l: 6, n: 200, delta: -0.02),
        (g: 7, l: 0, n: 300, delta: -0.05),
    ])
    func restrictedEstimateMatchesADirectSearchOfTheLikelihood(
        _ c: (g: Int, l: Int, n: Int, delta: Double)
    ) {
        let closed = NonInferiority.restrictedLostProbability(
            gained: c.g, lost: c.l, n: c.n, delta: c.delta)
        let searched = searchedLostProbability(g: c.g, l: c.l, n: c.n, delta: c.delta)
        #expect(abs(closed - searched) < 1e-7, "closed \(closed), searched \(searched)")
    }

    @Test func tangoScoreFromItsDefinition() throws {
        // 1,000 levels: 30 gained, 38 lost; margin 1.5 points.
        let c = PairedComparison(both: 600, gained: 30, lost: 38, neither: 332)
        let test = try NonInferiority(c, margin: 0.015)
        let p = searchedLostProbability(g: 30, l: 38, n: 1000, delta: -0.015)
        let z =
            (Double(30 - 38) + 1000 * 0.015) / (1000 * (2 * p - 0.015 - 0.015 * 0.015)).squareRoot()
        let expected = 0.5 * erfc(z / 2.0.squareRoot())
        #expect(abs(test.pValue - expected) < 1e-6)
        #expect(test.pValue > 0.1 && test.pValue < 0.3, "Δ = −0.8 points: weak evidence (p ≈ 0.20)")
        // The one-sided 95% bound is the lower end of the two-sided 90% interval.
        let ninety = Statistics.newcombePaired(
            both: 600, gained: 30, lost: 38, neither: 332, z: 1.6448536269514722)
        #expect(test.lowerBound == ninety.low)
        #expect(test.lowerBound > c.differenceCI.low, "one-sided 95% is tighter than two-sided")
    }

    @Test func theVerdictFollowsTheBoundAndTheMargin() throws {
        let close = PairedComparison(both: 700, gained: 10, lost: 12, neither: 278)
        #expect(try NonInferiority(close, margin: 0.015).nonInferior)
        #expect(try !NonInferiority(close, margin: 0.0).nonInferior)
        let worse = PairedComparison(both: 650, gained: 10, lost: 50, neither: 290)
        let w = try NonInferiority(worse, margin: 0.015)
        #expect(!w.nonInferior && w.pValue > 0.5)
        #expect(w.summary.hasPrefix("not shown non-inferior at 1.5 points"))
        // A larger margin is never harder to meet; the p-value falls with it.
        let p1 = try NonInferiority(close, margin: 0.01).pValue
        let p2 = try NonInferiority(close, margin: 0.03).pValue
        #expect(p2 < p1)
        #expect(throws: LaserError.self) { try NonInferiority(close, margin: 1.5) }
    }
}
