// The rules: moves and pushes, counters, unlimited undo and redo, solved detection.

/// What a step did.
public enum StepOutcome: Sendable, Equatable {
    /// The player walked onto an empty square.
    case moved
    /// The player pushed a box from `from` one square on.
    case pushed(from: Int)
    /// A wall, or a box that cannot move, is in the way; nothing changed.
    case blocked
}

/// A game in progress on one level: the current position plus the history for undo and redo.
public struct Game: Sendable {
    /// One step taken, enough to undo it.
    struct Step: Sendable {
        var direction: Direction
        var pushed: Bool
    }

    /// The level being played (its start position never changes).
    public let level: Level
    /// `true` where a box currently stands.
    public private(set) var hasBox: [Bool]
    /// The player's square.
    public private(set) var player: Int
    /// Steps taken (moves, pushes included).
    public private(set) var moves = 0
    /// Pushes taken.
    public private(set) var pushes = 0
    /// Boxes currently on goals.
    public private(set) var boxesOnGoals = 0
    private var history: [Step] = []
    private var future: [Step] = []

    /// A new game at the level's start.
    public init(level: Level) {
        self.level = level
        hasBox = [Bool](repeating: false, count: level.squares.count)
        for b in level.boxes { hasBox[b] = true }
        player = level.player
        boxesOnGoals = level.boxes.filter { level.isGoal[$0] }.count
    }

    /// Box squares, ascending.
    public var boxes: [Int] { hasBox.indices.filter { hasBox[$0] } }
    /// `true` when every box is on a goal.
    public var isSolved: Bool { boxesOnGoals == level.boxCount }
    /// Whether `undo()` would do anything.
    public var canUndo: Bool { !history.isEmpty }
    /// Whether `redo()` would do anything.
    public var canRedo: Bool { !future.isEmpty }
    /// The steps taken so far in LURD (uppercase letters are pushes).
    public var lurd: String {
        String(
            history.map {
                $0.pushed ? Character($0.direction.letter.uppercased()) : $0.direction.letter
            })
    }

    private func isFloor(_ i: Int) -> Bool { level.squares[i] == .floor }

    /// Tries to step in `direction`; clears the redo list when something changes.
    @discardableResult
    public mutating func step(_ direction: Direction) -> StepOutcome {
        let outcome = apply(direction)
        if outcome != .blocked { future.removeAll() }
        return outcome
    }

    private mutating func apply(_ direction: Direction) -> StepOutcome {
        let d = direction.offset(width: level.width)
        let next = player + d
        guard isFloor(next) else { return .blocked }
        if hasBox[next] {
            let beyond = next + d
            guard isFloor(beyond) && !hasBox[beyond] else { return .blocked }
            hasBox[next] = false
            hasBox[beyond] = true
            if level.isGoal[next] { boxesOnGoals -= 1 }
            if level.isGoal[beyond] { boxesOnGoals += 1 }
            player = next
            moves += 1
            pushes += 1
            history.append(Step(direction: direction, pushed: true))
            return .pushed(from: next)
        }
        player = next
        moves += 1
        history.append(Step(direction: direction, pushed: false))
        return .moved
    }

    /// Takes back the last step. Returns false if there is none.
    @discardableResult
    public mutating func undo() -> Bool {
        guard let last = history.popLast() else { return false }
        let d = last.direction.offset(width: level.width)
        if last.pushed {
            let box = player + d
            hasBox[box] = false
            hasBox[player] = true
            if level.isGoal[box] { boxesOnGoals -= 1 }
            if level.isGoal[player] { boxesOnGoals += 1 }
            pushes -= 1
        }
        player -= d
        moves -= 1
        future.append(last)
        return true
    }

    /// Replays the last undone step. Returns false if there is none.
    @discardableResult
    public mutating func redo() -> Bool {
        guard let next = future.popLast() else { return false }
        let outcome = apply(next.direction)
        precondition(outcome != .blocked, "redo of a step that no longer applies")
        return true
    }

    /// Back to the start; the undone steps can be redone.
    public mutating func restart() {
        while undo() {}
    }
}
