// The search over interventions: an exhaustive sweep, the validation → test protocol, and greedy
// composition — every evaluation logged as it finishes so a killed search resumes where it stopped.
import Foundation
import LinearAlgebra

/// The outcome of a search, derived entirely from the result log (so a resumed run reports the
/// same as an uninterrupted one).
public struct SearchSummary: Sendable {
    public let objective: Objective
    public let baselineValidation: Metrics
    public let baselineTest: Metrics?
    /// Every grid point's validation metrics, in grid order (only those evaluated so far).
    public let sweep: [(intervention: Intervention, record: SweepRecord)]
    /// The grid point best on validation, and its test metrics (evaluated on test only when it is
    /// `chosen`).
    public let best: (intervention: Intervention, validation: Metrics, test: Metrics?)?
    /// The greedy composition kept, with its validation and test metrics (evaluated on test only
    /// when it is `compositionChosen`).
    public let composition: (interventions: [Intervention], validation: Metrics, test: Metrics?)?
    /// Each sweep row's objective against the unreduced model on validation, item by item
    /// (nil where the log holds no per-item scores), parallel to `sweep`.
    public let sweepComparisons: [MetricComparison?]
    /// The chosen intervention and the composition against the unreduced model on test.
    public let bestTestComparison: MetricComparison?
    public let compositionTestComparison: MetricComparison?
    /// Configurations evaluated on validation to make the choice (grid points and composition
    /// steps): the number of chances a noisy validation score had to look like a gain.
    public let configurationsTried: Int

    /// The reduction the protocol chooses: the best grid point, only when it beats the unreduced
    /// model on validation by the objective. The unreduced model is a candidate too and wins
    /// ties, so a sweep where nothing helps chooses nothing (nil).
    public var chosen: (intervention: Intervention, validation: Metrics, test: Metrics?)? {
        guard let best, objective.beats(best.validation, baselineValidation) else { return nil }
        return best
    }

    /// Whether the greedy composition is chosen by the same rule: non-empty and better than the
    /// unreduced model on validation.
    public var compositionChosen: Bool {
        guard let composition, !composition.interventions.isEmpty else { return false }
        return objective.beats(composition.validation, baselineValidation)
    }
}

/// Runs sweeps and compositions of interventions on one model with a caller-supplied evaluation.
public final class Search<Model: ReducibleModel> {
    public typealias Evaluate = (EvaluationContext) throws -> Evaluation
    /// Called after each evaluation: (finished so far, total planned, the record).
    public typealias Progress = (Int, Int, SweepRecord) -> Void

    public let reducer: Reducer<Model>
    public let objective: Objective
    public let store: ResultStore
    private let evaluate: Evaluate
    public var progress: Progress?

    public init(
        reducer: Reducer<Model>, objective: Objective, store: ResultStore,
        evaluate: @escaping Evaluate
    ) {
        self.reducer = reducer
        self.objective = objective
        self.store = store
        self.evaluate = evaluate
    }

    /// Evaluates a set of interventions on a split, or returns the logged result.
    @discardableResult
    public func evaluateLogged(
        _ interventions: [Intervention], split: Split, phase: String, order: Int
    ) throws -> SweepRecord {
        let names = interventions.map(\.description)
        if let done = store.record(for: SweepRecord.key(interventions: names, split: split)) {
            return done
        }
        try reducer.restoreAll()
        let reports = try reducer.apply(interventions)
        let targets = try interventions.flatMap { try $0.targets(in: reducer.model) }
        let context = EvaluationContext(
            split: split, interventions: interventions,
            firstChangedLayer: targets.map(\.layer).min())
        let start = Date()
        let evaluation = try evaluate(context)
        let metrics = evaluation.metrics
        let seconds = Date().timeIntervalSince(start)
        try reducer.restoreAll()
        guard metrics[objective.metric] != nil else {
            throw LaserError.io(
                "the evaluation returned no metric '\(objective.metric)' (it returned \(metrics.keys.sorted().joined(separator: ", ")))"
            )
        }
        var record = SweepRecord(
            phase: phase, order: order, split: split, interventions: names, metrics: metrics,
            parametersBefore: reports.reduce(0) { $0 + $1.parametersBefore },
            parametersAfter: reports.reduce(0) { $0 + $1.parametersAfter }, seconds: seconds)
        record.items = evaluation.items.isEmpty ? nil : evaluation.items
        try store.append(record)
        return record
    }

