// The vocabulary of a search: splits, metrics, the grid, the objective and shards.

/// Named metrics an evaluation returns (`solve_rate`, `accuracy`, `mean_logprob`, ...).
public typealias Metrics = [String: Double]

/// The paper's protocol: choose on validation, report on a disjoint test split.
public enum Split: String, Codable, Sendable, CaseIterable {
    case validation
    case test
}

/// What an evaluation returns: aggregate metrics and, item by item, the scores behind them.
public struct Evaluation: Sendable {
    public var metrics: Metrics
    /// Per-item scores by metric name, in a fixed item order (0/1 for a rate such as `solve_rate`
    /// or `top1`), so two evaluations of the same items can be compared pair by pair.
    public var items: [String: [Double]]

    public init(metrics: Metrics, items: [String: [Double]] = [:]) {
        self.metrics = metrics
        self.items = items
    }
}

/// Metrics alone, written as a dictionary literal (no per-item scores).
extension Evaluation: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, Double)...) {
        self.init(metrics: Dictionary(elements, uniquingKeysWith: { $1 }))
    }
}

/// What an evaluation is told about the model state it is evaluating.
public struct EvaluationContext: Sendable {
    public let split: Split
    /// The interventions applied (empty for the unreduced model).
    public let interventions: [Intervention]
    /// The lowest layer whose weights differ from the original, or nil when none do: a model can
    /// reuse activations it computed below that layer.
    public let firstChangedLayer: Int?
}

/// The grid of single interventions a sweep evaluates, ordered layer, type, then ρ descending.
public struct SweepGrid: Sendable, Equatable {
    public let layers: [Int]
    public let types: [String]
    public let rhos: [Double]

    public init(layers: [Int], types: [String], rhos: [Double]) throws {
        for r in rhos where !(r > 0 && r <= 1) {
            throw LaserError.invalidIntervention("ρ \(r)", reason: "ρ must be in (0, 1]")
        }
        guard !layers.isEmpty, !types.isEmpty, !rhos.isEmpty else {
            throw LaserError.invalidIntervention(
                "grid", reason: "the grid needs at least one layer, type and ρ")
        }
        self.layers = layers
        self.types = types
        self.rhos = Array(Set(rhos)).sorted(by: >)
    }

    /// Every grid point, in the canonical order shards and reports share.
    public var points: [Intervention] {
        var out: [Intervention] = []
        for l in layers {
            for t in types {
                for r in rhos { out.append(try! Intervention(layer: .index(l), type: t, rho: r)) }
            }
        }
        return out
    }
}

/// The metric a search maximises (or minimises).
public struct Objective: Sendable, Equatable {
    public let metric: String
    public let higherIsBetter: Bool

    public init(metric: String, higherIsBetter: Bool = true) {
        self.metric = metric
        self.higherIsBetter = higherIsBetter
    }

    /// Whether `a` is at least as good as `b`.
    func atLeastAsGood(_ a: Double, _ b: Double) -> Bool { higherIsBetter ? a >= b : a <= b }
    /// Whether `a` is strictly better than `b`.
    func better(_ a: Double, _ b: Double) -> Bool { higherIsBetter ? a > b : a < b }
}

/// Shard i of n: takes grid points whose index ≡ i (mod n).
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1, index >= 0, index < count else {
            throw LaserError.invalidShard("\(index)/\(count)")
        }
        self.index = index
        self.count = count
    }

    /// Parses `i/n`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw LaserError.invalidShard(text)
        }
        try self.init(index: i, count: n)
    }

    public static let whole = try! Shard(index: 0, count: 1)

    public func owns(_ gridIndex: Int) -> Bool { gridIndex % count == index }
    public var description: String { "\(index)/\(count)" }
}
