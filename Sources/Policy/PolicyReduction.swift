// `laser reduce` on a policy checkpoint: reduced through the policy's own LASER addresses
// (`3:conv:0.5`) and saved as a policy checkpoint that eval, watch and sweep load as they are.
import Laser

extension PolicyCheckpoint {
    /// Reduces the policy in `input` and saves it to `output`, with `reduced_from` (the first
    /// parent's path: a file reduced again keeps it) and `interventions` (every reduction applied
    /// so far, in order) in its metadata; with `factored` it runs through the factors. Optimizer
    /// state is not carried over.
    @discardableResult
    public static func reduce(
        _ input: String, _ request: ReductionRequest, to output: String, factored: Bool
    ) throws -> [ReductionReport] {
        let loaded = try load(from: input)
        let reports = try request.apply(to: loaded.model)
        let earlier =
            loaded.metadata["interventions"].map { $0.split(separator: ",").map(String.init) }
            ?? []
        let metadata = [
            "reduced_from": loaded.metadata["reduced_from"] ?? input,
            "interventions": (earlier + request.descriptions).joined(separator: ","),
        ]
        try save(
            model: loaded.model, to: output, step: loaded.step, dataSeed: loaded.dataSeed,
            metadata: metadata, factored: factored)
        return reports
    }
}
