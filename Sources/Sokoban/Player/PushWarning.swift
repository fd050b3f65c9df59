// The player's warning after a push that makes the position unsolvable, with its reason, and the
// squares the player can reach without pushing.

/// Why the position after a push cannot be solved.
public enum DeadPushReason: Sendable, Equatable, CustomStringConvertible {
    /// The pushed box stands where no box can reach a goal from.
    case deadSquare
    /// Boxes that can no longer move, one of them off its goal.
    case frozenBoxes
    /// The solver proved it within its small budget.
    case provedBySearch

    public var description: String {
        switch self {
        case .deadSquare: return "that box is on a dead square: it can never reach a goal"
        case .frozenBoxes: return "frozen boxes: they can no longer move, one is off its goal"
        case .provedBySearch: return "no solution from here (proved by search)"
        }
    }

    /// The reason the position of `game` is dead after pushing a box onto `square`, or nil when
    /// the detectors and a search of at most `searchNodes` positions find none.
    public static func after(
        _ game: Game, pushedTo square: Int, detector: DeadlockDetector, searchNodes: Int = 20_000
    ) -> DeadPushReason? {
        if game.isSolved { return nil }
        if detector.isDeadSquare[square] { return .deadSquare }
        if detector.isBlock2x2(at: square, hasBox: game.hasBox)
            || detector.isFreezeDeadlock(at: square, hasBox: game.hasBox)
        {
            return .frozenBoxes
        }
        guard searchNodes > 0 else { return nil }
        let result = Solver.solve(
            game.level, boxes: game.boxes, player: game.player,
            options: SolverOptions(timeLimit: 0.05, nodeLimit: searchNodes))
        return result.status == .unsolvable ? .provedBySearch : nil
    }
}

extension Game {
    /// The squares the player can walk to without pushing a box.
    public var reachableSquares: [Bool] {
        var seen = [Bool](repeating: false, count: level.squares.count)
        var stack = [player]
        seen[player] = true
        while let s = stack.popLast() {
            for d in Direction.allCases {
                let n = s + d.offset(width: level.width)
                guard n >= 0, n < seen.count, !seen[n], level.squares[n] == .floor, !hasBox[n]
                else { continue }
                seen[n] = true
                stack.append(n)
            }
        }
        return seen
    }
}
