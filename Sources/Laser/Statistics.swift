// Paired statistics for "does this reduction change the score?": the same items (levels,
// questions) scored by the unreduced and the reduced model. Binary outcomes get the exact McNemar
// test on the discordant pairs, Newcombe's interval for the difference of the two rates and
// Wilson intervals on each rate; continuous ones (mean log-probability) a paired bootstrap
// interval. Model-agnostic: both model families use it, and `laser compare` on saved per-item files.
import Core
import Foundation
import LinearAlgebra

/// The 95% normal quantile, z = Φ⁻¹(0.975).
public let z95 = 1.959963984540054

/// A closed interval of a rate or a difference.
public struct Interval: Codable, Sendable, Equatable {
    public var low: Double
    public var high: Double
    public init(low: Double, high: Double) {
        self.low = low
        self.high = high
    }
    public func contains(_ x: Double) -> Bool { low <= x && x <= high }
}

/// What every paired comparison reports: the reduced score minus the baseline's, its 95%
/// interval, a p-value, and the verdict in a line.
public protocol PairedStatistic: Encodable, Sendable {
    var difference: Double { get }
    var differenceCI: Interval { get }
    var pValue: Double { get }
    var significant: Bool { get }
    var summary: String { get }
}

/// The comparison of two binary scorings of the same items: baseline (unreduced) and reduced.
public struct PairedComparison: PairedStatistic, Equatable {
    /// Items compared.
    public let n: Int
    /// Items each scoring got right.
    public let baselineSuccesses: Int
    public let reducedSuccesses: Int
    /// Discordant pairs: right only when reduced (gained), right only unreduced (lost).
    public let gained: Int
    public let lost: Int
    /// Two-sided exact McNemar p-value: the binomial test of `gained` out of `gained + lost` at 1/2.
    public let pValue: Double
    /// Reduced rate minus baseline rate, with Newcombe's 95% interval (his method 10).
    public let difference: Double
    public let differenceCI: Interval
    /// Each rate with its Wilson 95% interval.
    public let baselineRate: Double
    public let baselineCI: Interval
    public let reducedRate: Double
    public let reducedCI: Interval

    /// Compares per-item outcomes (`true` = right); both arrays list the same items in order.
    public init(baseline: [Bool], reduced: [Bool]) throws {
        guard baseline.count == reduced.count else {
            throw LaserError.io(
                "paired comparison of \(baseline.count) and \(reduced.count) items: the two must score the same items"
            )
        }
        var both = 0
        var gained = 0
        var lost = 0
        for (b, r) in zip(baseline, reduced) {
            if b && r { both += 1 } else if r { gained += 1 } else if b { lost += 1 }
        }
        self.init(
            both: both, gained: gained, lost: lost, neither: baseline.count - both - gained - lost)
    }

    /// From the four cells of the paired table.
    public init(both: Int, gained: Int, lost: Int, neither: Int) {
        n = both + gained + lost + neither
        baselineSuccesses = both + lost
        reducedSuccesses = both + gained
        self.gained = gained
        self.lost = lost
        pValue = Statistics.exactMcNemar(gained: gained, lost: lost)
        baselineRate = n > 0 ? Double(baselineSuccesses) / Double(n) : 0
        reducedRate = n > 0 ? Double(reducedSuccesses) / Double(n) : 0
        baselineCI = Statistics.wilson(successes: baselineSuccesses, n: n)
        reducedCI = Statistics.wilson(successes: reducedSuccesses, n: n)
        difference = reducedRate - baselineRate
        differenceCI = Statistics.newcombePaired(
            both: both, gained: gained, lost: lost, neither: neither)
    }

    /// Whether the change is significant at the 5% level.
    public var significant: Bool { pValue < 0.05 }

    enum CodingKeys: String, CodingKey {
        case kind, n, gained, lost
        case pValue = "p_value"
        case difference
        case ci95Low = "ci95_low"
        case ci95High = "ci95_high"
        case significant
        case baselineRate = "baseline_rate"
        case baselineLow = "baseline_ci95_low"
        case baselineHigh = "baseline_ci95_high"
        case reducedRate = "reduced_rate"
        case reducedLow = "reduced_ci95_low"
        case reducedHigh = "reduced_ci95_high"
    }

