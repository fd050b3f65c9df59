// The gradient of a policy's imitation loss with respect to each of its reducible matrices, over
// the solver-labelled positions of a level set: what the first-order candidate score of a LASER
// truncation reads (`CandidateRanking.gradientScores`), from one backward pass.
import Core
import Foundation
import Laser
import LinearAlgebra
import Policy
import Sokoban

public enum PolicyGradient {
    /// What `matrixGradients` measured on.
    public struct Probe: Sendable {
        /// ∂L/∂W of every reducible matrix, in its (rows, columns) shape.
        public let gradients: [String: Tensor]
        public let positions: Int
        public let levelsSolved: Int
        public let levels: Int
        /// L: the mean −log P(optimal action set) over the positions.
        public let loss: Double
    }

    /// Solves `levels` (push-optimal, within `nodeLimit` positions each; unsolved ones are left
    /// out), replays the solutions into positions labelled with their optimal action sets, and
    /// backpropagates the mean action-set cross-entropy of `model` over all of them.
    public static func matrixGradients(
        model: any PolicyNetwork, levels: [Level], nodeLimit: Int = 1_000_000,
        workers: Int = PolicyThreads.workers
    ) throws -> Probe {
        guard !levels.isEmpty else { throw AgentError.noLevels("no levels to probe") }
        let options = SolverOptions(nodeLimit: nodeLimit)
        let solved: [Level?] = try concurrentMap(levels, workers: workers) { level in
            let result = Solver.solve(level, options: options)
            guard result.status == .solved, let solution = result.solution else { return nil }
            var labelled = level
            labelled.notes = level.notes.filter { $0.key != "Solution" } + [("Solution", solution)]
            return labelled
        }
        let labelled = solved.compactMap { $0 }
        guard !labelled.isEmpty else {
            throw AgentError.noLevels("the solver solved none of the \(levels.count) levels")
        }
        var data = try DemonstrationData(
            levels: labelled, gamma: 1,
            config: try AgentGeometry.environment(for: model, EnvironmentConfig()))
        if let sequence = model as? any SequencePolicy { data.sequence = sequence.inputLayout }
        let batch = 256
        let trainer = try PolicyTrainer(
            model: model, config: OptimizerConfig(), batchCapacity: batch)
        let floats = data.planeCount * AgentGeometry.cells
        var sums: [String: [Double]] = [:]
        var lossSum = 0.0
        let identity = BoardSymmetry.all[0]
        for start in stride(from: 0, to: data.count, by: batch) {
            let n = min(batch, data.count - start)
            var observations = [Float](repeating: 0, count: n * floats)
            var sets: [ActionSet] = []
            observations.withUnsafeMutableBufferPointer { o in
                for i in 0..<n {
                    sets.append(
                        data.write(
                            sample: start + i, symmetry: identity,
                            into: o.baseAddress! + i * floats))
                }
            }
            trainer.gradients.zero()
            let result = try trainer.accumulatePolicyGradient(
                observations: observations, actionSets: sets)
            // Each batch's gradient is of its mean: weighted by its share of the positions.
            let weight = Double(n) / Double(data.count)
            lossSum += weight * result.policyLoss
            for info in model.reducibleMatrices {
                let g = try trainer.gradients.tensor(named: info.name).scalars
                var sum = sums[info.name] ?? [Double](repeating: 0, count: g.count)
                for j in 0..<g.count { sum[j] += weight * Double(g[j]) }
                sums[info.name] = sum
            }
        }
        trainer.gradients.zero()
        var gradients: [String: Tensor] = [:]
        for info in model.reducibleMatrices {
            gradients[info.name] = Tensor(
                shape: [info.rows, info.columns], scalars: sums[info.name]!.map(Float.init))
        }
        return Probe(
            gradients: gradients, positions: data.count, levelsSolved: labelled.count,
            levels: levels.count, loss: lossSum)
    }
}
