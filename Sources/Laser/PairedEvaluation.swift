// The LASER protocol on one model, for either family: evaluate it as it is, reduce it, evaluate
// it again on the same items, so that every metric can be compared item by item.

/// Which of the two evaluations a run is.
public enum PairedPhase: Sendable {
    /// The model as loaded, before the interventions.
    case unreduced
    /// The model after the interventions.
    case reduced
}

public struct PairedEvaluation<Outcome> {
    /// The model as loaded: nil only when the caller skipped it before a reduction.
    public var unreduced: Outcome?
    /// The model after the interventions: nil when none were asked for.
    public var reduced: Outcome?
    /// What each intervention did, in the model's order.
    public var reports: [ReductionReport]

    /// The outcome of the model as it ends (reduced, or as loaded when nothing was reduced).
    public var final: Outcome { (reduced ?? unreduced)! }

    /// Evaluates `model` as loaded (unless `baseline` is false and there is something to reduce),
    /// applies `interventions` in place (the model stays reduced), tells `onReduced` what they
    /// did, and evaluates it again.
    public init<Model: ReducibleModel>(
        model: Model, interventions: [Intervention], baseline: Bool = true,
        onReduced: ([ReductionReport]) -> Void = { _ in },
        evaluate: (PairedPhase) throws -> Outcome
    ) throws {
        unreduced = baseline || interventions.isEmpty ? try evaluate(.unreduced) : nil
        if interventions.isEmpty {
            reduced = nil
            reports = []
        } else {
            reports = try Reducer(model: model).apply(interventions)
            onReduced(reports)
            reduced = try evaluate(.reduced)
        }
    }
}
