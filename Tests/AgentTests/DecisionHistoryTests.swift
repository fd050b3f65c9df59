// A Decision Transformer's history: the samples training writes from demonstrations are exactly
// the inputs the evaluator writes while replaying the same episode, and a DT plays and trains
// through the ordinary evaluator and behavior-cloning run.
import Foundation
import LinearAlgebra
import Policy
import Sokoban
import Testing

@testable import Agent

@Suite struct DecisionHistoryTests {
    static func tinyDT(steps: Int = 3, seed: UInt64 = 5) throws -> DecisionTransformer {
        try DecisionTransformer(
            config: DecisionTransformerConfig(
                steps: steps, dim: 8, layers: 1, heads: 2, mlpHidden: 16, convChannels: 4,
                convBlocks: 1, maxTimestep: 8, targetReturnTenths: 105),
            seed: seed)
    }

    @Test func trainingSamplesAreWhatTheReplayedEpisodeShows() throws {
        let levels = try Demonstrations.generate(
            options: GeneratorOptions(width: 7, height: 7, boxes: 2), seed: 3, count: 3,
            workers: 2)
        let layout = DecisionInputLayout(steps: 3, statePlanes: AgentGeometry.planeCount)
        var data = try DemonstrationData(levels: levels, gamma: 0.9)
        data.sequence = layout
        #expect(data.planeCount == 3 * 8)
        var written = [Float](repeating: 0, count: layout.floatCount)
        var replayed = [Float](repeating: 0, count: layout.floatCount)
        var sample = 0
        for level in levels {
            let steps = try LURD.parse(level.note("Solution")!)
            // Conditioned on the episode's own return, the history's return-to-go at each step is
            // the demonstration's.
            var history = DecisionHistory(layout: layout, targetReturn: data.returnsToGo[sample])
            var env = SokobanEnvironment()
            try env.reset(level: level)
            for (t, step) in steps.enumerated() {
                #expect(Int(data.stepIndex[sample]) == t)
                env.observation.withUnsafeBufferPointer { history.observe($0.baseAddress!) }
                replayed.withUnsafeMutableBufferPointer { history.write(into: $0.baseAddress!) }
                written.withUnsafeMutableBufferPointer {
                    _ = data.write(
                        sample: sample, symmetry: BoardSymmetry.all[0], into: $0.baseAddress!)
                }
                let largest = zip(written, replayed).map { abs($0 - $1) }.max()!
                #expect(
                    largest < 1e-4, "level \(level.title ?? ""), step \(t): differs by \(largest)")
                let result = env.step(step.direction)
                history.acted(step.direction.rawValue, reward: result.reward)
                sample += 1
            }
        }
        #expect(sample == data.count)
    }

    @Test func aTurnedHistoryTurnsEveryBoardAndAction() throws {
        let levels = try Fixtures.corridorLevels()
        let layout = DecisionInputLayout(steps: 3, statePlanes: AgentGeometry.planeCount)
        var data = try DemonstrationData(levels: [levels[0]], gamma: 1)
        data.sequence = layout
        let symmetry = BoardSymmetry.all.first { $0.action[3] != 3 }!
        var out = [Float](repeating: 0, count: layout.floatCount)
        _ = out.withUnsafeMutableBufferPointer {
            data.write(sample: 2, symmetry: symmetry, into: $0.baseAddress!)
        }
        let stepFloats = 8 * AgentGeometry.cells
        for k in 0..<2 {
            let side = Array(out[(k * stepFloats + 7 * 100)..<(k * stepFloats + 8 * 100)])
            // Steps 0 and 1 moved right (3); turned, the one-hot names the turned action.
            #expect(side[1 + symmetry.action[3]] == 1 && side[1 + 3] == 0)
            #expect(side[5] == 1 && side[6] == Float(k))
        }
        // The current step has no action and its return-to-go is the last reward, scaled.
        let current = Array(out[(2 * stepFloats + 700)..<(2 * stepFloats + 800)])
        #expect(current[1...4].allSatisfy { $0 == 0 })
        #expect(abs(current[0] - 10.9 * DecisionInputLayout.returnScale) < 1e-5)
    }

    @Test func aDecisionTransformerPlaysEveryStepAndTheSameOnAnyWorkerCount() throws {
        let model = try Self.tinyDT()
        let levels = Array(try Fixtures.corridorLevels().prefix(4))
        var options = EvaluationOptions()
        options.environment.maxSteps = 12
        options.workers = 1
        let one = try Evaluator.evaluate(model: model, levels: levels, options: options)
        options.workers = 2
        options.batch = 1
        let two = try Evaluator.evaluate(model: model, levels: levels, options: options)
        #expect(one.outcomes == two.outcomes)
        for outcome in one.outcomes where !outcome.greedySolved {
            // No early stop on a repeated position: its history differs the second time round.
            #expect(outcome.greedySteps == 12 && outcome.greedyEnd == .outOfSteps)
        }
        #expect(one.summary.greedyMeanReturn != nil)
        options.symmetryAveraging = true
        #expect(throws: AgentError.self) {
            try Evaluator.evaluate(model: model, levels: levels, options: options)
        }
    }

    @Test func behaviorCloningTrainsADecisionTransformerButRefusesDAgger() throws {
        let levels = try Fixtures.corridorLevels()
        var config = BehaviorCloningConfig()
        config.batchSize = 16
        config.steps = 60
        config.solveLevels = 2
        let model = try Self.tinyDT()
        var optimizer = OptimizerConfig()
        optimizer.learningRate = 3e-3
        let trainer = try PolicyTrainer(model: model, config: optimizer, batchCapacity: 16)
        let run = try BehaviorCloning(
            trainer: trainer, levels: levels, heldOutLevels: 2, config: config)
        let before = try run.heldOutScore().policyLoss
        for _ in 0..<60 { _ = try run.step() }
        let after = try run.heldOutScore().policyLoss
        #expect(after < before, "held-out loss \(before) → \(after)")

        config.dagger.every = 10
        let again = try PolicyTrainer(
            model: try Self.tinyDT(), config: OptimizerConfig(), batchCapacity: 16)
        #expect(throws: AgentError.self) {
            try BehaviorCloning(trainer: again, levels: levels, heldOutLevels: 2, config: config)
        }
    }
}
