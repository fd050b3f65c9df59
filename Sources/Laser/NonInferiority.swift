// Non-inferiority of a reduced model against its parent on the same items: is the reduced model
// at most `margin` worse? A smaller or faster model is worth shipping when it is not worse by more
// than the margin, which a test of "no difference" cannot show (a large p there is no evidence).
import Foundation

/// The non-inferiority test of a paired comparison of rates: H₀ Δ ≤ −margin against H₁ Δ > −margin,
/// where Δ = reduced rate − baseline rate.
public struct NonInferiority: Codable, Sendable, Equatable {
    /// The margin as a rate (0.015 for 1.5 points).
    public let margin: Double
    public let n: Int
    public let difference: Double
    /// The one-sided 95% lower bound of Δ: the lower end of Newcombe's paired interval at
    /// z = 1.645 (a two-sided 90% interval), the same interval family as the reports' 95% ones.
    public let lowerBound: Double
    /// One-sided p-value of Tango's score test (1998) at Δ = −margin: the variance under H₀ uses
    /// the maximum-likelihood cell probabilities restricted to Δ = −margin.
    public let pValue: Double
    /// Whether the reduced model is non-inferior: the lower bound clears −margin.
    public let nonInferior: Bool

    public static let z95OneSided = 1.6448536269514722

    public init(_ c: PairedComparison, margin: Double) throws {
        guard margin >= 0 && margin < 1 else {
            throw LaserError.io(
                "a non-inferiority margin must be in [0, 1) as a rate, not \(margin)")
        }
        self.margin = margin
        n = c.n
        difference = c.difference
        let neither = c.n - c.baselineSuccesses - c.gained
        lowerBound =
            Statistics.newcombePaired(
                both: c.baselineSuccesses - c.lost, gained: c.gained, lost: c.lost,
                neither: neither, z: Self.z95OneSided
            ).low
        pValue = Self.tangoPValue(gained: c.gained, lost: c.lost, n: c.n, delta: -margin)
        nonInferior = lowerBound >= -margin
    }

    /// Tango's score test of H₀: p_g − p_l = δ (p_g, p_l the probabilities of a gained and a
    /// lost item) against H₁: p_g − p_l > δ, one-sided. Z = (g − l − nδ) / √(n(2p̃_l + δ − δ²)),
    /// with p̃_l the restricted maximum-likelihood estimate of p_l given p_g = p_l + δ.
    public static func tangoPValue(gained g: Int, lost l: Int, n: Int, delta: Double) -> Double {
        guard n > 0 else { return 1 }
        let pl = restrictedLostProbability(gained: g, lost: l, n: n, delta: delta)
        let variance = Double(n) * (2 * pl + delta - delta * delta)
        let numerator = Double(g - l) - Double(n) * delta
        guard variance > 0 else { return numerator > 0 ? 0 : 1 }
        let z = numerator / variance.squareRoot()
        return 0.5 * erfc(z / 2.0.squareRoot())
    }

    /// The p_l maximising g·log(p_l + δ) + l·log p_l + m·log(1 − 2p_l − δ), m = n − g − l.
    static func restrictedLostProbability(gained g: Int, lost l: Int, n: Int, delta d: Double)
        -> Double
    {
        // The derivative g/(p+d) + l/p − 2m/(1−2p−d) = 0, multiplied by p(p+d)(1−2p−d), is the
        // quadratic g·p(1−2p−d) + l·(p+d)(1−2p−d) − 2m·p(p+d) = a·p² + b·p + c = 0.
        let gg = Double(g)
        let ll = Double(l)
        let m = Double(n - g - l)
        let a = -2 * Double(n)
        let b = gg * (1 - d) + ll * (1 - 3 * d) - 2 * m * d
        let c = ll * d * (1 - d)
        // Feasible: p ≥ max(0, −d), 2p + d ≤ 1. The likelihood is concave there, so the root in
        // that range is the maximum; the quadratic (a < 0) has exactly one root there.
        let disc = max(0, b * b - 4 * a * c)
        let r1 = (-b + disc.squareRoot()) / (2 * a)
        let r2 = (-b - disc.squareRoot()) / (2 * a)
        let low = max(0, -d)
        let high = (1 - d) / 2
        let candidates = [r1, r2].filter { $0 >= low - 1e-12 && $0 <= high + 1e-12 }
        return min(high, max(low, candidates.first ?? low))
    }

    /// "non-inferior at 1.5 points: one-sided 95% lower bound −0.8 ≥ −1.5, p = 0.003".
    public var summary: String {
        let verdict = nonInferior ? "non-inferior" : "not shown non-inferior"
        return
            "\(verdict) at \(String(format: "%.1f", 100 * margin)) points: one-sided 95% lower bound \(Statistics.signedPoints(lowerBound)) \(nonInferior ? "≥" : "<") \(Statistics.signedPoints(-margin)), Tango score p = \(Statistics.formatP(pValue))"
    }

    enum CodingKeys: String, CodingKey {
        case margin, n, difference
        case lowerBound = "lower_bound_95_one_sided"
        case pValue = "p_value"
        case nonInferior = "non_inferior"
    }
}
