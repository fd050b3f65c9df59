// The eight board symmetries: a step on a transformed board with the mapped action gives the
// transformed result of the original step.
import Sokoban
import Testing
@testable import Agent

@Suite struct SymmetryTests {
    /// Cell codes of an environment's observation.
    func codes(_ env: BatchedEnvironment) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: AgentGeometry.cells)
        out.withUnsafeMutableBufferPointer { AgentGeometry.codes(of: env, index: 0, into: $0.baseAddress!) }
        return out
    }

    func transformed(_ codes: [UInt8], _ s: BoardSymmetry) -> [UInt8] {
        (0..<AgentGeometry.cells).map { codes[s.sourceCell[$0]] }
    }

    /// The level a code board shows (walls, floor, goals, boxes, player).
    func level(from codes: [UInt8]) throws -> Level {
        let n = AgentGeometry.boardSize
        let glyphs: [Character] = ["#", " ", ".", "$", "@", "*", "+"]
        let rows = (0..<n).map { r in String((0..<n).map { glyphs[Int(codes[r * n + $0])] }) }
        return try Level(rows: rows)
    }

    @Test func actionsAreAPermutationAndTheIdentityIsFirst() {
        #expect(BoardSymmetry.all.count == 8)
        #expect(BoardSymmetry.all[0].action == [0, 1, 2, 3])
        for s in BoardSymmetry.all { #expect(Set(s.action) == [0, 1, 2, 3]) }
        // Rotating by 90° clockwise turns up into right.
        #expect(BoardSymmetry.all[1].action[0] == 3)
    }

    @Test func steppingCommutesWithEverySymmetry() throws {
        let rows = [
            "##########", "#   #    #", "# $   .  #", "#  @$ #  #", "# .   $  #",
            "#  ## .  #", "#   $    #", "#  .     #", "#        #", "##########",
        ]
        let original = try Level(rows: rows)
        for s in BoardSymmetry.all {
            for action in 0..<4 {
                var a = BatchedEnvironment(count: 1)
                try a.reset(0, level: original)
                let before = codes(a)
                _ = a.step(0, action: action)
                var b = BatchedEnvironment(count: 1)
                try b.reset(0, level: try level(from: transformed(before, s)))
                #expect(codes(b) == transformed(before, s))
                _ = b.step(0, action: s.action[action])
                #expect(codes(b) == transformed(codes(a), s), "symmetry \(s.index), action \(action)")
            }
        }
    }
}
