// Two runs' per-item scores compared item by item (`laser compare`): each metric with the paired
// statistics, and each rate's non-inferiority when a margin is given.

/// One run's scores, item by item: the items' keys in the run's order and each metric's scores
/// in that order.
public struct ScoredItems: Sendable {
    /// What the items are ("levels", "questions").
    public let kind: String
    public let keys: [String]
    /// The metrics in the order they are reported.
    public let metrics: [String]
    public let scores: [String: [Double]]

    public init(kind: String, keys: [String], metrics: [String], scores: [String: [Double]]) {
        self.kind = kind
        self.keys = keys
        self.metrics = metrics
        self.scores = scores
    }
}

/// B compared with A on the items both hold, metric by metric.
public struct ItemComparison: Encodable {
    public let a: String, b: String, items: Int, kind: String
    /// Each metric both runs have, in A's order.
    public let rows: [(metric: String, comparison: MetricComparison)]
    /// With a margin: each rate's non-inferiority test (B at most the margin worse than A).
    public let nonInferiority: [String: NonInferiority]?

    enum CodingKeys: String, CodingKey {
        case a, b, items, kind, comparisons
        case nonInferiority = "non_inferiority"
    }

    /// Compares `second` (named `b`) with `first` (named `a`); `margin` is a fraction (0.015 for
    /// 1.5 points). The two must hold the same items, of the same kind.
    public init(
        _ first: ScoredItems, named a: String, _ second: ScoredItems, named b: String,
        margin: Double?
    ) throws {
        guard first.kind == second.kind else {
            throw LaserError.io("\(a) holds \(first.kind) but \(b) holds \(second.kind)")
        }
        guard Set(first.keys) == Set(second.keys), first.keys.count == second.keys.count else {
            let missing = Set(first.keys).symmetricDifference(second.keys).sorted().first ?? "?"
            throw LaserError.io(
                "\(a) and \(b) do not hold the same items (for example '\(missing)' is in only one)"
            )
        }
        let order = Dictionary(uniqueKeysWithValues: second.keys.enumerated().map { ($1, $0) })
        var rows: [(metric: String, comparison: MetricComparison)] = []
        for metric in first.metrics where second.scores[metric] != nil {
            let other = second.scores[metric]!
            let aligned = first.keys.map { other[order[$0]!] }
            rows.append(
                (metric, try MetricComparison(baseline: first.scores[metric]!, reduced: aligned)))
        }
        var tests: [String: NonInferiority] = [:]
        if let margin {
            for (metric, c) in rows {
                if case .rate(let r) = c { tests[metric] = try NonInferiority(r, margin: margin) }
            }
        }
        (self.a, self.b, items, kind) = (a, b, first.keys.count, first.kind)
        self.rows = rows
        nonInferiority = margin == nil ? nil : tests
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(a, forKey: .a)
        try c.encode(b, forKey: .b)
        try c.encode(items, forKey: .items)
        try c.encode(kind, forKey: .kind)
        try c.encode(
            Dictionary(uniqueKeysWithValues: rows.map { ($0.metric, $0.comparison) }),
            forKey: .comparisons)
        try c.encodeIfPresent(nonInferiority, forKey: .nonInferiority)
    }
}
