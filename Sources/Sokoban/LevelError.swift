// The typed error for a level that cannot be read: which level, where, and what is wrong.
import Core

/// A problem in a level file or board, located by level number (1-based), line and column.
public struct LevelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public enum Problem: Sendable, Equatable {
        case unknownCharacter(Character)
        case noPlayer
        case severalPlayers(Int)
        case boxGoalMismatch(boxes: Int, goals: Int)
        case noBoxes
        case openToOutside
        case tooLarge(width: Int, height: Int, limit: Int)
        case outsidePlayerRegion(String)
        case malformed(String)
        case noLevels
        case levelIndex(requested: Int, available: Int)
    }

    /// The level's position in its file, 1-based (0 when the problem concerns the whole file).
    public var level: Int
    /// The line in the file, 1-based (0 if not applicable).
    public var line: Int
    /// The column, 1-based (0 if not applicable).
    public var column: Int
    /// The level's title, if known.
    public var title: String?
    /// The file the level came from, when it was read from one.
    public var file: String?
    /// What is wrong.
    public var problem: Problem

    /// An error at a place in a file (0 for a part that does not apply).
    public init(
        level: Int, line: Int, column: Int, title: String? = nil, file: String? = nil,
        problem: Problem
    ) {
        self.file = file
        self.level = level
        self.line = line
        self.column = column
        self.title = title
        self.problem = problem
    }

    public var description: String {
        var place = file ?? ""
        if level > 0 {
            place += (place.isEmpty ? "" : ": ") + "level \(level)"
            if let title, !title.isEmpty { place += " (\(title))" }
        }
        if line > 0 {
            place += (place.isEmpty ? "" : ", ") + "line \(line)"
            if column > 0 { place += ", column \(column)" }
        }
        let what: String
        switch problem {
        case .unknownCharacter(let ch):
            let scalar = ch.unicodeScalars.first.map { String($0.value, radix: 16) } ?? "?"
            what = "unknown character '\(ch)' (U+\(scalar))"
        case .noPlayer: what = "no player (@ or +)"
        case .severalPlayers(let n): what = "\(n) players; a level has exactly one"
        case .boxGoalMismatch(let b, let g): what = "\(b) boxes but \(g) goals"
        case .noBoxes: what = "no boxes"
        case .openToOutside: what = "the player's region is open to the outside (a wall is missing)"
        case .tooLarge(let w, let h, let limit):
            what = "board is \(w)x\(h); the limit is \(limit)x\(limit)"
        case .outsidePlayerRegion(let thing):
            what = "\(thing) on the board's edge, outside the walls"
        case .malformed(let text): what = text
        case .noLevels: what = "no levels found"
        case .levelIndex(let n, let available):
            what = "level \(n) requested but the collection has \(available)"
        }
        return TerminalText.escaped(place.isEmpty ? what : "\(place): \(what)")
    }
}
