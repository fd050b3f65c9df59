// Optimal-action sets from solutions, and DAgger: the positions the policy reaches come back
// labelled by the solver, deterministically, and a resumed run keeps only the rounds it had done.
import Core
import Foundation
import LinearAlgebra
import Policy
import Sokoban
import Testing

@testable import Agent

@Suite struct DAggerTests {
    /// Cell codes of a level on the padded 10×10 board, as the environment shows it.
    func codes(_ level: Level) throws -> [UInt8] {
        var env = BatchedEnvironment(count: 1)
        try env.reset(0, level: level)
        var out = [UInt8](repeating: 0, count: AgentGeometry.cells)
        out.withUnsafeMutableBufferPointer {
            AgentGeometry.codes(of: env, index: 0, into: $0.baseAddress!)
        }
        return out
    }

    func set(_ rows: [String], _ solution: String) throws -> ActionSet {
        let board = try codes(try Level(rows: rows))
        let steps = try LURD.parse(solution)
        return board.withUnsafeBufferPointer {
            OptimalActions.set(codes: $0.baseAddress!, steps: steps[...])
        }
    }

    @Test func everyFirstStepOfAShortestWalkToTheNextPushIsOptimal() throws {
        let room = ["#######", "#@    #", "#     #", "#   $ #", "#    .#", "#######"]
        let down = 1
        let left = 2
        let right = 3
        // The push starts from (2, 4) of the room: right or down both begin a shortest walk.
        #expect(try set(room, "rrrdD").actions == [down, right])
        #expect(try set(room, "drrrD").actions == [down, right])
        // In a corridor there is one way; a push is its own set.
        #expect(try set(["#######", "#@ $ .#", "#######"], "rRR") == ActionSet(action: right))
        #expect(try set(["#####", "#@$.#", "#####"], "R") == ActionSet(action: right))
        // A walk that is not shortest keeps the demonstrated step alone.
        let middle = ["#######", "#     #", "# @   #", "#   $ #", "#    .#", "#######"]
        #expect(try set(middle, "rrD") == ActionSet(action: right))
        #expect(try set(middle, "lrrrD") == ActionSet(action: left))
    }

    @Test func demonstrationSetsAlwaysHoldTheDemonstratedAction() throws {
        let levels = try Demonstrations.generate(
            options: GeneratorOptions(width: 8, height: 8, boxes: 2), seed: 9, count: 8, workers: 2)
        let data = try DemonstrationData(levels: levels, gamma: 0.99)
        #expect(data.count > 8)
        for i in 0..<data.count {
            let set = ActionSet(rawValue: data.actionSets[i])
            #expect(set.contains(action: Int(data.actions[i])))
        }
        // Open rooms leave real choices: some samples have more than one optimal action.
        #expect(data.actionSets.contains { ActionSet(rawValue: $0).actions.count > 1 })
        // A transformed sample's set is its members mapped through the symmetry.
        let multi = data.actionSets.firstIndex { ActionSet(rawValue: $0).actions.count > 1 }!
        var planes = [Float](repeating: 0, count: AgentGeometry.observationCount)
        for symmetry in BoardSymmetry.all {
            let set = planes.withUnsafeMutableBufferPointer {
                data.write(sample: multi, symmetry: symmetry, into: $0.baseAddress!)
            }
            let expected = ActionSet(rawValue: data.actionSets[multi]).actions.map {
                symmetry.action[$0]
            }.sorted()
            #expect(set.actions == expected)
        }
    }

    /// Six small generated levels and a short-episode DAgger config to collect on them.
    func smallCollection() throws -> (levels: [Level], config: DAggerConfig) {
        let levels = try Demonstrations.generate(
            options: GeneratorOptions(width: 7, height: 7, boxes: 2), seed: 4, count: 6, workers: 2)
        var config = DAggerConfig()
        config.environment.maxSteps = 30
        config.batch = 4
        return (levels, config)
    }

