// What an edit changed besides the solve rate: the action shift of a policy against itself is
// nothing, against a reduced copy something; and the gradient probe gives every reducible matrix
// the gradient of the mean action-set loss over the solved levels' positions.
import Foundation
import Laser
import LinearAlgebra
import Policy
import Sokoban
import Testing

@testable import Agent

@Suite struct SideEffectTests {
    @Test func aPolicyDoesNotShiftFromItselfAndAReducedCopyDoes() throws {
        let model = try Fixtures.tinyConv(seed: 3)
        let levels = try Fixtures.corridorLevels()
        var config = EnvironmentConfig()
        config.maxSteps = 12
        let baseline = try ActionShiftBaseline.record(
            model: model, levels: levels, config: config, workers: 2)
        #expect(baseline.positions >= levels.count, "at least one move per level")
        #expect(baseline.positions <= levels.count * 12)
        let same = try #require(try baseline.compare(with: model, workers: 2))
        #expect(same.positions == baseline.positions)
        #expect(same.maximumKLD < 1e-6 && same.sameTop == 1)
        let copy = try Fixtures.tinyConv(seed: 3)
        _ = try Reducer(model: copy as! ConvPolicy).apply(
            [try Intervention(parsing: "0:conv:0.125")])
        let shifted = try #require(try baseline.compare(with: copy, workers: 1))
        #expect(shifted.positions == baseline.positions, "the same positions, replayed")
        #expect(shifted.meanKLD > 0)
    }

    @Test func theGradientProbeCoversEveryMatrixAtTheLossOfItsPositions() throws {
        let model = try Fixtures.tinyConv(seed: 4)
        let levels = try Fixtures.corridorLevels().map { level -> Level in
            var unsolved = level
            unsolved.notes = []
            return unsolved
        }
        let probe = try PolicyGradient.matrixGradients(model: model, levels: levels, workers: 2)
        #expect(probe.levelsSolved == levels.count)
        // One position per move of each push-optimal solution: 3+3+3+3+2+2+1+1.
        #expect(probe.positions == 18)
        for info in model.reducibleMatrices {
            let g = try #require(probe.gradients[info.name])
            #expect(g.shape == [info.rows, info.columns])
        }
        #expect(probe.gradients.values.contains { $0.frobeniusNorm > 0 })
        // The loss is the mean action-set cross-entropy of the positions: a fresh trainer's
        // evaluation of the same samples agrees.
        var data = try DemonstrationData(
            levels: try Fixtures.corridorLevels(), gamma: 1,
            config: try AgentGeometry.environment(for: model, EnvironmentConfig()))
        data.sequence = nil
        let floats = data.planeCount * AgentGeometry.cells
        var observations = [Float](repeating: 0, count: data.count * floats)
        var sets: [ActionSet] = []
        observations.withUnsafeMutableBufferPointer { o in
            for i in 0..<data.count {
                sets.append(
                    data.write(
                        sample: i, symmetry: BoardSymmetry.all[0], into: o.baseAddress! + i * floats
                    ))
            }
        }
        let trainer = try PolicyTrainer(
            model: model, config: OptimizerConfig(), batchCapacity: data.count)
        let evaluated = try trainer.evaluate(
            observations: observations, actionSets: sets,
            valueTargets: [Float](repeating: 0, count: data.count))
        #expect(abs(evaluated.policyLoss - probe.loss) < 1e-5)
    }
}
