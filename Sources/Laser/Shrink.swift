// The smallest model that is not worse: a budgeted greedy search for the composition of reductions
// with the fewest parameters whose success rate stays non-inferior to the unreduced model's on
// validation, then confirmed once on test. LASER as compression rather than as a search for a gain.
import Foundation

/// What a shrink search tries and how much it may spend.
public struct ShrinkPlan: Sendable {
    /// The matrices to reduce, one address each (layer and type, e.g. `3:conv`, `all:mlp`); the
    /// search takes them largest first.
    public var addresses: [(layer: LayerSelector, type: String)]
    /// The ρ tried for each address, smallest (most saving) first; the first non-inferior is kept.
    public var rhos: [Double]
    /// The non-inferiority margin as a rate (0.015 for 1.5 points).
    public var margin: Double
    /// The most configurations evaluated on validation.
    public var budget: Int
    /// The per-item success metric (1 for a solved level or a correct answer, 0 otherwise).
    public var metric: String

    public init(
        addresses: [(layer: LayerSelector, type: String)], rhos: [Double], margin: Double,
        budget: Int, metric: String
    ) throws {
        guard !addresses.isEmpty else { throw LaserError.io("a shrink search needs addresses") }
        guard !rhos.isEmpty, rhos.allSatisfy({ $0 > 0 && $0 <= 1 }) else {
            throw LaserError.io("a shrink search needs ρ values in (0, 1]")
        }
        guard margin >= 0 && margin < 1 else {
            throw LaserError.io("the margin must be in [0, 1) as a rate, not \(margin)")
        }
        guard budget >= 1 else { throw LaserError.io("the budget must be at least 1") }
        self.addresses = addresses
        self.rhos = rhos.sorted()
        self.margin = margin
        self.budget = budget
        self.metric = metric
    }
}

/// One configuration a shrink search evaluated on validation.
public struct ShrinkTrial: Sendable {
    public let interventions: [Intervention]
    public let parameters: Int
    public let test: NonInferiority
    public let kept: Bool
}

/// What a shrink search found.
public struct ShrinkOutcome: Sendable {
    /// The composition kept (empty when no reduction was non-inferior).
    public let interventions: [Intervention]
    /// Parameters of the reducible matrices touched, before and after (a factored matrix counts
    /// k·(m + n)).
    public let parametersBefore: Int
    public let parametersAfter: Int
    /// Every configuration tried on validation, in order.
    public let trials: [ShrinkTrial]
    /// The kept composition against the unreduced model on validation and, evaluated once, test.
    public let validation: NonInferiority?
    public let test: NonInferiority?
    public let budgetExhausted: Bool
}

extension Search {
    /// Greedy: for each address, largest matrices first, try ρ from the smallest on top of what was
    /// kept and keep the first whose composition is non-inferior on validation; stop at the
    /// budget. Every evaluation goes through the result log, so a killed search resumes.
    public func shrink(_ plan: ShrinkPlan) throws -> ShrinkOutcome {
        let model = reducer.model
        let sized = try plan.addresses.map { address -> (LayerSelector, String, Int) in
            let probe = try Intervention(layer: address.layer, type: address.type, rho: 1)
            let size = try probe.targets(in: model).reduce(0) { $0 + $1.rows * $1.columns }
            return (address.layer, address.type, size)
        }
        // Largest first; ties keep the given order (stable).
        let order = sized.enumerated().sorted { a, b in
            a.element.2 != b.element.2 ? a.element.2 > b.element.2 : a.offset < b.offset
        }.map(\.element)
        let baseline = try evaluateLogged([], split: .validation, phase: "baseline", order: -1)
        let baselineItems = try items(baseline, plan.metric)
        var kept: [Intervention] = []
        var keptTest: NonInferiority?
        var trials: [ShrinkTrial] = []
        var exhausted = false
        search: for (layer, type, _) in order {
            for rho in plan.rhos {
                guard trials.count < plan.budget else {
                    exhausted = true
                    break search
                }
                let candidate = kept + [try Intervention(layer: layer, type: type, rho: rho)]
                let record = try evaluateLogged(
                    candidate, split: .validation, phase: "shrink", order: trials.count)
                let test = try NonInferiority(
                    PairedComparison(
                        baseline: baselineItems, reduced: try items(record, plan.metric)),
                    margin: plan.margin)
                trials.append(
                    ShrinkTrial(
                        interventions: candidate, parameters: record.parametersAfter, test: test,
                        kept: test.nonInferior))
                progress?(trials.count, plan.budget, record)
                if test.nonInferior {
                    kept = candidate
                    keptTest = test
                    break
                }
            }
        }
        var testResult: NonInferiority?
        var before = 0
        var after = 0
        if !kept.isEmpty {
            let baseTest = try evaluateLogged([], split: .test, phase: "baseline", order: -1)
            let final = try evaluateLogged(kept, split: .test, phase: "shrink", order: trials.count)
            testResult = try NonInferiority(
                PairedComparison(
                    baseline: try items(baseTest, plan.metric),
                    reduced: try items(final, plan.metric)),
                margin: plan.margin)
            before = final.parametersBefore
            after = final.parametersAfter
        }
        return ShrinkOutcome(
            interventions: kept, parametersBefore: before, parametersAfter: after, trials: trials,
            validation: keptTest, test: testResult, budgetExhausted: exhausted)
    }

    private func items(_ record: SweepRecord, _ metric: String) throws -> [Bool] {
        guard let values = record.items?[metric] else {
            throw LaserError.io(
                "the evaluation gave no per-item '\(metric)' scores; a shrink search pairs items")
        }
        return values.map { $0 > 0.5 }
    }
}