    @Test func collectedPositionsCarryTheSolversSolutionAndRepeatExactly() throws {
        let (levels, config) = try smallCollection()
        let model = try Fixtures.tinyConv(seed: 5)
        let (states, report) = try DAgger.collect(
            model: model, levels: levels, levelNumbers: Array(1...6), round: 3, config: config,
            workers: 2)
        #expect(report.levelsPlayed == 6)
        #expect(states.count == report.statesAdded && report.statesAdded > 0)
        #expect(report.statesVisited >= report.statesAdded)
        for state in states {
            #expect(DAgger.round(ofTitle: state.title) == 3)
            // Each position's solution solves it.
            _ = try DemonstrationData(levels: [state], gamma: 0.99)
        }
        let again = try DAgger.collect(
            model: model, levels: levels, levelNumbers: Array(1...6), round: 3, config: config,
            workers: 1)
        #expect(again.states == states)
    }

    /// The first untrained tiny policy (seeds 1...40) whose plain DAgger round on `levels` satisfies
    /// `condition`, with that round.
    func untrainedPolicy(
        on levels: [Level], config: DAggerConfig, where condition: (DAggerRound) -> Bool
    ) throws -> (model: any PolicyNetwork, plain: (states: [Level], report: DAggerRound))? {
        for seed in UInt64(1)...40 {
            let model = try Fixtures.tinyConv(seed: seed)
            let plain = try DAgger.collect(
                model: model, levels: levels, levelNumbers: Array(1...6), round: 1, config: config)
            if condition(plain.report) { return (model, plain) }
        }
        return nil
    }

