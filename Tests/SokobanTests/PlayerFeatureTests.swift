// What the player offers beyond moving: secondary metrics, the dead-push warning and its reason,
// reachable squares, undo-all / redo-all, and copying the level or the moves (OSC 52).

import Foundation
import Testing

@testable import Sokoban

@Suite struct PlayerFeatureTests {
    /// Two boxes; goals at the right end of the first two rows.
    let twoBoxes = try! level("########\n#@$   .#\n#  $  .#\n#      #\n########")

    @Test func boxLinesChangesAndSessionsCountAsTheOtherPlayersDo() throws {
        // R R (one line) · l r (moves) · R (the same box, the same way, but after moves: a new
        // line and a new session) · l · D (another box: a change, a line, a session).
        let game = try LURD.verify("RRlrRlD", on: twoBoxes, requireSolved: false)
        #expect(
            PushMetrics(of: game) == PushMetrics(boxLines: 3, boxChanges: 2, pushingSessions: 3))
        #expect(PushMetrics(of: Game(level: twoBoxes)) == PushMetrics())
    }

    @Test func aDeadPushIsNamedWithItsReason() throws {
        // Into the top-left corner: a dead square.
        let row = try level("#######\n#@$  .#\n#     #\n#######")
        let cornered = try LURD.verify("drruL", on: row, requireSolved: false)
        #expect(
            DeadPushReason.after(cornered, pushedTo: 8, detector: DeadlockDetector(level: row))
                == .deadSquare)
        // Two boxes side by side under the wall: frozen, one off its goal.
        let pair = try level("#######\n#@$ $.#\n#     #\n#    .#\n#######")
        let frozen = try LURD.verify("R", on: pair, requireSolved: false)
        #expect(
            DeadPushReason.after(frozen, pushedTo: 10, detector: DeadlockDetector(level: pair))
                == .frozenBoxes)
        // A push towards the goal is not dead.
        let fine = try LURD.verify("R", on: row, requireSolved: false)
        #expect(
            DeadPushReason.after(fine, pushedTo: 10, detector: DeadlockDetector(level: row)) == nil)
        // (A position only a search can prove dead is left to the solver's own tests.)
    }

    @Test func reachableSquaresStopAtBoxes() throws {
        let corridor = try level("########\n#@ $  .#\n########")
        let reach = Game(level: corridor).reachableSquares
        #expect(reach.indices.filter { reach[$0] } == [9, 10])
        let open = Game(level: twoBoxes).reachableSquares
        let floor = twoBoxes.squares.indices.filter { twoBoxes.squares[$0] == .floor }
        #expect(open.filter { $0 }.count == floor.count - 2)
    }

    /// Through a pseudo-terminal: the warning, undo all / redo all, reach, and the copy.
    @Test func theFeaturesThroughAPseudoTerminal() throws {
        let row = try level("#######\n#@$  .#\n#     #\n#######")
        let pty = try PseudoTerminal(columns: 140, rows: 30)
        let player = try TerminalPlayer(
            collection: LevelCollection(levels: [row]), options: .onPseudoTerminal("row"),
            input: pty.slave, output: pty.slave)
        let session = PlayerSession(player)
        try pty.expect("box lines 0 · box changes 0 · pushing sessions 0 · 0:0")
        pty.send(".")
        try pty.expect("##@ $ : : . ##")
        pty.send(".sddwa")  // down, right, right, up, then left: the box into the corner
        try pty.expect("box lines 1 · box changes 1 · pushing sessions 1")
        try pty.expect("dead end: that box is on a dead square: it can never reach a goal")
        pty.send("<")
        try pty.expect("Moves 0   Pushes 0")
        pty.send(">")
        try pty.expect("Moves 5   Pushes 1")
        pty.send("Y")
        try pty.expect(
            "\u{1B}]52;c;" + Data("drruL".utf8).base64EncodedString() + "\u{07}", raw: true)
        pty.send("y")
        try pty.expect("copied the level 1")
        pty.send("q")
        #expect(session.wait() == .quit)
        #expect(player.copied.map(\.text) == ["drruL", row.xsb()])
    }
}
