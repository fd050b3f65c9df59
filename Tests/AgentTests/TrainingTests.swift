// Learning happens: behavior cloning lowers the loss and turns an agent that solves nothing into
// one that solves the corridors; PPO raises the solve rate of an untrained policy; evaluation is
// deterministic; checkpoints resume training exactly.
import Foundation
import Policy
import Sokoban
import Testing

@testable import Agent

@Suite struct TrainingTests {
    func smallConfig(steps: Int) -> BehaviorCloningConfig {
        var c = BehaviorCloningConfig()
        c.batchSize = 32
        c.steps = steps
        c.warmupSteps = 5
        c.learningRate = 3e-3
        c.evaluateEvery = steps
        c.heldOutSamples = 64
        c.solveLevels = 0
        return c
    }

    @Test func behaviorCloningLearnsTheCorridors() throws {
        let levels = try Fixtures.corridorLevels()
        let model = try Fixtures.tinyConv()
        var options = EvaluationOptions()
        options.workers = 1
        options.environment.maxSteps = 12
        let before = try Evaluator.evaluate(model: model, levels: levels, options: options).summary
        let config = smallConfig(steps: 150)
        let trainer = try PolicyTrainer(
            model: model, config: config.optimizer, batchCapacity: config.batchSize)
        // Hold out one level: trained on the others (and their symmetries).
        let run = try BehaviorCloning(
            trainer: trainer, levels: levels, heldOutLevels: 1, config: config)
        let first = try run.heldOutScore()
        var reports: [BehaviorCloningReport] = []
        try run.run(workers: 1) { reports.append($0) }
        let after = try Evaluator.evaluate(model: model, levels: levels, options: options).summary
        #expect(reports.count == 1)
        #expect(
            reports[0].heldOut.policyLoss < 0.5 * first.policyLoss,
            "held-out loss \(first.policyLoss) → \(reports[0].heldOut.policyLoss)")
        #expect(before.greedySolveRate < 0.5)
        #expect(
            after.greedySolveRate >= 0.75 && after.greedySolveRate > before.greedySolveRate,
            "solve rate \(before.greedySolveRate) → \(after.greedySolveRate)")
    }

    @Test func resumingFromACheckpointContinuesExactly() throws {
        let levels = try Fixtures.corridorLevels()
        let config = smallConfig(steps: 6)
        let path = Fixtures.temporaryPath("bc.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Straight through: 6 steps.
        let a = try PolicyTrainer(
            model: try Fixtures.tinyConv(), config: config.optimizer, batchCapacity: 32)
        let runA = try BehaviorCloning(trainer: a, levels: levels, heldOutLevels: 1, config: config)
        for _ in 0..<6 { _ = try runA.step() }
        // 3 steps, checkpoint, resume, 3 more.
        let b = try PolicyTrainer(
            model: try Fixtures.tinyConv(), config: config.optimizer, batchCapacity: 32)
        let runB = try BehaviorCloning(trainer: b, levels: levels, heldOutLevels: 1, config: config)
        for _ in 0..<3 { _ = try runB.step() }
        try PolicyCheckpoint.save(model: b.model, trainer: b, to: path)
        let c = try PolicyCheckpoint.resume(from: path, batchCapacity: 32)
        let runC = try BehaviorCloning(trainer: c, levels: levels, heldOutLevels: 1, config: config)
        for _ in 0..<3 { _ = try runC.step() }
        let name = a.model.parameters.infos[0].name
        #expect(
            try a.model.parameters.tensor(named: name).scalars
                == c.model.parameters.tensor(named: name).scalars)
    }

    @Test func evaluationIsDeterministicForASeedAndAnyWorkerCount() throws {
        let levels = try Fixtures.corridorLevels()
        let model = try Fixtures.tinyConv(seed: 3)
        var options = EvaluationOptions()
        options.attempts = 4
        options.seed = 11
        options.environment.maxSteps = 10
        options.workers = 1
        let one = try Evaluator.evaluate(model: model, levels: levels, options: options).outcomes
        options.workers = 2
        options.batch = 3
        let two = try Evaluator.evaluate(model: model, levels: levels, options: options).outcomes
        #expect(one == two)
        #expect(one.count == levels.count)
        // Sampled attempts explore: across 3 samples per level something differs from greedy.
        options.seed = 12
        let other = try Evaluator.evaluate(model: model, levels: levels, options: options).outcomes
        #expect(other.map(\.greedySteps) == one.map(\.greedySteps))
    }

    @Test func greedyLoopsStopEarlyAndFailuresAreDiagnosed() throws {
        let model = try Fixtures.tinyConv(seed: 3)
        var options = EvaluationOptions()
        options.environment.maxSteps = 50
        options.diagnose = true
        // Walled in beside a box against the wall: no action moves anything, so the first step
        // repeats the start position, and the box can never reach the goal (a dead position).
        let trapped = try Level(rows: ["####", "#+$#", "####"])
        // Two steps from solved, with a one-step limit: out of steps in a solvable position.
        let corridor = try Fixtures.corridorLevels()[0]
        let (outcomes, summary) = try Evaluator.evaluate(
            model: model, levels: [trapped], options: options)
        #expect(outcomes[0].greedyEnd == .looped && outcomes[0].greedySteps == 1)
        #expect(outcomes[0].greedyDeadEnd == true && outcomes[0].greedyDeadEndKind == .deadSquare)
        #expect(summary.greedyDeadEndKinds == ["dead-square": 1, "frozen": 0, "searched": 0])
        #expect(
            summary.greedyLooped == 1 && summary.greedyDeadEnds == 1
                && summary.greedyUndiagnosed == 0)
        options.environment.maxSteps = 1
        let short = try Evaluator.evaluate(model: model, levels: [corridor], options: options)
            .outcomes[0]
        #expect(
            short.greedyEnd == .outOfSteps && short.greedyDeadEnd == false && !short.greedySolved
                && short.greedyDeadEndKind == nil)
        // Without diagnosis nothing is claimed about dead ends.
        options.diagnose = false
        let plain = try Evaluator.evaluate(model: model, levels: [trapped], options: options)
        #expect(plain.outcomes[0].greedyDeadEnd == nil && plain.summary.greedyDeadEnds == nil)
        #expect(
            plain.outcomes[0].greedyDeadEndKind == nil && plain.summary.greedyDeadEndKinds == nil)
    }

    @Test func deadEndsAreNamedByTheCheckThatProvesThem() throws {
        // A box in a corner off any goal.
        let corner = try Level(rows: ["####", "#+$#", "####"])
        #expect(DeadEndKind.of(corner) == .deadSquare)
        // Two boxes side by side against the wall: each could reach the goal row's goal alone.
        let pair = try Level(rows: ["#######", "#.$$  #", "#.   @#", "#######"])
        #expect(!pair.boxes.contains { DeadlockDetector(level: pair).isDeadSquare[$0] })
        #expect(DeadEndKind.of(pair) == .frozen)
        // Dead, though no box is frozen or on a dead square: the top box can only go left (the
        // player cannot reach its left side), which leaves the other box no way up to a goal.
        let sealed = try Level(rows: ["######", "#.$.@#", "#$   #", "#    #", "######"])
        #expect(!DeadlockDetector(level: sealed).isDeadlocked(boxes: sealed.boxes))
        #expect(Solver.solve(sealed).status == .unsolvable)
        #expect(DeadEndKind.of(sealed) == .searched)
    }

    @Test func ppoRaisesTheSolveRateOfAnUntrainedPolicy() throws {
        // The shortest corridors: the policy must learn to push towards the goal.
        let levels = Array(try Fixtures.corridorLevels().suffix(4))
        let model = try Fixtures.tinyConv(seed: 5)
        var evaluation = EvaluationOptions()
        evaluation.workers = 1
        evaluation.environment.maxSteps = 12
        let before = try Evaluator.evaluate(model: model, levels: levels, options: evaluation)
            .summary
        var config = PPOConfig()
        config.environments = 8
        config.rolloutSteps = 16
        config.minibatches = 2
        config.updateEpochs = 4
        config.learningRate = 3e-3
        config.totalSteps = 20 * config.batchSize
        config.targetKL = nil
        let trainer = try PolicyTrainer(
            model: model, config: config.optimizer, batchCapacity: config.minibatchSize)
        let ppo = try PPO(trainer: trainer, levels: levels, config: config)
        var reports: [PPOUpdateReport] = []
        try ppo.run { reports.append($0) }
        let after = try Evaluator.evaluate(model: model, levels: levels, options: evaluation)
            .summary
        #expect(reports.count == 20)
        let early = reports.prefix(5).map(\.meanReturn).reduce(0, +) / 5
        let late = reports.suffix(5).map(\.meanReturn).reduce(0, +) / 5
        #expect(late > early, "episode return \(early) → \(late)")
        #expect(
            after.greedySolveRate > before.greedySolveRate,
            "solve rate \(before.greedySolveRate) → \(after.greedySolveRate)")
        #expect(reports.allSatisfy { $0.approximateKL.isFinite && $0.valueLoss.isFinite })
    }

    @Test func ppoIsDeterministicForASeed() throws {
        let levels = Array(try Fixtures.corridorLevels().suffix(4))
        func run() throws -> ([Float], [Double]) {
            let model = try Fixtures.tinyConv(seed: 5)
            var config = PPOConfig()
            config.environments = 4
            config.rolloutSteps = 8
            config.minibatches = 2
            config.totalSteps = 3 * config.batchSize
            let trainer = try PolicyTrainer(
                model: model, config: config.optimizer, batchCapacity: config.minibatchSize)
            var reports: [PPOUpdateReport] = []
            try PPO(trainer: trainer, levels: levels, config: config).run { reports.append($0) }
            let weights = try model.parameters.infos.flatMap {
                try model.parameters.tensor(named: $0.name).scalars
            }
            return (
                weights,
                reports.flatMap {
                    [$0.policyLoss, $0.valueLoss, $0.entropy, $0.approximateKL, $0.meanReturn]
                }
            )
        }
        let (firstWeights, firstReports) = try run()
        let (secondWeights, secondReports) = try run()
        #expect(firstWeights == secondWeights)
        #expect(firstReports == secondReports)
    }
}
