// Demonstrations: replayed samples and returns, bad solutions named, generation deterministic
// and resumable from its cache.
import Foundation
import Sokoban
import Testing

@testable import Agent

@Suite struct DemonstrationTests {
    @Test func samplesFollowTheSolutionWithDiscountedReturns() throws {
        let levels = try Fixtures.corridorLevels()
        let data = try DemonstrationData(levels: [levels[0]], gamma: 0.5)
        #expect(data.count == 3)
        #expect(data.actions == [3, 3, 3])
        // Rewards: -0.1, -0.1, -0.1 + 1 (box on goal) + 10 (solved).
        let r2: Float = 10.9
        let r1: Float = -0.1 + 0.5 * r2
        let r0: Float = -0.1 + 0.5 * r1
        #expect(
            abs(data.returns[2] - r2) < 1e-5 && abs(data.returns[1] - r1) < 1e-5
                && abs(data.returns[0] - r0) < 1e-5)
        // The first sample shows the player at (1, 1) of the padded board.
        #expect(data.codes[11] == UInt8(ObservationPlane.player.rawValue))
        #expect(data.codes[99] == UInt8(ObservationPlane.wall.rawValue))
    }

    @Test func aWrongSolutionIsNamed() throws {
        var level = try Fixtures.corridorLevels()[0]
        level.notes = [("Solution", "rR")]
        #expect(
            throws: AgentError.badSolution(
                level: 1, title: "corridor 1", reason: "does not solve it")
        ) {
            try DemonstrationData(levels: [level], gamma: 0.99)
        }
        level.notes = []
        #expect(throws: AgentError.self) { try DemonstrationData(levels: [level], gamma: 0.99) }
    }

    @Test func generationIsDeterministicAndResumesFromItsCache() throws {
        let options = GeneratorOptions(width: 7, height: 7, boxes: 1)
        let direct = try Demonstrations.generate(options: options, seed: 5, count: 6, workers: 2)
        #expect(direct.count == 6)
        #expect(direct.allSatisfy { $0.note("Solution") != nil && $0.note("Seed") != nil })
        let cache = Fixtures.temporaryPath("demos.xsb")
        defer { try? FileManager.default.removeItem(atPath: cache) }
        let first = try Demonstrations.generate(
            options: options, seed: 5, count: 3, cachePath: cache, workers: 1)
        #expect(first == Array(direct.prefix(3)))
        let resumed = try Demonstrations.generate(
            options: options, seed: 5, count: 6, cachePath: cache, workers: 2)
        #expect(resumed == direct)
        // Another seed may not reuse the cache.
        #expect(throws: AgentError.self) {
            try Demonstrations.generate(
                options: options, seed: 6, count: 6, cachePath: cache, workers: 1)
        }
    }
}
