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
/// A (layer, type) pair that addresses no matrix of the model (a transformer layer has no `conv`
/// where a conv trunk has one) is left out, so a sweep over mixed layers does not stop on it.
public struct SweepGrid: Sendable, Equatable {
    public let layers: [Int]
    public let types: [String]
    public let rhos: [Double]
    /// The (layer, type) pairs swept, in layer then type order.
    public let pairs: [LayerType]

    public struct LayerType: Sendable, Equatable, Hashable {
        public let layer: Int
        public let type: String
    }

    /// The grid over every pair of `layers` × `types` for which `exists(layer, type)`.
    public init(
        layers: [Int], types: [String], rhos: [Double],
        exists: (Int, String) -> Bool = { _, _ in true }
    ) throws {
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
        pairs = layers.flatMap { l in
            types.filter { exists(l, $0) }.map { LayerType(layer: l, type: $0) }
        }
        guard !pairs.isEmpty else {
            throw LaserError.invalidIntervention(
                "grid", reason: "no swept layer has a matrix of the swept types")
        }
    }

    /// The grid over the pairs that address some matrix of `model`.
    public init(layers: [Int], types: [String], rhos: [Double], model: some ReducibleModel) throws {
        let groups = model.typeGroups
        let matrices = model.reducibleMatrices
        try self.init(layers: layers, types: types, rhos: rhos) { layer, type in
            let probe = try? Intervention(layer: .index(layer), type: type, rho: 1)
            return matrices.contains { probe?.matches($0, groups: groups) ?? false }
        }
    }

    /// Whether the grid sweeps `type` at `layer`.
    public func contains(layer: Int, type: String) -> Bool {
        pairs.contains(LayerType(layer: layer, type: type))
    }

    /// The points evaluated when not the whole grid (`restricted(to:)`), in grid order.
    public private(set) var selection: [Intervention]?

    /// Every grid point, in the canonical order shards and reports share.
    public var allPoints: [Intervention] {
        pairs.flatMap { pair in
            rhos.map { try! Intervention(layer: .index(pair.layer), type: pair.type, rho: $0) }
        }
    }

    /// The points a sweep evaluates: the whole grid, or the selection.
    public var points: [Intervention] { selection ?? allPoints }

    /// The same grid evaluating only `chosen` (each must be a grid point), kept in grid order.
    public func restricted(to chosen: [Intervention]) throws -> SweepGrid {
        let all = allPoints
        for point in chosen where !all.contains(point) {
            throw LaserError.invalidIntervention(
                point.description, reason: "not a point of the grid")
        }
        var grid = self
        grid.selection = all.filter { chosen.contains($0) }
        return grid
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
    /// Whether metrics `a` are strictly better than `b` by this objective (false when either
    /// lacks the metric).
    public func beats(_ a: Metrics, _ b: Metrics) -> Bool {
        guard let x = a[metric], let y = b[metric] else { return false }
        return better(x, y)
    }
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
