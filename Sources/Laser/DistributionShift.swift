// How an edit moved a model's predictive distributions, position by position: the figures
// llama.cpp's `llama-perplexity --kl-divergence` prints (KL divergence from the unedited model,
// same top token, Δp of the observed outcome), for any model whose outputs are logits.
import LinearAlgebra

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Accumulates, over positions, KL(base ‖ edited) of two softmax distributions over the same
/// outcomes, whether their top outcome is the same, and (given the outcome that happened) the
/// change of its probability Δp = p_edited − p_base and both negative log-likelihoods.
public struct DistributionShift: Sendable {
    public private(set) var divergences: [Double] = []
    public private(set) var probabilityChanges: [Double] = []
    public private(set) var sameTop = 0
    /// Σ −log p of the observed outcomes, and of their squares, under the base and edited model.
    public private(set) var baseNLL = NLLSum()
    public private(set) var editedNLL = NLLSum()
    private var scratch: [Float] = []

    public init() {}

    public var count: Int { divergences.count }

    /// Adds one position: the two logit rows (same length) and, when known, the outcome observed.
    public mutating func add(
        base: UnsafePointer<Float>, edited: UnsafePointer<Float>, count n: Int, target: Int? = nil
    ) {
        precondition(n >= 1, "an empty distribution")
        if scratch.count < n { scratch = [Float](repeating: 0, count: n) }
        let (kl, lseBase, lseEdited) = scratch.withUnsafeMutableBufferPointer { s in
            let p = s.baseAddress!
            let lseEdited = FastExp.logSumExp(edited, count: n, scratch: p).logSum
            // The base's last: its exponentials stay in the scratch for the weighted sum.
            let (lseBase, baseSum) = FastExp.logSumExp(base, count: n, scratch: p)
            // KL = Σ p_b (z_b − z_e) + lse_e − lse_b, since Σ p_b = 1.
            var weighted = 0.0
            for i in 0..<n { weighted += Double(p[i]) * Double(base[i] - edited[i]) }
            return (weighted / baseSum + lseEdited - lseBase, lseBase, lseEdited)
        }
        let baseTop = Self.argmax(base, n)
        let editedTop = Self.argmax(edited, n)
        // Rounding can leave a tiny negative divergence between identical distributions.
        divergences.append(max(0, kl))
        if baseTop == editedTop { sameTop += 1 }
        if let t = target {
            precondition(t >= 0 && t < n, "outcome \(t) outside the \(n) outcomes")
            let logBase = Double(base[t]) - lseBase
            let logEdited = Double(edited[t]) - lseEdited
            probabilityChanges.append(exp(logEdited) - exp(logBase))
            baseNLL.add(-logBase)
            editedNLL.add(-logEdited)
        }
    }

    /// The first index of the largest value (the greedy choice).
    static func argmax(_ x: UnsafePointer<Float>, _ n: Int) -> Int {
        var best = 0
        for i in 1..<max(1, n) where x[i] > x[best] { best = i }
        return best
    }

    /// The summary figures; nil when no position was added.
    public var summary: DistributionShiftSummary? {
        guard count > 0 else { return nil }
        let sorted = divergences.sorted()
        let mean = divergences.reduce(0, +) / Double(count)
        let same = Double(sameTop) / Double(count)
        let changes = probabilityChanges
        let meanChange = changes.isEmpty ? nil : changes.reduce(0, +) / Double(changes.count)
        return DistributionShiftSummary(
            positions: count, meanKLD: mean,
            meanKLDStandardError: Self.standardError(divergences, mean: mean),
            medianKLD: Statistics.quantile(sorted: sorted, 0.5),
            kld99: Statistics.quantile(sorted: sorted, 0.99),
            maximumKLD: sorted[sorted.count - 1], sameTop: same,
            sameTopStandardError: count > 1
                ? (same * (1 - same) / Double(count - 1)).squareRoot() : 0,
            meanProbabilityChange: meanChange,
            probabilityChangeStandardError: meanChange.map {
                Self.standardError(changes, mean: $0)
            },
            rmsProbabilityChange: changes.isEmpty
                ? nil
                : (changes.reduce(0) { $0 + $1 * $1 } / Double(changes.count)).squareRoot())
    }

    /// The standard error of a mean (sample standard deviation / √n; 0 for one value).
    static func standardError(_ values: [Double], mean: Double) -> Double {
        guard values.count > 1 else { return 0 }
        let variance =
            values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
        return (variance / Double(values.count)).squareRoot()
    }
}

/// A running sum of negative log-likelihoods and their squares: perplexity with llama.cpp's
/// uncertainty, exp(mean) ± sd(nll)/√(n − 1) · exp(mean).
public struct NLLSum: Sendable, Equatable {
    public private(set) var count = 0
    public private(set) var sum = 0.0
    public private(set) var sumOfSquares = 0.0

    public init() {}

    public mutating func add(_ nll: Double) {
        count += 1
        sum += nll
        sumOfSquares += nll * nll
    }

    public mutating func add(_ other: NLLSum) {
        count += other.count
        sum += other.sum
        sumOfSquares += other.sumOfSquares
    }

    /// exp(mean negative log-likelihood); nil when empty.
    public var perplexity: Double? { count > 0 ? exp(sum / Double(count)) : nil }

    /// llama-perplexity's ± of the perplexity (0 with fewer than two values).
    public var perplexityError: Double {
        guard count > 1, let ppl = perplexity else { return 0 }
        let mean = sum / Double(count)
        let variance = sumOfSquares / Double(count) - mean * mean
        return variance > 0 ? (variance / Double(count - 1)).squareRoot() * ppl : 0
    }
}

/// The figures of a `DistributionShift` (KL in nats, probabilities as fractions).
public struct DistributionShiftSummary: Codable, Sendable, Equatable {
    public let positions: Int
    public let meanKLD: Double
    public let meanKLDStandardError: Double
    public let medianKLD: Double
    public let kld99: Double
    public let maximumKLD: Double
    /// Share of positions whose top outcome is the same (greedy agreement).
    public let sameTop: Double
    public let sameTopStandardError: Double
    /// Mean Δp of the observed outcome; nil when no outcome was given.
    public let meanProbabilityChange: Double?
    public let probabilityChangeStandardError: Double?
    public let rmsProbabilityChange: Double?

    enum CodingKeys: String, CodingKey {
        case positions
        case meanKLD = "mean_kld"
        case meanKLDStandardError = "mean_kld_standard_error"
        case medianKLD = "median_kld"
        case kld99 = "kld_99"
        case maximumKLD = "maximum_kld"
        case sameTop = "same_top"
        case sameTopStandardError = "same_top_standard_error"
        case meanProbabilityChange = "mean_probability_change"
        case probabilityChangeStandardError = "probability_change_standard_error"
        case rmsProbabilityChange = "rms_probability_change"
    }
}
