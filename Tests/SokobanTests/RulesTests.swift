// Tests of the rules: moves, pushes, blocking, counters, undo and redo, LURD in and out.

import Testing

@testable import Sokoban

@Suite struct RulesTests {
    let corridor = "########\n#@ $ $.#\n#    . #\n########"

    @Test func movesPushesAndBlocks() throws {
        var g = Game(level: try level(corridor))
        #expect(g.step(.up) == .blocked)
        #expect(g.step(.right) == .moved)
        #expect(g.step(.right) == .pushed(from: 11))
        #expect(g.moves == 2 && g.pushes == 1)
        // Two boxes in a row cannot be pushed.
        #expect(g.step(.right) == .blocked)
        #expect(g.moves == 2 && g.pushes == 1)
        #expect(g.boxes == [12, 13])
        #expect(g.lurd == "rR")
    }

    @Test func undoRedoAndRestart() throws {
        var g = Game(level: try level(corridor))
        for d in [Direction.right, .right, .down, .right] { g.step(d) }
        let after = (g.boxes, g.player, g.moves, g.pushes, g.lurd)
        let undone1 = g.undo()
        #expect(undone1)
        let undone2 = g.undo()
        #expect(undone2)
        #expect(g.moves == 2 && g.boxes == [12, 13])
        let redone3 = g.redo()
        #expect(redone3)
        let redone4 = g.redo()
        #expect(redone4)
        #expect(g.boxes == after.0 && g.player == after.1 && g.moves == after.2)
        #expect(g.pushes == after.3 && g.lurd == after.4)
        let again = g.redo()
        #expect(!again)
        g.restart()
        #expect(g.moves == 0 && g.pushes == 0 && g.boxes == g.level.boxes)
        #expect(g.player == g.level.player && !g.canUndo && g.canRedo)
        // A new step clears the redo list.
        g.step(.down)
        #expect(!g.canRedo)
        #expect(!Game(level: g.level).canUndo)
    }

    @Test func undoRestoresGoalCounts() throws {
        var g = Game(level: try level("######\n#@$. #\n######"))
        #expect(!g.isSolved)
        g.step(.right)
        #expect(g.isSolved && g.boxesOnGoals == 1)
        g.step(.right)
        #expect(!g.isSolved && g.boxesOnGoals == 0)
        _ = g.undo()
        #expect(g.isSolved)
        _ = g.undo()
        #expect(!g.isSolved && g.boxesOnGoals == 0)
    }

    @Test func lurdVerification() throws {
        let l = try level("######\n#@$ .#\n######")
        let solved = try LURD.verify("RR", on: l)
        #expect(solved.isSolved && solved.moves == 2 && solved.pushes == 2)
        #expect(throws: SolutionError(step: 1, problem: .caseMismatch(expectedPush: true))) {
            try LURD.verify("rR", on: l)
        }
        #expect(throws: SolutionError(step: 3, problem: .blocked)) { try LURD.verify("RRR", on: l) }
        #expect(throws: SolutionError(step: 0, problem: .notSolved(boxesOffGoals: 1))) {
            try LURD.verify("R", on: l)
        }
        #expect(throws: SolutionError(step: 2, problem: .unknownCharacter("x"))) {
            try LURD.verify("Rx", on: l)
        }
        #expect(throws: SolutionError(step: 1, problem: .caseMismatch(expectedPush: false))) {
            try LURD.verify("L", on: try level("######\n# @$.#\n######"))
        }
        // Whitespace is ignored, and the game's own record parses back to the same play.
        let g = try LURD.verify("R R", on: l)
        #expect(try LURD.verify(g.lurd, on: l).boxes == g.boxes)
    }

    @Test func directionsAndLetters() {
        for d in Direction.allCases {
            #expect(Direction(letter: d.letter) == d)
            #expect(d.reversed.reversed == d)
            #expect(d.offset(width: 9) == -d.reversed.offset(width: 9))
        }
        #expect(Direction(letter: "x") == nil)
        #expect(Direction.up.rawValue == 0 && Direction.right.rawValue == 3)
    }
}
