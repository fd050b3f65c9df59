// What a chosen reduction changed besides the objective: its output distributions against the
// unreduced model's on data the objective does not score (a text's next tokens, a policy's moves),
// measured by the caller and reported beside the sweep's choice.

/// One reduction's side effects (the unreduced model's own figures when `interventions` is empty).
public struct SideEffects: Codable, Sendable, Equatable {
    /// What was measured on, in words ("Genesis (KJV), 98 chunks of 512 tokens").
    public let data: String
    /// The reduction measured; empty for the unreduced model alone.
    public let interventions: [String]
    /// Figures of both models by name (`perplexity`, `unreduced_perplexity`, ...).
    public let metrics: [String: Double]
    /// KL divergence and top-outcome agreement against the unreduced model; nil when unreduced.
    public let shift: DistributionShiftSummary?

    public init(
        data: String, interventions: [String], metrics: [String: Double],
        shift: DistributionShiftSummary?
    ) {
        self.data = data
        self.interventions = interventions
        self.metrics = metrics
        self.shift = shift
    }
}

/// How a sweep measures side effects: `baseline` runs once with the model unreduced (to record
/// what the comparison needs), then `measure` with each chosen reduction applied (or, when nothing
/// is chosen, once with none).
public struct SideEffectMeasure {
    public let baseline: () throws -> Void
    public let measure: (_ interventions: [Intervention]) throws -> SideEffects

    public init(
        baseline: @escaping () throws -> Void = {},
        measure: @escaping (_ interventions: [Intervention]) throws -> SideEffects
    ) {
        self.baseline = baseline
        self.measure = measure
    }
}
