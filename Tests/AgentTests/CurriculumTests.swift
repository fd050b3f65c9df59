// The curriculum moves on exactly when a stage's recent solve rate reaches the threshold, never
// leaves its last stage, and PPO draws its episodes from the current stage.
import Foundation
import Policy
import Sokoban
import Testing

@testable import Agent

@Suite struct CurriculumTests {
    func stages(_ n: Int) throws -> [CurriculumStage] {
        let levels = try Fixtures.corridorLevels()
        return (0..<n).map {
            CurriculumStage(name: "stage \($0)", levels: [levels[$0 % levels.count]])
        }
    }

    @Test func advancesOnceTheWindowSolvesEnough() throws {
        var c = try Curriculum(stages: try stages(3), advanceAt: 0.75, window: 4)
        // A full window is needed first, then 3 of the last 4.
        let early = [true, true, false].map { c.record(solved: $0) }
        #expect(early == [false, false, false] && c.stage == 0)
        let fourth = c.record(solved: true)
        #expect(fourth && c.stage == 1 && c.recentSolveRate == nil)
        // The window slides: old failures drop out.
        let sliding = [false, false, true, true, true].map { c.record(solved: $0) }
        #expect(sliding == [false, false, false, false, true] && c.stage == 2)
        // The last stage is never left.
        let last = (0..<10).map { _ in c.record(solved: true) }
        #expect(!last.contains(true) && c.stage == 2)
    }

    /// A checkpoint keeps the window: a curriculum rebuilt from `recentOutcomes` (as a resumed
    /// PPO run rebuilds it) advances on the same episode as the one that never stopped.
    @Test func theWindowSurvivesARestart() throws {
        var whole = try Curriculum(stages: try stages(3), advanceAt: 0.75, window: 4)
        let outcomes = [true, false, true, false, false, true, true, true, true, false, true]
        for solved in outcomes.prefix(6) { _ = whole.record(solved: solved) }
        #expect(whole.recentOutcomes == [true, false, false, true], "oldest first, the last 4")
        var resumed = try Curriculum(
            stages: try stages(3), advanceAt: 0.75, window: 4, stage: whole.stage,
            recent: whole.recentOutcomes)
        var fresh = try Curriculum(
            stages: try stages(3), advanceAt: 0.75, window: 4, stage: whole.stage)
        var moves: [[Bool]] = [[], [], []]
        for solved in outcomes.dropFirst(6) {
            moves[0].append(whole.record(solved: solved))
            moves[1].append(resumed.record(solved: solved))
            moves[2].append(fresh.record(solved: solved))
        }
        #expect(moves[0] == moves[1] && resumed.stage == whole.stage)
        #expect(moves[0] != moves[2], "without the window a resumed run advances later")
        let state = PPOState(
            update: 3, environmentSteps: 10, initial: "a", levels: "b", curriculum: nil,
            curriculumStage: 1, curriculumRecent: [true, false], heldOutSolveRate: 0.5)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let data = try encoder.encode(state)
        #expect(
            String(decoding: data, as: UTF8.self).contains("\"curriculum_recent\":[true,false]"))
        #expect(try decoder.decode(PPOState.self, from: data) == state)
    }

    @Test func badSettingsAreRefused() throws {
        #expect(throws: AgentError.self) { try Curriculum(stages: [], advanceAt: 0.5) }
        #expect(throws: AgentError.self) { try Curriculum(stages: try stages(2), advanceAt: 0) }
        #expect(throws: AgentError.self) { try Curriculum(stages: try stages(2), stage: 2) }
        #expect(throws: AgentError.self) { try Curriculum.parse("7x7") }
        #expect(throws: AgentError.self) { try Curriculum.parse("12x12x2") }
        let options = try Curriculum.parse("7x8x2")
        #expect(options.width == 7 && options.height == 8 && options.boxes == 2)
    }

    @Test func ppoPlaysTheCurrentStageAndMovesOn() throws {
        let levels = try Fixtures.corridorLevels()
        // Stage 0 is a one-push corridor an untrained policy solves often by chance; the final
        // pool is the long corridors.
        let first = CurriculumStage(name: "short", levels: [levels[6], levels[7]])
        let final = Array(levels.prefix(4))
        let curriculum = try Curriculum(
            stages: [first, CurriculumStage(name: "final", levels: final)], advanceAt: 0.05,
            window: 8)
        var config = PPOConfig()
        config.environments = 4
        config.rolloutSteps = 16
        config.minibatches = 2
        config.totalSteps = 64 * 6
        let trainer = try PolicyTrainer(
            model: try Fixtures.tinyConv(), config: config.optimizer,
            batchCapacity: config.minibatchSize)
        let ppo = try PPO(trainer: trainer, levels: final, config: config, curriculum: curriculum)
        var reports: [PPOUpdateReport] = []
        try ppo.run { reports.append($0) }
        #expect(reports.first?.stage != nil)
        #expect(reports.contains { $0.advanced })
        #expect(ppo.curriculum?.stage == 1)
    }
}
