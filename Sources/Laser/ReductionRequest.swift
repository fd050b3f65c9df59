// What `laser reduce` asks of any model: named matrices at a ρ each and LAYER:TYPE:RHO
// interventions, by the exact or the randomized SVD.

/// A set of reductions to apply to one model, in order: the named matrices first, then the
/// interventions.
public struct ReductionRequest: Sendable {
    /// Matrices by tensor name, each with its ρ.
    public var matrices: [(name: String, rho: Double)] = []
    public var interventions: [Intervention] = []
    public var method: DecompositionMethod = .exact

    public init(
        matrices: [(name: String, rho: Double)] = [], interventions: [Intervention] = [],
        method: DecompositionMethod = .exact
    ) {
        self.matrices = matrices
        self.interventions = interventions
        self.method = method
    }

    /// Every reduction as the text a checkpoint's `interventions` metadata records
    /// (`NAME@RHO` for a named matrix, `LAYER:TYPE:RHO` for an intervention).
    public var descriptions: [String] {
        matrices.map { "\($0.name)@\(Intervention.format($0.rho))" }
            + interventions.map(\.description)
    }

    /// Applies every reduction to `model` in place; the reports of the reduced matrices, in the
    /// model's order. An intervention naming nothing is a `LaserError` that says so.
    @discardableResult
    public func apply<Model: ReducibleModel>(to model: Model) throws -> [ReductionReport] {
        let reducer = Reducer(model: model, storage: .factored)
        reducer.method = method
        for m in matrices { try reducer.apply(matrix: m.name, rho: m.rho) }
        try reducer.apply(interventions)
        return model.reducibleMatrices.compactMap { reducer.reports[$0.name] }
    }
}
