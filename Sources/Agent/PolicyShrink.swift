// `laser shrink` on a policy: the budgeted search for the smallest non-inferior composition of
// reductions, its solve rate measured level by level, and the factored checkpoint it writes.
import Core
import Laser
import Policy
import Sokoban

public enum PolicyShrink {
    /// Every (layer, type) of the model's reducible matrices except the head, in model order.
    public static func defaultAddresses(_ model: any PolicyNetwork) -> [(LayerSelector, String)] {
        var seen = Set<String>()
        return model.reducibleMatrices.compactMap { info in
            guard info.type != "head", seen.insert("\(info.layer):\(info.type)").inserted else {
                return nil
            }
            return (.index(info.layer), info.type)
        }
    }

    /// Runs the search on the sweep's policy (left holding the kept composition, factored),
    /// each configuration measured by its greedy solve rate, level by level.
    public static func run(
        _ sweep: PolicySweep, plan: ShrinkPlan, store: ResultStore,
        progress: @escaping (_ done: Int, _ record: SweepRecord) -> Void = { _, _ in }
    ) throws -> ShrinkOutcome {
        try run(sweep.model, sweep: sweep, plan: plan, store: store, progress: progress)
    }

    private static func run<Model: PolicyNetwork>(
        _ model: Model, sweep: PolicySweep, plan: ShrinkPlan, store: ResultStore,
        progress: @escaping (Int, SweepRecord) -> Void
    ) throws -> ShrinkOutcome {
        let search = Search(
            reducer: Reducer(model: model), objective: Objective(metric: "solve_rate"),
            store: store
        ) { try sweep.evaluate($0) }
        search.progress = { done, _, record in progress(done, record) }
        let outcome = try search.shrink(plan)
        try search.reducer.restoreAll()
        if !outcome.interventions.isEmpty { try search.reducer.apply(outcome.interventions) }
        return outcome
    }

    /// Saves the reduced `model` as a factored checkpoint with its lineage: `reduced_from` (the
    /// first parent), `interventions` (every reduction so far, in order) and `laser.shrink` (the
    /// search's record).
    public static func save(
        _ model: any PolicyNetwork, record: ShrinkRecord, parent: PolicyCheckpoint.Loaded,
        path: String, to out: String
    ) throws {
        var metadata: [String: String] = [:]
        metadata["reduced_from"] = parent.metadata["reduced_from"] ?? path
        metadata["interventions"] =
            ((parent.metadata["interventions"].map { [$0] } ?? []) + record.interventions)
            .joined(separator: ",")
        metadata["laser.shrink"] = try JSONEncoding.string(record)
        try PolicyCheckpoint.save(
            model: model, to: out, step: parent.step, dataSeed: parent.dataSeed,
            metadata: metadata, factored: true)
    }
}