    /// Flat, plainly named fields: `p_value`, `difference`, `ci95_low`, `ci95_high`, ...
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("rate", forKey: .kind)
        try c.encode(n, forKey: .n)
        try c.encode(gained, forKey: .gained)
        try c.encode(lost, forKey: .lost)
        try c.encode(pValue, forKey: .pValue)
        try c.encode(difference, forKey: .difference)
        try c.encode(differenceCI.low, forKey: .ci95Low)
        try c.encode(differenceCI.high, forKey: .ci95High)
        try c.encode(significant, forKey: .significant)
        try c.encode(baselineRate, forKey: .baselineRate)
        try c.encode(baselineCI.low, forKey: .baselineLow)
        try c.encode(baselineCI.high, forKey: .baselineHigh)
        try c.encode(reducedRate, forKey: .reducedRate)
        try c.encode(reducedCI.low, forKey: .reducedLow)
        try c.encode(reducedCI.high, forKey: .reducedHigh)
    }

    /// One line: "+2.4 points [−0.3, +5.1], p = 0.083 (gained 14, lost 2; n = 500)".
    public var summary: String {
        String(
            format: "%@ points [%@, %@], p = %@ (gained %d, lost %d; n = %d)%@",
            Statistics.signedPoints(difference), Statistics.signedPoints(differenceCI.low),
            Statistics.signedPoints(differenceCI.high), Statistics.formatP(pValue), gained, lost, n,
            significant ? "" : ", not significant")
    }
}

/// The comparison of two continuous per-item scores (such as mean log-probability) on the same
/// items: the mean difference with a paired bootstrap 95% interval (percentile method, fixed seed).
public struct PairedMeanComparison: PairedStatistic, Equatable {
    public let n: Int
    public let baselineMean: Double
    public let reducedMean: Double
    public let difference: Double
    public let differenceCI: Interval
    /// Two-sided bootstrap p-value: twice the smaller share of resampled mean differences on
    /// either side of zero (at least 1/resamples).
    public let pValue: Double
    public let resamples: Int
    public let seed: UInt64

    public init(baseline: [Double], reduced: [Double], resamples: Int = 10_000, seed: UInt64 = 0)
        throws
    {
        guard baseline.count == reduced.count, !baseline.isEmpty else {
            throw LaserError.io(
                "paired comparison of \(baseline.count) and \(reduced.count) scores: the two must score the same items"
            )
        }
        guard resamples >= 100 else {
            throw LaserError.io("a bootstrap needs at least 100 resamples")
        }
        let differences = zip(reduced, baseline).map { $0 - $1 }
        n = differences.count
        baselineMean = baseline.reduce(0, +) / Double(n)
        reducedMean = reduced.reduce(0, +) / Double(n)
        difference = differences.reduce(0, +) / Double(n)
        self.resamples = resamples
        self.seed = seed
        var rng = SplitMix64(seed: seed)
        var means = [Double](repeating: 0, count: resamples)
        for r in 0..<resamples {
            var sum = 0.0
            for _ in 0..<n { sum += differences[Int(rng.next() % UInt64(n))] }
            means[r] = sum / Double(n)
        }
        means.sort()
        differenceCI = Interval(
            low: Statistics.quantile(sorted: means, 0.025),
            high: Statistics.quantile(sorted: means, 0.975))
        let below = means.filter { $0 <= 0 }.count
        let above = means.filter { $0 >= 0 }.count
        pValue = min(
            1, max(1 / Double(resamples), 2 * Double(min(below, above)) / Double(resamples)))
    }

    public var significant: Bool { pValue < 0.05 && !differenceCI.contains(0) }

    enum CodingKeys: String, CodingKey {
        case kind, n
        case pValue = "p_value"
        case difference
        case ci95Low = "ci95_low"
        case ci95High = "ci95_high"
        case significant
        case baselineMean = "baseline_mean"
        case reducedMean = "reduced_mean"
        case resamples, seed
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("mean", forKey: .kind)
        try c.encode(n, forKey: .n)
        try c.encode(pValue, forKey: .pValue)
        try c.encode(difference, forKey: .difference)
        try c.encode(differenceCI.low, forKey: .ci95Low)
        try c.encode(differenceCI.high, forKey: .ci95High)
        try c.encode(significant, forKey: .significant)
        try c.encode(baselineMean, forKey: .baselineMean)
        try c.encode(reducedMean, forKey: .reducedMean)
        try c.encode(resamples, forKey: .resamples)
        try c.encode(seed, forKey: .seed)
    }

    public var summary: String {
        String(
            format: "%+.4f [%+.4f, %+.4f], bootstrap p = %@ (n = %d)%@", difference,
            differenceCI.low,
            differenceCI.high, Statistics.formatP(pValue), n, significant ? "" : ", not significant"
        )
    }
}

/// A comparison of one metric, item by item: a rate (every score 0 or 1) or a mean.
public enum MetricComparison: Encodable, Sendable, Equatable {
    case rate(PairedComparison)
    case mean(PairedMeanComparison)

    /// Compares per-item scores of the same items; rates when both hold only 0 and 1.
    public init(baseline: [Double], reduced: [Double]) throws {
        let binary = (baseline + reduced).allSatisfy { $0 == 0 || $0 == 1 }
        if binary {
            self = .rate(
                try PairedComparison(
                    baseline: baseline.map { $0 == 1 }, reduced: reduced.map { $0 == 1 }))
        } else {
            self = .mean(try PairedMeanComparison(baseline: baseline, reduced: reduced))
        }
    }

