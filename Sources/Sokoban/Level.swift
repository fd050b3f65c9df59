// A Sokoban level: the static board (walls, floor, goals, outside), the starting boxes and player.

/// One square of a level's static board.
public enum Square: UInt8, Sendable {
    /// Beyond the walls: not part of the playing area (irregular outlines leave some of these).
    case outside = 0
    /// A wall.
    case wall = 1
    /// Floor inside the player's region.
    case floor = 2
}

/// A validated Sokoban level. Squares are addressed by a flat index `row * width + column`.
///
/// Invariants (checked by `Level.init(validating:...)` and the parser): exactly one player, as many
/// goals as boxes and at least one box, every box, goal and the player on floor inside one region
/// closed by walls, and a size within `Level.maxSide`.
public struct Level: Sendable, Equatable {
    /// The largest width or height accepted, in squares.
    public static let maxSide = 64

    /// The title (from a `Title:` note, a `; N` header or a text line before the board), if any.
    public var title: String?
    /// The author from an `Author:` note, if any.
    public var author: String?
    /// Other `Key: value` notes kept in file order (for example `Solution: ...`).
    public var notes: [(key: String, value: String)]

    /// Board size in squares (rows are padded to the widest with outside squares).
    public let width: Int
    public let height: Int
    /// The static board, `width * height` squares.
    public let squares: [Square]
    /// `true` where a goal is.
    public let isGoal: [Bool]
    /// Box squares at the start, ascending.
    public let boxes: [Int]
    /// The player's square at the start.
    public let player: Int

    /// Goal squares, ascending.
    public var goals: [Int] { isGoal.indices.filter { isGoal[$0] } }
    /// The number of boxes (equal to the number of goals).
    public var boxCount: Int { boxes.count }

    public static func == (a: Level, b: Level) -> Bool {
        a.width == b.width && a.height == b.height && a.squares == b.squares
            && a.isGoal == b.isGoal && a.boxes == b.boxes && a.player == b.player
            && a.title == b.title && a.author == b.author
            && a.notes.map { "\($0.key)\u{0}\($0.value)" }
                == b.notes.map { "\($0.key)\u{0}\($0.value)" }
    }

    /// Builds a level from rows of XSB characters (`#@+$*.` and space, `-` or `_` for floor).
    /// Throws a `LevelError` naming the row and column of the first problem.
    public init(rows: [String], title: String? = nil) throws {
        let parsed = LevelParser.parse(text: rows.joined(separator: "\n"))
        if let error = parsed.skipped.first { throw error }
        guard parsed.levels.count == 1 else {
            throw LevelError(
                level: 1, line: 1, column: 1, title: title,
                problem: parsed.levels.isEmpty
                    ? .noLevels : .malformed("expected one board, found \(parsed.levels.count)"))
        }
        var level = parsed.levels[0]
        if let title { level.title = title }
        self = level
    }

    /// Internal memberwise initializer used once the parser has validated everything.
    init(
        title: String?, author: String?, notes: [(key: String, value: String)], width: Int,
        height: Int, squares: [Square], isGoal: [Bool], boxes: [Int], player: Int
    ) {
        self.title = title
        self.author = author
        self.notes = notes
        self.width = width
        self.height = height
        self.squares = squares
        self.isGoal = isGoal
        self.boxes = boxes
        self.player = player
    }

    /// Row and column of a square index.
    @inlinable public func position(of square: Int) -> (row: Int, column: Int) {
        (square / width, square % width)
    }

    /// The value of the first note with this key (case-insensitive), if any.
    public func note(_ key: String) -> String? {
        notes.first { $0.key.lowercased() == key.lowercased() }?.value
    }

    /// The board as XSB rows (trailing outside squares trimmed; inner outside squares as spaces).
    public func rows(boxes: [Int]? = nil, player: Int? = nil) -> [String] {
        let boxSet = Set(boxes ?? self.boxes)
        let who = player ?? self.player
        var out: [String] = []
        for r in 0..<height {
            var line = ""
            for c in 0..<width {
                let i = r * width + c
                switch squares[i] {
                case .outside: line.append(" ")
                case .wall: line.append("#")
                case .floor:
                    let goal = isGoal[i]
                    if i == who {
                        line.append(goal ? "+" : "@")
                    } else if boxSet.contains(i) {
                        line.append(goal ? "*" : "$")
                    } else {
                        line.append(goal ? "." : " ")
                    }
                }
            }
            while line.last == " " { line.removeLast() }
            out.append(line)
        }
        return out
    }
}