    /// Evaluates the baseline and this shard's grid points on validation.
    public func sweep(_ grid: SweepGrid, shard: Shard = .whole) throws {
        let points = grid.points
        let mine = points.indices.filter { shard.owns($0) }
        let total = mine.count + 1
        var done = 0
        let base = try evaluateLogged([], split: .validation, phase: "baseline", order: -1)
        done += 1
        progress?(done, total, base)
        for i in mine {
            let r = try evaluateLogged([points[i]], split: .validation, phase: "sweep", order: i)
            done += 1
            progress?(done, total, r)
        }
    }

    /// The grid point best on validation (ties go to the earlier grid point: lower layer, then
    /// larger ρ), among those logged.
    public func bestOfSweep(_ grid: SweepGrid) -> (Intervention, SweepRecord)? {
        var best: (Intervention, SweepRecord)?
        for p in grid.points {
            guard
                let r = store.record(
                    for: SweepRecord.key(interventions: [p.description], split: .validation)),
                let v = r.metrics[objective.metric]
            else { continue }
            if best == nil || objective.better(v, best!.1.metrics[objective.metric]!) {
                best = (p, r)
            }
        }
        return best
    }

    /// Greedy composition as in the paper's compose script: walk layers from last to first; for
    /// each layer and type try ρ in decreasing order on top of what was kept so far, keep going while
    /// the validation metric does not drop, and keep the last reduction that did not drop it.
    public func compose(_ grid: SweepGrid) throws -> (
        interventions: [Intervention], record: SweepRecord
    ) {
        var step = 0
        let total = grid.pairs.count * grid.rhos.count
        let kept = try greedyWalk(grid) { interventions in
            if interventions.isEmpty {
                return try evaluateLogged([], split: .validation, phase: "baseline", order: -1)
                    .metrics[objective.metric]!
            }
            let r = try evaluateLogged(
                interventions, split: .validation, phase: "greedy", order: step)
            step += 1
            progress?(step, total, r)
            return r.metrics[objective.metric]!
        }
        return (kept, record(kept, .validation)!)
    }

    /// The greedy walk over a scorer of intervention lists on validation. `score` returns nil when
    /// a score is unknown (a log replayed before the walk finished), which ends the walk there.
    private func greedyWalk(
        _ grid: SweepGrid, score: ([Intervention]) throws -> Double?
    ) throws -> [Intervention] {
        var kept: [Intervention] = []
        guard var current = try score(kept) else { return [] }
        for layer in grid.layers.sorted(by: >) {
            for type in grid.types where grid.contains(layer: layer, type: type) {
                var accepted: Intervention?
                var running = current
                for rho in grid.rhos {
                    let candidate = try Intervention(layer: .index(layer), type: type, rho: rho)
                    guard let s = try score(kept + [candidate]) else { return kept }
                    guard objective.atLeastAsGood(s, running) else { break }
                    accepted = candidate
                    running = s
                }
                if let accepted {
                    kept.append(accepted)
                    current = running
                }
            }
        }
        return kept
    }