    /// The comparison, whichever kind it is.
    public var statistic: any PairedStatistic {
        switch self {
        case .rate(let c): return c
        case .mean(let c): return c
        }
    }
    public var difference: Double { statistic.difference }
    public var interval: Interval { statistic.differenceCI }
    public var pValue: Double { statistic.pValue }
    public var significant: Bool { statistic.significant }
    public var summary: String { statistic.summary }

    public func encode(to encoder: Encoder) throws { try statistic.encode(to: encoder) }

    /// Discordant pairs of a rate (nil for a mean).
    public var gainedLost: (gained: Int, lost: Int)? {
        if case .rate(let c) = self { return (c.gained, c.lost) }
        return nil
    }
}

/// The formulas, each checked in the tests against values computed independently.
public enum Statistics {
    /// Two-sided exact McNemar test: P(X ≤ min(b, c)) doubled (capped at 1) for X ~ Bin(b + c, ½),
    /// as scipy's `binomtest(b, b + c, 0.5)` computes it. 1 when there are no discordant pairs.
    public static func exactMcNemar(gained b: Int, lost c: Int) -> Double {
        let m = b + c
        guard m > 0 else { return 1 }
        let k = min(b, c)
        if 2 * k == m { return 1 }
        // Sum the lower tail in log space: log C(m, i) − m·log 2.
        var tail = 0.0
        let log2m = Double(m) * log(2.0)
        for i in 0...k {
            tail += exp(logChoose(m, i) - log2m)
        }
        return min(1, 2 * tail)
    }

    static func logChoose(_ n: Int, _ k: Int) -> Double {
        lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
    }

    /// Wilson's score interval for `successes` out of `n` (no continuity correction).
    public static func wilson(successes: Int, n: Int, z: Double = z95) -> Interval {
        guard n > 0 else { return Interval(low: 0, high: 1) }
        let p = Double(successes) / Double(n)
        let nn = Double(n)
        let z2 = z * z
        let centre = (p + z2 / (2 * nn)) / (1 + z2 / nn)
        let half = z / (1 + z2 / nn) * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn))
        return Interval(low: max(0, centre - half), high: min(1, centre + half))
    }

    /// Newcombe's interval (1998, method 10: square-and-add of the Wilson intervals, with the
    /// continuity-corrected correlation φ) for the difference of two paired rates,
    /// p₁ = (both + gained)/n (reduced) minus p₂ = (both + lost)/n (baseline).
    public static func newcombePaired(
        both: Int, gained: Int, lost: Int, neither: Int, z: Double = z95
    ) -> Interval {
        let n = both + gained + lost + neither
        guard n > 0 else { return Interval(low: -1, high: 1) }
        let nn = Double(n)
        let s1 = both + gained
        let f1 = lost + neither  // reduced: right, wrong
        let s2 = both + lost
        let f2 = gained + neither  // baseline: right, wrong
        let p1 = Double(s1) / nn
        let p2 = Double(s2) / nn
        let w1 = wilson(successes: s1, n: n, z: z)
        let w2 = wilson(successes: s2, n: n, z: z)
        var phi = 0.0
        if s1 > 0 && f1 > 0 && s2 > 0 && f2 > 0 {
            let a = Double(s1) * Double(f1) * Double(s2) * Double(f2)
            let b = Double(both) * Double(neither) - Double(gained) * Double(lost)
            let c = b > nn / 2 ? b - nn / 2 : (b >= 0 ? 0 : b)
            phi = c / sqrt(a)
        }
        let d = p1 - p2
        let lowTerm =
            pow(p1 - w1.low, 2) + pow(w2.high - p2, 2) - 2 * phi * (p1 - w1.low) * (w2.high - p2)
        let highTerm =
            pow(p2 - w2.low, 2) + pow(w1.high - p1, 2) - 2 * phi * (p2 - w2.low) * (w1.high - p1)
        return Interval(
            low: max(-1, d - sqrt(max(0, lowTerm))), high: min(1, d + sqrt(max(0, highTerm))))
    }

    /// The q-quantile of sorted values, linearly interpolated (numpy's default).
    public static func quantile(sorted values: [Double], _ q: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let position = q * Double(values.count - 1)
        let i = Int(position.rounded(.down))
        let j = min(i + 1, values.count - 1)
        return values[i] + (values[j] - values[i]) * (position - Double(i))
    }

    /// "+2.4" for a rate difference of 0.024 (percentage points, one decimal).
    public static func signedPoints(_ x: Double) -> String {
        let points = (x * 1000).rounded() / 10
        return points == 0 ? "0.0" : String(format: "%+.1f", points)
    }

    /// A p-value to three significant figures ("0.0525", "1.86e-09").
    public static func formatP(_ p: Double) -> String { String(format: "%.3g", p) }
}
