// Deadlock soundness by exhaustive search, and the solver's optimality against the same search.

import Testing

@testable import Sokoban

/// Small levels whose whole state space fits in a test.
let smallLevels = [
    "#######\n#.   .#\n# $$  #\n#  @  #\n#######",
    "######\n#    #\n# $$ #\n#.@ .#\n######",
    "#######\n#.  # #\n# #$  #\n#  @$.#\n# $ # #\n#.    #\n#######",
    "#######\n#  .  #\n# $$$ #\n#. @ .#\n#######",
    "######\n#.   #\n#.$$ #\n# $@ #\n#.   #\n######",
    "#######\n##   ##\n#. $ .#\n# $@$ #\n#  .  #\n#######",
    "########\n#  .   #\n# $ #$ #\n#. $@ .#\n########",
    "######\n#.  .#\n# $$ #\n#  @ #\n# $ .#\n######",
]

@Suite struct DeadlockSolverTests {
    @Test func deadSquares() throws {
        let l = try level("#######\n#.    #\n# $   #\n#    @#\n#######")
        let d = DeadlockDetector(level: l)
        // Corners without goals are dead; the goal's own wall row is alive.
        #expect(d.isDeadSquare[1 * 7 + 5])  // top-right corner
        #expect(d.isDeadSquare[3 * 7 + 1])  // bottom-left corner
        #expect(d.isDeadSquare[3 * 7 + 3])  // bottom wall row: no goal along it
        #expect(!d.isDeadSquare[1 * 7 + 3])  // top wall row holds the goal
        #expect(!d.isDeadSquare[2 * 7 + 2])
        #expect(d.distance(from: 2 * 7 + 2, toGoal: 0) == 2)
    }

    @Test func freezeAndBlocks() throws {
        // Two boxes side by side against a wall, off goals: frozen.
        let l = try level("#######\n# $$  #\n#  ..@#\n#######")
        let d = DeadlockDetector(level: l)
        var hasBox = [Bool](repeating: false, count: l.squares.count)
        for b in l.boxes { hasBox[b] = true }
        #expect(d.isFreezeDeadlock(at: 9, hasBox: hasBox))
        #expect(d.isDeadlocked(boxes: l.boxes))
        // The same pair on goals is no deadlock.
        let onGoals = try level("#######\n# **  #\n#    @#\n#######")
        var h2 = [Bool](repeating: false, count: onGoals.squares.count)
        for b in onGoals.boxes { h2[b] = true }
        #expect(!DeadlockDetector(level: onGoals).isFreezeDeadlock(at: 9, hasBox: h2))
        // A 2x2 block of boxes in open floor.
        let block = try level("########\n#      #\n# $$   #\n# $$ @ #\n#  ....#\n########")
        var h3 = [Bool](repeating: false, count: block.squares.count)
        for b in block.boxes { h3[b] = true }
        let bd = DeadlockDetector(level: block)
        #expect(bd.isBlock2x2(at: block.boxes[0], hasBox: h3))
        #expect(!bd.isDeadSquare[block.boxes[0]])
        // A lone box in the open is neither.
        let open = try level("#######\n#     #\n#  $  #\n# .  @#\n#######")
        var h4 = [Bool](repeating: false, count: open.squares.count)
        for b in open.boxes { h4[b] = true }
        let od = DeadlockDetector(level: open)
        #expect(!od.isFreezeDeadlock(at: open.boxes[0], hasBox: h4))
        #expect(!od.isBlock2x2(at: open.boxes[0], hasBox: h4))
    }

    /// Every position reachable in the small levels that the detector calls dead is unsolvable.
    @Test(arguments: smallLevels) func deadlockDetectionIsSound(rows: String) throws {
        let l = try level(rows)
        let space = StateSpace(level: l)
        let detector = DeadlockDetector(level: l)
        var flagged = 0
        for (i, s) in space.states.enumerated() where detector.isDeadlocked(boxes: s.boxes) {
            flagged += 1
            #expect(!space.solvable[i], "flagged dead but solvable: \(s)")
        }
        // The check must also find something, or the test proves little.
        #expect(flagged > 0)
        #expect(space.solvable[0])
    }

    /// The solver's push count equals the exhaustive search's minimum, and its solution plays.
    @Test(arguments: smallLevels) func solverIsPushOptimal(rows: String) throws {
        let l = try level(rows)
        let space = StateSpace(level: l)
        let result = Solver.solve(l)
        #expect(result.status == .solved)
        #expect(result.pushes == space.pushesToSolve[0])
        let game = try LURD.verify(result.solution ?? "", on: l)
        #expect(game.pushes == result.pushes && game.moves == result.moves)
    }

    /// With `minimizeMoves`, the solution also has the fewest moves among push-optimal ones.
    @Test(arguments: smallLevels) func solverMinimizesMovesSecond(rows: String) throws {
        let l = try level(rows)
        let space = StateSpace(level: l)
        let plain = Solver.solve(l)
        let result = Solver.solve(l, options: SolverOptions(minimizeMoves: true))
        #expect(result.status == .solved)
        #expect(result.pushes == space.pushesToSolve[0])
        #expect(result.moves == space.movesToSolve[0])
        #expect(result.moves <= plain.moves)
        let game = try LURD.verify(result.solution ?? "", on: l)
        #expect(game.moves == result.moves)
    }

    @Test func solverFromAMidGamePosition() throws {
        let l = try level(smallLevels[0])
        let space = StateSpace(level: l)
        // Pick solvable positions with pushes already made and check optimality from there.
        var checked = 0
        for (i, s) in space.states.enumerated() where space.solvable[i] && i % 97 == 5 {
            let r = Solver.solve(l, boxes: s.boxes, player: s.player)
            #expect(r.status == .solved && r.pushes == space.pushesToSolve[i])
            checked += 1
        }
        #expect(checked > 3)
    }

    @Test func unsolvableAndLimits() throws {
        // A box in a corner off goal: unsolvable at once.
        let stuck = try level("######\n#$  .#\n#   @#\n######")
        #expect(Solver.solve(stuck).status == .unsolvable)
        // Unsolvable only after search: two boxes that must share one lane.
        let lane = try level("#########\n#@$ $ ..#\n#########")
        let r = Solver.solve(lane)
        #expect(r.status == .unsolvable)
        let l = try level(smallLevels[3])
        #expect(Solver.solve(l, options: SolverOptions(nodeLimit: 3)).status == .nodeLimit)
    }

    @Test func hungarianMatchesBruteForce() {
        var rng = TestRNG(seed: 3)
        var h = Hungarian(capacity: 6)
        for n in 1...6 {
            for _ in 0..<20 {
                var cost = [[Int]](repeating: [Int](repeating: 0, count: n), count: n)
                for i in 0..<n { for j in 0..<n { cost[i][j] = Int(rng.next() % 20) } }
                if n > 1 && rng.next() % 3 == 0 {
                    cost[0][0] = 1000
                    cost[1][1] = 1000
                }
                var best = Int.max
                func permute(_ row: Int, _ used: inout [Bool], _ sum: Int) {
                    if row == n {
                        best = min(best, sum)
                        return
                    }
                    for j in 0..<n where !used[j] {
                        used[j] = true
                        permute(row + 1, &used, sum + min(cost[row][j], 1000))
                        used[j] = false
                    }
                }
                var used = [Bool](repeating: false, count: n)
                permute(0, &used, 0)
                let got = h.minimumCost(n: n, infinity: 1000) { cost[$0][$1] }
                #expect(got == (best >= 1000 ? 1000 : best))
            }
        }
    }
}
