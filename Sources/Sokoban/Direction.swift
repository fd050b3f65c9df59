// The four directions, their LURD letters and their square offsets.

/// A direction of movement. The raw values are the RL environment's action numbers
/// (gym-sokoban's order: up, down, left, right).
public enum Direction: Int, CaseIterable, Sendable {
    case up = 0
    case down, left, right

    /// The lowercase LURD letter for a move; a push is the uppercase letter.
    public var letter: Character {
        switch self {
        case .up: "u"
        case .down: "d"
        case .left: "l"
        case .right: "r"
        }
    }

    /// The direction for a LURD letter (either case), or nil.
    public init?(letter: Character) {
        switch letter {
        case "u", "U": self = .up
        case "d", "D": self = .down
        case "l", "L": self = .left
        case "r", "R": self = .right
        default: return nil
        }
    }

    /// The opposite direction.
    public var reversed: Direction {
        switch self {
        case .up: .down
        case .down: .up
        case .left: .right
        case .right: .left
        }
    }

    /// The change in flat square index for a board `width` squares wide.
    @inlinable public func offset(width: Int) -> Int {
        switch self {
        case .up: -width
        case .down: width
        case .left: -1
        case .right: 1
        }
    }
}
