// LURD solutions: parsing, verifying against a level, and the error for a bad one.

/// Why a LURD string is not a solution of a level.
public struct SolutionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong with the solution.
    public enum Problem: Sendable, Equatable {
        /// A character other than l, u, r, d (either case) or whitespace.
        case unknownCharacter(Character)
        /// The step is blocked by a wall or an immovable box.
        case blocked
        /// Lowercase (a move) but the step pushes a box, or uppercase but it pushes nothing.
        case caseMismatch(expectedPush: Bool)
        /// All steps apply but boxes remain off goals.
        case notSolved(boxesOffGoals: Int)
    }

    /// 1-based position of the offending step (0 for `notSolved`).
    public var step: Int
    /// What is wrong.
    public var problem: Problem

    public var description: String {
        switch problem {
        case .unknownCharacter(let ch): "step \(step): unknown character '\(ch)'"
        case .blocked: "step \(step): the way is blocked"
        case .caseMismatch(let push):
            push
                ? "step \(step): this step pushes a box, so it must be uppercase"
                : "step \(step): uppercase means a push but no box is pushed"
        case .notSolved(let n): "the moves end with \(n) box(es) off goals"
        }
    }
}

/// LURD notation: `l u r d` for moves, `L U R D` for pushes.
public enum LURD {
    /// Parses a LURD string into directions, ignoring whitespace. Case is not checked here.
    public static func parse(_ text: String) throws -> [(direction: Direction, push: Bool)] {
        var steps: [(Direction, Bool)] = []
        for ch in text where !ch.isWhitespace {
            guard let d = Direction(letter: ch) else {
                throw SolutionError(step: steps.count + 1, problem: .unknownCharacter(ch))
            }
            steps.append((d, ch.isUppercase))
        }
        return steps
    }

    /// Plays `text` on `level`, checking each step's case, and returns the finished game.
    /// With `requireSolved`, throws unless every box ends on a goal.
    @discardableResult
    public static func verify(
        _ text: String, on level: Level, requireSolved: Bool = true,
        strictCase: Bool = true
    ) throws -> Game {
        var game = Game(level: level)
        for (n, step) in try parse(text).enumerated() {
            switch game.step(step.direction) {
            case .blocked:
                throw SolutionError(step: n + 1, problem: .blocked)
            case .moved where strictCase && step.push:
                throw SolutionError(step: n + 1, problem: .caseMismatch(expectedPush: false))
            case .pushed where strictCase && !step.push:
                throw SolutionError(step: n + 1, problem: .caseMismatch(expectedPush: true))
            default: break
            }
        }
        if requireSolved && !game.isSolved {
            throw SolutionError(
                step: 0, problem: .notSolved(boxesOffGoals: level.boxCount - game.boxesOnGoals))
        }
        return game
    }
}