    /// What a weighted collection holds beyond the plain one (which it must hold whole).
    func added(_ weighted: [Level], beyond plain: [Level]) throws -> [Level] {
        var extras = weighted
        for state in plain {
            extras.remove(at: try #require(extras.firstIndex(of: state), "\(state.title ?? "")"))
        }
        return extras
    }

    @Test func theFatalPositionOfEachLostEpisodeIsAddedAsOftenAsAsked() throws {
        var (levels, config) = try smallCollection()
        // An untrained policy of some seed pushes a box into a dead position on these levels.
        let (model, plain) = try #require(
            try untrainedPolicy(on: levels, config: config) { $0.fatalPositions > 0 })
        config.fatalCopies = 4
        let weighted = try DAgger.collect(
            model: model, levels: levels, levelNumbers: Array(1...6), round: 1, config: config)
        #expect(weighted.report.fatalPositions == plain.report.fatalPositions)
        #expect(
            weighted.states.count == plain.states.count + 3 * plain.report.fatalPositions)
        #expect(weighted.report.statesAdded == weighted.states.count)
        // The extra copies are exactly the positions some move leads from into a dead one.
        let extras = try added(weighted.states, beyond: plain.states)
        #expect(extras.count == 3 * plain.report.fatalPositions)
        for state in Set(extras.map { $0.title ?? "" }) {
            let position = weighted.states.first { $0.title == state }!
            var env = BatchedEnvironment(count: 1)
            let dead = try (0..<4).contains { action in
                try env.reset(0, level: position)
                _ = env.step(0, action: action)
                return Solver.solve(env.snapshot(0)).status == .unsolvable
            }
            #expect(dead, "\(state) leads into no dead position")
        }
    }

    @Test func eachPositionOfASolvableLoopIsAddedAsOftenAsAsked() throws {
        var (levels, config) = try smallCollection()
        // An untrained policy of some seed walks in circles (or into a wall) on a solvable level.
        let (model, plain) = try #require(
            try untrainedPolicy(on: levels, config: config) { $0.loops > 0 })
        config.loopCopies = 3
        let weighted = try DAgger.collect(
            model: model, levels: levels, levelNumbers: Array(1...6), round: 1, config: config)
        #expect(weighted.report.loops == plain.report.loops)
        #expect(weighted.report.statesAdded == weighted.states.count)
        let extras = try added(weighted.states, beyond: plain.states)
        // Two more copies of each cycle position, and at least one cycle position per loop.
        let cyclePositions = Set(extras.map { $0.title ?? "" })
        #expect(extras.count == 2 * cyclePositions.count)
        #expect(cyclePositions.count >= plain.report.loops)
        // Each is on a cycle: the same greedy policy, started there, comes back to it unsolved.
        let context = model.makeContext(batchCapacity: 1)
        for title in cyclePositions {
            let position = extras.first { $0.title == title }!
            var env = BatchedEnvironment(count: 1, config: config.environment)
            try env.reset(0, level: position)
            let start = env.positionHash(0)
            var returned = false
            for _ in 0..<config.environment.maxSteps {
                try context.setObservations(env.observations, batch: 1)
                model.forward(context, batch: 1)
                let step = env.step(0, action: context.greedyAction(sample: 0))
                #expect(!step.solved, "\(title) is not on a cycle: the policy solves from it")
                if env.positionHash(0) == start {
                    returned = true
                    break
                }
            }
            #expect(returned, "\(title) is not on a cycle")
        }
    }

    @Test func aLoopingEpisodeEndsWhereItFirstReturns() throws {
        let (levels, config) = try smallCollection()
        let (model, _) = try #require(
            try untrainedPolicy(on: levels, config: config) { $0.loops > 0 })
        var episodes: [DAgger.Episode] = []
        try DAgger.play(
            Array(levels.indices), model: model, levels: levels, config: config,
            maximumWorkers: 1
        ) { _, episode in episodes.append(episode) }
        #expect(episodes.count == levels.count)
        let looped = episodes.filter { $0.cycle != nil }
        #expect(!looped.isEmpty)
        for episode in looped {
            // One move from each distinct position, the last of them back to an earlier one (or,
            // into a wall, to itself).
            #expect(episode.moves == episode.states.count)
            #expect(!episode.solved)
            let cycle = try #require(episode.cycle)
            #expect(cycle.from == episode.states.count - 1 && cycle.to <= cycle.from)
        }
    }

    @Test func aTrailPolicysPositionsKeepTheirTrailThroughALevelFile() throws {
        let (levels, config) = try smallCollection()
        let model = try ConvPolicy(
            config: ConvPolicyConfig(planes: 8, channels: 8, blocks: 1, valueHidden: 16), seed: 5)
        let (states, _) = try DAgger.collect(
            model: model, levels: levels, levelNumbers: Array(1...6), round: 1, config: config,
            workers: 2)
        #expect(!states.isEmpty)
        #expect(states.allSatisfy { $0.note(BatchedEnvironment.trailNote) != nil })
        #expect(
            states.contains {
                ($0.note(BatchedEnvironment.trailNote) ?? "").split(separator: " ").count > 1
            })
        // Written and read back, each position replays with its trail into the same codes.
        let parsed = try LevelCollection(text: LevelCollection(levels: states).xsb()).levels
        var trail = EnvironmentConfig()
        trail.trail = true
        let direct = try DemonstrationData(levels: states, gamma: 0.99, config: trail)
        let reread = try DemonstrationData(levels: parsed, gamma: 0.99, config: trail)
        #expect(direct.codes == reread.codes)
        for state in states {
            // A position's first sample shows exactly the trail its note lists.
            let squares = state.note(BatchedEnvironment.trailNote)!.split(separator: " ").count
            let board = try DemonstrationData(levels: [state], gamma: 0.99, config: trail).codes
                .prefix(AgentGeometry.cells)
            #expect(board.filter { $0 & AgentGeometry.trailCode != 0 }.count == squares)
        }
    }

    @Test func behaviorCloningWithDAggerGrowsItsDataAndResumesWithTheRoundsItHad() throws {
        let levels = try Demonstrations.generate(
            options: GeneratorOptions(width: 7, height: 7, boxes: 2), seed: 4, count: 8, workers: 2)
        var config = BehaviorCloningConfig()
        config.batchSize = 16
        config.steps = 4
        config.warmupSteps = 1
        config.evaluateEvery = 4
        config.heldOutSamples = 16
        config.solveLevels = 0
        config.dagger.every = 2
        config.dagger.levelsPerRound = 4
        config.dagger.environment.maxSteps = 20
        let trainer = try PolicyTrainer(
            model: try Fixtures.tinyConv(), config: config.optimizer, batchCapacity: 16)
        let run = try BehaviorCloning(
            trainer: trainer, levels: levels, heldOutLevels: 2, config: config)
        let before = run.trainingSampleCount
        var rounds: [DAggerRound] = []
        try run.run(workers: 1, collected: { rounds.append($0) }, report: { _ in })
        // Rounds run after steps 2 (not after the last step, 4).
        #expect(rounds.map(\.round) == [1])
        #expect(run.trainingSampleCount == before + rounds[0].statesAdded)
        #expect(run.collectedStates.allSatisfy { DAgger.round(ofTitle: $0.title) == 1 })
        // A run resumed at step 1 has done no round yet: collected positions are left out.
        let early = try PolicyTrainer(
            model: try Fixtures.tinyConv(), config: config.optimizer, batchCapacity: 16)
        _ = try BehaviorCloning(trainer: early, levels: levels, heldOutLevels: 2, config: config)
            .step()
        let resumed = try BehaviorCloning(
            trainer: early, levels: levels, heldOutLevels: 2, config: config,
            collected: run.collectedStates)
        #expect(resumed.collectedStates.isEmpty && resumed.trainingSampleCount == before)
        // At step 2 it keeps round 1.
        _ = try resumed.step()
        let later = try BehaviorCloning(
            trainer: early, levels: levels, heldOutLevels: 2, config: config,
            collected: run.collectedStates)
        #expect(later.collectedStates.count == run.collectedStates.count)
    }

    /// Eight small generated levels and a DAgger config collecting every step, half of each batch
    /// drawn from the collected positions.
    static func halfDAggerSetup() throws -> ([Level], BehaviorCloningConfig) {
        let levels = try Demonstrations.generate(
            options: GeneratorOptions(width: 7, height: 7, boxes: 2), seed: 4, count: 8, workers: 2)
        var config = BehaviorCloningConfig()
        config.batchSize = 16
        config.dagger.every = 1
        config.dagger.levelsPerRound = 6
        config.dagger.environment.maxSteps = 20
        config.daggerShare = 0.5
        return (levels, config)
    }

    @Test func theDAggerShareSetsHowOftenBatchesDrawCollectedPositions() throws {
        let (levels, config) = try Self.halfDAggerSetup()
        let trainer = try PolicyTrainer(
            model: try Fixtures.tinyConv(), config: config.optimizer, batchCapacity: 16)
        let run = try BehaviorCloning(
            trainer: trainer, levels: levels, heldOutLevels: 2, config: config)
        _ = try run.collect(round: 1, workers: 1)
        let collected = Set(run.collectedSamples)
        #expect(!collected.isEmpty && collected.count < run.trainingSampleCount / 2)
        var random = SplitMix64(seed: 3)
        let draws = (0..<4000).map { _ in run.drawSample(&random) }
        let share = Double(draws.filter { collected.contains($0) }.count) / 4000
        // Half directly, plus the collected positions' share of the uniform half.
        let expected = 0.5 + 0.5 * Double(collected.count) / Double(run.trainingSampleCount)
        #expect(abs(share - expected) < 0.04, "share \(share), expected \(expected)")
    }

    @Test func importedPositionsAreTrainedOnButNotSavedWithThisRunsRounds() throws {
        let (levels, config) = try Self.halfDAggerSetup()
        // Another run's positions (round 1 of its file), imported into a run at step 0.
        let other = try BehaviorCloning(
            trainer: try PolicyTrainer(
                model: try Fixtures.tinyConv(), config: config.optimizer, batchCapacity: 16),
            levels: levels, heldOutLevels: 2, config: config)
        _ = try other.collect(round: 1, workers: 1)
        let imported = other.collectedStates
        #expect(!imported.isEmpty)
        let plain = try BehaviorCloning(
            trainer: try PolicyTrainer(
                model: try Fixtures.tinyConv(), config: config.optimizer, batchCapacity: 16),
            levels: levels, heldOutLevels: 2, config: config)
        let run = try BehaviorCloning(
            trainer: try PolicyTrainer(
                model: try Fixtures.tinyConv(), config: config.optimizer, batchCapacity: 16),
            levels: levels, heldOutLevels: 2, config: config, imported: imported)
        #expect(run.importedCount == imported.count)
        #expect(run.trainingSampleCount == plain.trainingSampleCount + imported.count)
        #expect(run.collectedSamples.count == imported.count && run.collectedStates.isEmpty)
        // A round of this run adds its own positions; only those are what --dagger-states saves.
        let round = try run.collect(round: 1, workers: 1)
        #expect(run.collectedStates.count == round.statesAdded)
        #expect(run.collectedSamples.count == imported.count + round.statesAdded)
    }
}