    /// The full protocol: sweep on validation, choose the best, report it and the baseline on test;
    /// optionally compose greedily and report the composition on test too.
    public func run(_ grid: SweepGrid, shard: Shard = .whole, compose doCompose: Bool = false)
        throws -> SearchSummary
    {
        try sweep(grid, shard: shard)
        guard shard.count == 1 else { return summary(grid) }
        let baseline = try evaluateLogged([], split: .validation, phase: "baseline", order: -1)
        _ = try evaluateLogged([], split: .test, phase: "baseline", order: -1)
        // Only a chosen reduction is evaluated on test: reporting the best of the reductions when
        // none beat the unreduced model would report a choice the protocol did not make.
        if let (best, record) = bestOfSweep(grid),
            objective.beats(record.metrics, baseline.metrics)
        {
            _ = try evaluateLogged(
                [best], split: .test, phase: "sweep", order: grid.points.firstIndex(of: best)!)
        }
        if doCompose {
            let (kept, record) = try compose(grid)
            if !kept.isEmpty && objective.beats(record.metrics, baseline.metrics) {
                _ = try evaluateLogged(kept, split: .test, phase: "greedy", order: Int.max)
            }
        }
        return summary(grid, composed: doCompose)
    }

    /// What the log says so far.
    public func summary(_ grid: SweepGrid, composed: Bool = false) -> SearchSummary {
        func metrics(_ i: [Intervention], _ s: Split) -> Metrics? {
            store.record(for: SweepRecord.key(interventions: i.map(\.description), split: s))?
                .metrics
        }
        var rows: [(Intervention, SweepRecord)] = []
        for p in grid.points {
            if let r = store.record(
                for: SweepRecord.key(interventions: [p.description], split: .validation))
            {
                rows.append((p, r))
            }
        }
        let baseline = metrics([], .validation) ?? [:]
        // A test record of a point the protocol did not choose (from a log written by an older
        // rule) is not shown: the test split speaks only of the choice.
        func chosenTest(_ i: [Intervention], validation: Metrics) -> Metrics? {
            objective.beats(validation, baseline) ? metrics(i, .test) : nil
        }
        let best = bestOfSweep(grid).map {
            ($0.0, $0.1.metrics, chosenTest([$0.0], validation: $0.1.metrics))
        }
        var composition: ([Intervention], Metrics, Metrics?)?
        if composed {
            // Re-derive the kept list from the log by replaying the greedy walk without evaluating.
            if let kept = try? replayComposition(grid) {
                let validation = metrics(kept, .validation) ?? [:]
                composition = (
                    kept, validation,
                    kept.isEmpty ? nil : chosenTest(kept, validation: validation)
                )
            }
        }
        func compare(_ i: [Intervention], _ s: Split) -> MetricComparison? {
            guard let base = record([], s)?.items?[objective.metric],
                let reduced = record(i, s)?.items?[objective.metric]
            else { return nil }
            return try? MetricComparison(baseline: base, reduced: reduced)
        }
        let greedySteps =
            composed
            ? store.records.filter { $0.split == .validation && $0.phase == "greedy" }.count : 0
        return SearchSummary(
            objective: objective, baselineValidation: metrics([], .validation) ?? [:],
            baselineTest: metrics([], .test), sweep: rows, best: best, composition: composition,
            sweepComparisons: rows.map { compare([$0.0], .validation) },
            bestTestComparison: best.flatMap { $0.2 == nil ? nil : compare([$0.0], .test) },
            compositionTestComparison: composition.flatMap {
                $0.2 == nil ? nil : compare($0.0, .test)
            },
            configurationsTried: rows.count + greedySteps)
    }

    /// The composition the log records, re-derived by walking it without evaluating.
    private func replayComposition(_ grid: SweepGrid) throws -> [Intervention] {
        try greedyWalk(grid) { metrics($0, .validation)?[objective.metric] }
    }

    private func metrics(_ i: [Intervention], _ s: Split) -> Metrics? { record(i, s)?.metrics }

    private func record(_ i: [Intervention], _ s: Split) -> SweepRecord? {
        store.record(for: SweepRecord.key(interventions: i.map(\.description), split: s))
    }
}
