// Reductions: ranks, reports (Eckart–Young), composition, factored forward, bit-exact restore.
import Core
import Testing

@testable import Laser
@testable import LinearAlgebra

@Suite struct ReducerTests {
    @Test func reportsRankParametersErrorAndEnergy() throws {
        let model = StackModel()
        let name = "layers.1.mlp.fc_in.weight"
        let original = try model.weightMatrix(named: name)
        let reducer = Reducer(model: model)
        let reports = try reducer.apply(Intervention(parsing: "1:fc_in:0.25"))
        #expect(reports.count == 1)
        let r = reports[0]
        #expect(r.rankKept == 3 && r.fullRank == 12)
        #expect(r.parametersBefore == 240 && r.parametersAfter == 3 * 32)
        let d = try svd(original)
        let discarded = d.singularValues[3...].reduce(0.0) { $0 + Double($1 * $1) }
        let total = d.singularValues.reduce(0.0) { $0 + Double($1 * $1) }
        #expect(abs(r.relativeError - (discarded / total).squareRoot()) < 1e-5)
        #expect(abs(r.energyKept - (1 - discarded / total)) < 1e-5)
        let measured =
            (original - (try model.weightMatrix(named: name))).frobeniusNorm
            / original.frobeniusNorm
        #expect(abs(measured - r.relativeError) < 1e-4)
        #expect(model.weights[name]!.factoredRank == 3)
    }

    @Test func restoreIsBitExact() throws {
        let model = StackModel()
        let before = model.reducibleMatrices.map { try! model.weightMatrix(named: $0.name) }
        let reducer = Reducer(model: model)
        try reducer.apply([
            Intervention(parsing: "all:all:0.1"), Intervention(parsing: "2:fc_out:0.5"),
        ])
        #expect(try model.weightMatrix(named: "layers.0.mlp.fc_in.weight") != before[0])
        try reducer.restoreAll()
        let after = model.reducibleMatrices.map { try! model.weightMatrix(named: $0.name) }
        #expect(after == before)
        #expect(model.weights.values.allSatisfy { $0.factoredRank == nil })
    }

    @Test func composingOnOneMatrixKeepsTheSmallerRank() throws {
        let model = StackModel()
        let reducer = Reducer(model: model)
        try reducer.apply([
            Intervention(parsing: "0:fc_in:0.5"), Intervention(parsing: "0:fc_in:0.25"),
        ])
        #expect(reducer.keptRanks["layers.0.mlp.fc_in.weight"] == 3)
        try reducer.apply(Intervention(parsing: "0:fc_in:0.9"))
        #expect(reducer.keptRanks["layers.0.mlp.fc_in.weight"] == 3)
        // The result equals reducing the original straight to rank 3.
        let direct = StackModel()
        try Reducer(model: direct).apply(Intervention(parsing: "0:fc_in:0.25"))
        #expect(
            try model.weightMatrix(named: "layers.0.mlp.fc_in.weight").maxAbsDifference(
                direct.weightMatrix(named: "layers.0.mlp.fc_in.weight")) < 1e-6)
    }

    @Test func factoredForwardEqualsDenseForwardOfTheReconstruction() throws {
        var rng = SplitMix64(seed: 4)
        let x = Tensor(randomNormal: [7, 12], using: &rng)
        let factored = StackModel()
        let dense = StackModel()
        try Reducer(model: factored, storage: .factored).apply(Intervention(parsing: "all:mlp:0.3"))
        try Reducer(model: dense, storage: .dense).apply(Intervention(parsing: "all:mlp:0.3"))
        #expect(factored.weights.values.allSatisfy { $0.factoredRank != nil })
        #expect(dense.weights.values.allSatisfy { $0.factoredRank == nil })
        let a = factored.forward(x)
        let b = dense.forward(x)
        #expect(a.maxAbsDifference(b) < 1e-4)
        #expect(
            a.maxAbsDifference(StackModel().forward(x)) > 1e-3, "the reduction changed the output")
    }

    @Test func linearWeightFactoredApplyMatchesDense() throws {
        var rng = SplitMix64(seed: 9)
        let w = Tensor(randomNormal: [9, 14], using: &rng)
        let d = try svd(w)
        let (l, r) = d.truncatedFactors(rank: 4)
        var lw = LinearWeight(w)
        lw.set(.factored(FactoredMatrix(left: l, right: r)))
        let x = Tensor(randomNormal: [5, 14], using: &rng)
        let expected = matmul(x, d.reconstruction(rank: 4), transposeB: true)
        #expect(lw.apply(x).maxAbsDifference(expected) < 1e-4)
    }

    @Test func svdCacheEvictsWithinItsBudget() throws {
        var cache = SVDCache(capacityBytes: 4 * 600)
        var computed = 0
        var rng = SplitMix64(seed: 1)
        let a = Tensor(randomNormal: [10, 10], using: &rng)  // u 100 + vt 100 + s 10 floats
        for name in ["a", "b", "a", "c", "a"] {
            _ = try cache.decomposition(of: name) {
                computed += 1
                return try svd(a)
            }
        }
        // Capacity holds two entries: a, b, (a hit), c evicts b, a hit again.
        #expect(computed == 3)
    }
}

@Suite struct RandomizedReducerTests {
    @Test func randomizedMethodIsCloseToExact() throws {
        let exact = StackModel(layers: 1, width: 40, hidden: 60)
        let approx = StackModel(layers: 1, width: 40, hidden: 60)
        let e = try Reducer(model: exact).apply(Intervention(parsing: "0:fc_in:0.1"))[0]
        let reducer = Reducer(model: approx)
        reducer.method = .randomized(
            RandomizedSVDOptions(oversampling: 10, powerIterations: 3, seed: 1))
        let a = try reducer.apply(Intervention(parsing: "0:fc_in:0.1"))[0]
        #expect(a.rankKept == e.rankKept)
        #expect(a.relativeError >= e.relativeError - 1e-6)
        #expect(a.relativeError <= e.relativeError * 1.05)
        let name = "layers.0.mlp.fc_in.weight"
        let original = try StackModel(layers: 1, width: 40, hidden: 60).weightMatrix(named: name)
        let measured =
            (try approx.weightMatrix(named: name) - original).frobeniusNorm / original.frobeniusNorm
        #expect(abs(measured - a.relativeError) < 1e-3)
    }
}
