// What `laser qa` reports: the summary and, with interventions, the unreduced model's summary and
// each metric compared item by item.
import Laser

/// What `laser qa` reports: the summary, and with --intervene the unreduced model's summary and
/// each metric compared item by item (`p_value`, `ci95_low`, `ci95_high`, ...).
public struct QAReport: Encodable {
    public let dataset: String
    public let interventions: [String]
    public let unreduced: QASummary?
    public let summary: QASummary
    public let comparisons: [String: MetricComparison]

    /// The report of `results`, with each metric compared item by item against `unreduced` (the
    /// same items answered before the interventions) when given.
    public init(
        dataset: String, interventions: [Intervention], unreduced: [QAItemResult]?,
        results: [QAItemResult], k: Int
    ) throws {
        self.dataset = dataset
        self.interventions = interventions.map(\.description)
        self.unreduced = unreduced.map { QASummary(results: $0, k: k) }
        summary = QASummary(results: results, k: k)
        var comparisons: [String: MetricComparison] = [:]
        if let unreduced {
            let before = QASummary.itemScores(unreduced, k: k)
            for (metric, after) in QASummary.itemScores(results, k: k) {
                if let base = before[metric] {
                    comparisons[metric] = try MetricComparison(baseline: base, reduced: after)
                }
            }
        }
        self.comparisons = comparisons
    }

    public func encode(to encoder: Encoder) throws {
        // The summary's fields stay at the top level (as before); the rest beside them.
        try summary.encode(to: encoder)
        enum Keys: String, CodingKey { case dataset, interventions, unreduced, comparisons }
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(dataset, forKey: .dataset)
        try c.encode(interventions, forKey: .interventions)
        try c.encodeIfPresent(unreduced, forKey: .unreduced)
        if !comparisons.isEmpty { try c.encode(comparisons, forKey: .comparisons) }
    }
}
