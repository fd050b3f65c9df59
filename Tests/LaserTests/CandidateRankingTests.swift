// Candidate scores on matrices with known answers: the gradient score is exact for a loss linear
// in the weights, laserRMT's SNR puts a noise matrix before one holding a strong signal (at the ρ
// nearest the signal's rank), and the ranking helpers (top N, Spearman) on hand-made values.
import Core
import Foundation
import Testing

@testable import Laser
@testable import LinearAlgebra

@Suite struct CandidateRankingTests {
    let grid = try! SweepGrid(layers: [0, 1], types: ["fc_in", "fc_out"], rhos: [0.5, 0.25, 0.1])

    /// For L(W) = ⟨G, W⟩ the first-order change is the change: truncating W to rank k changes L
    /// by ⟨G, W_k − W⟩, which the score must equal for every point.
    @Test func theGradientScoreIsExactForALinearLoss() throws {
        let model = StackModel(layers: 2)
        var rng = SplitMix64(seed: 9)
        var gradients: [String: Tensor] = [:]
        for info in model.reducibleMatrices {
            gradients[info.name] = Tensor(randomNormal: [info.rows, info.columns], using: &rng)
        }
        let points = grid.allPoints
        let scores = try CandidateRanking.gradientScores(
            points: points, model: model, gradients: gradients
        ) { info in try svd(model.weightMatrix(named: info.name)) }
        for (point, score) in zip(points, scores) {
            var expected = 0.0
            for info in try point.targets(in: model) {
                let w = try model.weightMatrix(named: info.name)
                let k = keptRank(rho: point.rho, rows: info.rows, columns: info.columns)
                let wk = try svd(w).reconstruction(rank: k)
                let g = gradients[info.name]!
                for i in 0..<w.count {
                    expected += Double(g.scalars[i]) * Double(wk.scalars[i] - w.scalars[i])
                }
            }
            #expect(
                abs(score - expected) < 1e-3 * max(1, abs(expected)),
                "\(point): \(score) vs \(expected)")
        }
        // The most promising point is the one whose truncation lowers the linear loss most.
        let best = CandidateRanking.top(1, of: points, scores: scores)
        #expect(best == [points[scores.indices.min { scores[$0] < scores[$1] }!]])
    }

    /// Layer 0's fc_in is pure noise; layer 1's holds a rank-2 signal far above the noise edge.
    @Test func snrPutsNoiseFirstAndAimsAtTheSignalRank() throws {
        let model = StackModel(layers: 2)
        var rng = SplitMix64(seed: 10)
        let (m, n) = (20, 12)
        let noise = { Tensor(randomNormal: [m, n], standardDeviation: 0.1, using: &rng) }
        try model.setWeightMatrix(named: "layers.0.mlp.fc_in.weight", to: .dense(noise()))
        let a = Tensor(randomNormal: [m, 2], using: &rng)
        let b = Tensor(randomNormal: [2, n], using: &rng)
        let signal = matmul(a, b) + noise()
        try model.setWeightMatrix(named: "layers.1.mlp.fc_in.weight", to: .dense(signal))
        let diagnosis = { (name: String) in
            try SpectralDiagnostics(matrix: model.weightMatrix(named: name))
        }
        let signalRank = try diagnosis("layers.1.mlp.fc_in.weight").signalRank
        #expect(signalRank >= 2, "the two strong directions are above the edge")
        let rhos = [0.5, 0.25, 0.1]
        let points = try SweepGrid(layers: [0, 1], types: ["fc_in"], rhos: rhos).allPoints
        let scores = try CandidateRanking.snrScores(points: points, model: model) { info in
            try diagnosis(info.name)
        }
        let order = points.indices.sorted { scores[$0] < scores[$1] }.map { points[$0] }
        #expect(order.first?.layer == .index(0), "the noise matrix first: \(order)")
        // Within the signal matrix, the ρ whose kept rank is nearest its signal rank comes first.
        let nearest = rhos.min {
            abs(keptRank(rho: $0, rows: m, columns: n) - signalRank)
                < abs(keptRank(rho: $1, rows: m, columns: n) - signalRank)
        }!
        #expect(order.first { $0.layer == .index(1) }?.rho == nearest)
    }

    @Test func topKeepsGridOrderAndSpearmanRanks() throws {
        let points = grid.allPoints
        let scores = points.indices.map { Double((7 * $0) % points.count) }
        let top = CandidateRanking.top(3, of: points, scores: scores)
        #expect(top.count == 3)
        let indices = top.map { p in points.firstIndex(of: p)! }
        #expect(indices == indices.sorted(), "grid order")
        #expect(indices.allSatisfy { scores[$0] < 3 }, "the three lowest scores")
        #expect(CandidateRanking.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == 1)
        #expect(CandidateRanking.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == -1)
        // Ties take their average rank: ranks (1.5, 1.5, 3) against (1, 2, 3).
        let tied = try #require(CandidateRanking.spearman([5, 5, 7], [1, 2, 3]))
        #expect(abs(tied - 0.8660254) < 1e-6)
        #expect(CandidateRanking.spearman([1, 1, 1], [1, 2, 3]) == nil)
    }

    @Test func aRestrictedGridEvaluatesItsSelectionInGridOrder() throws {
        let points = grid.allPoints
        let restricted = try grid.restricted(to: [points[5], points[1]])
        #expect(restricted.points == [points[1], points[5]])
        #expect(restricted.allPoints == points)
        #expect(throws: LaserError.self) {
            try grid.restricted(to: [try Intervention(parsing: "7:fc_in:0.5")])
        }
    }
}
