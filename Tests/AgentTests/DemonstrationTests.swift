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

    @Test func withTheTrailNoDemonstratedStepWalksBackOntoIt() throws {
        // On a solver's path the player never returns to a square it walked since the last push:
        // the property the trail plane lets a policy learn.
        let levels = try Demonstrations.generate(
            options: GeneratorOptions(width: 8, height: 8, boxes: 2), seed: 11, count: 12,
            workers: 2)
        var config = EnvironmentConfig()
        config.trail = true
        let data = try DemonstrationData(levels: levels, gamma: 0.99, config: config)
        #expect(data.planeCount == AgentGeometry.planeCount + 1)
        let n = AgentGeometry.boardSize
        var longTrails = 0
        for i in 0..<data.count {
            let board = Array(data.codes[(i * 100)..<(i * 100 + 100)])
            let player = board.firstIndex {
                let code = Int($0 & ~AgentGeometry.trailCode)
                return code == ObservationPlane.player.rawValue
                    || code == ObservationPlane.playerOnGoal.rawValue
            }!
            #expect(board[player] & AgentGeometry.trailCode != 0, "the player stands on its trail")
            let trail = board.filter { $0 & AgentGeometry.trailCode != 0 }.count
            if trail >= 3 { longTrails += 1 }
            let target = player + [-n, n, -1, 1][Int(data.actions[i])]
            #expect(board[target] & AgentGeometry.trailCode == 0, "sample \(i) steps back")
        }
        #expect(longTrails > 0)
        // Without the trail, the codes are the plain plane indices.
        let plain = try DemonstrationData(levels: levels, gamma: 0.99)
        #expect(plain.codes == data.codes.map { $0 & ~AgentGeometry.trailCode })
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
