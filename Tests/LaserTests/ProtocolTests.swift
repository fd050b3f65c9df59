// The LASER protocol pieces every command shares: the paired evaluation (as loaded, reduce, again),
// a reduction request, and two runs compared item by item.
import Laser
import LinearAlgebra
import Testing

@Suite struct ProtocolTests {
    /// A score that changes when the model does: the sum of its first layer's outputs.
    func score(_ model: StackModel) -> Double {
        let x = Tensor(shape: [1, 12], scalars: (0..<12).map { Float($0) / 12 })
        return Double(model.forward(x).scalars.reduce(0, +))
    }

    @Test func thePairedEvaluationRunsBeforeAndAfterTheReduction() throws {
        let model = StackModel()
        let untouched = score(model)
        var phases: [PairedPhase] = []
        var reported: [ReductionReport] = []
        let run = try PairedEvaluation(
            model: model, interventions: [try Intervention(parsing: "1:fc_in:0.1")],
            onReduced: { reported = $0 }
        ) { phase -> Double in
            phases.append(phase)
            return score(model)
        }
        #expect(phases == [.unreduced, .reduced])
        #expect(run.unreduced == untouched)
        #expect(run.reduced != untouched && run.final == run.reduced)
        #expect(reported.map(\.name) == ["layers.1.mlp.fc_in.weight"] && run.reports == reported)
        #expect(reported[0].rankKept == 1)
        // The model stays reduced.
        #expect(score(model) == run.reduced)
    }

    @Test func withoutInterventionsThereIsOneRunOfTheModelAsLoaded() throws {
        let model = StackModel()
        var phases: [PairedPhase] = []
        let run = try PairedEvaluation(model: model, interventions: [], baseline: false) {
            phase -> Int in
            phases.append(phase)
            return 7
        }
        #expect(phases == [.unreduced] && run.reduced == nil && run.final == 7)
        // With something to reduce, baseline: false skips the run before it.
        let skipped = try PairedEvaluation(
            model: model, interventions: [try Intervention(parsing: "0:fc_out:0.5")],
            baseline: false
        ) { $0 == .unreduced ? 1 : 2 }
        #expect(skipped.unreduced == nil && skipped.final == 2)
    }

    @Test func aRequestAppliesNamedMatricesThenInterventionsInModelOrder() throws {
        let model = StackModel()
        let request = ReductionRequest(
            matrices: [("layers.2.mlp.fc_out.weight", 0.5)],
            interventions: [try Intervention(parsing: "0:fc_in:0.1")])
        let reports = try request.apply(to: model)
        #expect(
            reports.map(\.name) == ["layers.0.mlp.fc_in.weight", "layers.2.mlp.fc_out.weight"])
        #expect(reports.map(\.rankKept) == [1, 6])
        #expect(request.descriptions == ["layers.2.mlp.fc_out.weight@0.5", "0:fc_in:0.1"])
        #expect(throws: LaserError.self) {
            try ReductionRequest(interventions: [try Intervention(parsing: "9:fc_in:0.5")])
                .apply(to: StackModel())
        }
    }

    @Test func itemsAreComparedByKeyWhateverTheirOrder() throws {
        let a = ScoredItems(
            kind: "levels", keys: ["1", "2", "3", "4"], metrics: ["solved"],
            scores: ["solved": [1, 1, 0, 0]])
        // The same results as [1, 1, 1, 0] in A's order, listed in another order.
        let b = ScoredItems(
            kind: "levels", keys: ["4", "3", "2", "1"], metrics: ["solved"],
            scores: ["solved": [0, 1, 1, 1]])
        let c = try ItemComparison(a, named: "a", b, named: "b", margin: 0.015)
        guard case .rate(let r)? = c.rows.first?.comparison else {
            Issue.record("expected a rate comparison")
            return
        }
        #expect(r.gained == 1 && r.lost == 0 && r.baselineRate == 0.5 && r.reducedRate == 0.75)
        #expect(c.nonInferiority?["solved"] != nil && c.items == 4)
        #expect(try ItemComparison(a, named: "a", b, named: "b", margin: nil).nonInferiority == nil)
        let other = ScoredItems(
            kind: "levels", keys: ["1", "2", "3", "5"], metrics: ["solved"],
            scores: ["solved": [1, 1, 0, 0]])
        #expect(throws: LaserError.self) {
            try ItemComparison(a, named: "a", other, named: "c", margin: nil)
        }
    }
}
