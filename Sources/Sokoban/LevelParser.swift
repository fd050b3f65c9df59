// Reads XSB/SOK level collections: boards, titles and notes, Boxoban headers, run-length rows.

import Foundation

/// A file of levels with the notes that precede the first board.
public struct LevelCollection: Sendable {
    /// `Key: value` notes before the first board (for example the collection's `Title:`).
    public var notes: [(key: String, value: String)]
    /// The levels in file order.
    public var levels: [Level]

    /// A collection built in memory (for example of generated levels).
    public init(notes: [(key: String, value: String)] = [], levels: [Level]) {
        self.notes = notes
        self.levels = levels
    }

    /// The largest file read, in bytes.
    public static let maxFileBytes = 64 << 20

    /// Parses a collection from text. Throws `LevelError` for the first bad level.
    public init(text: String) throws {
        var notes: [(key: String, value: String)] = []
        levels = try LevelParser.parse(text: text, allowEmpty: false, collectionNotes: &notes)
        self.notes = notes
    }

    /// Reads a collection from a file.
    public init(path: String) throws {
        let url = URL(fileURLWithPath: path)
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if let size = attributes?[.size] as? Int, size > Self.maxFileBytes {
            throw LevelError(
                level: 0, line: 0, column: 0,
                problem: .malformed("\(path) is \(size) bytes; the limit is \(Self.maxFileBytes)"))
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw LevelError(
                level: 0, line: 0, column: 0,
                problem: .malformed("cannot read \(path): \(error.localizedDescription)"))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw LevelError(
                level: 0, line: 0, column: 0,
                problem: .malformed("\(path) is not UTF-8 text"))
        }
        try self.init(text: text)
    }

    /// The collection's title note, if any.
    public var title: String? { notes.first { $0.key.lowercased() == "title" }?.value }

    /// The level with 1-based number `n`, or a `LevelError` saying how many there are.
    public func level(_ n: Int) throws -> Level {
        guard n >= 1 && n <= levels.count else {
            throw LevelError(
                level: 0, line: 0, column: 0,
                problem: .levelIndex(requested: n, available: levels.count))
        }
        return levels[n - 1]
    }
}

/// The parser behind `LevelCollection` and `Level(rows:)`.
enum LevelParser {
    /// Characters allowed on a board row (after run-length expansion).
    static let boardCharacters: Set<Character> = ["#", "@", "+", "$", "*", ".", " ", "-", "_"]
    /// Keys recognised as `Key: value` notes.
    static let noteKeys: Set<String> = [
        "title", "author", "comment", "solution", "seed", "pushes", "moves", "collection",
        "date", "email", "homepage", "difficulty", "set", "source", "url", "copyright",
    ]

    /// One board character with where it came from in the file.
    struct Cell {
        var character: Character
        var line: Int
        var column: Int
    }

    static func parse(text: String, allowEmpty: Bool) throws -> [Level] {
        var ignored: [(key: String, value: String)] = []
        return try parse(text: text, allowEmpty: allowEmpty, collectionNotes: &ignored)
    }

    static func parse(
        text: String, allowEmpty: Bool, collectionNotes: inout [(key: String, value: String)]
    ) throws -> [Level] {
        var levels: [Level] = []
        var board: [[Cell]] = []
        var boardLine = 0
        var pendingTitle: String?
        var lineNumber = 0

        func finishBoard() throws {
            guard !board.isEmpty else { return }
            let level = try build(
                rows: board, number: levels.count + 1, firstLine: boardLine, title: pendingTitle)
            levels.append(level)
            board = []
            pendingTitle = nil
        }

        // A byte-order mark is not part of the first line.
        let text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        // "\r\n" is one Character in Swift, so both line ends are separators.
        for rawLine in text.split(
            omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        {
            lineNumber += 1
            var line = String(rawLine)
            if line.hasSuffix("\r") { line.removeLast() }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if isBoardLine(line) {
                if board.isEmpty { boardLine = lineNumber }
                board += try expand(
                    line: line, lineNumber: lineNumber, level: levels.count + 1,
                    title: pendingTitle)
                continue
            }
            try finishBoard()
            if trimmed.isEmpty || trimmed.hasPrefix("::") { continue }
            if trimmed.hasPrefix(";") {
                pendingTitle = String(trimmed.dropFirst()).trimmingCharacters(in: .whitespaces)
                continue
            }
            if let colon = trimmed.firstIndex(of: ":") {
                let key = trimmed[..<colon].trimmingCharacters(in: .whitespaces)
                if noteKeys.contains(key.lowercased()) {
                    let value = trimmed[trimmed.index(after: colon)...]
                        .trimmingCharacters(in: .whitespaces)
                    if levels.isEmpty {
                        collectionNotes.append((key, value))
                    } else {
                        switch key.lowercased() {
                        case "title": levels[levels.count - 1].title = value
                        case "author": levels[levels.count - 1].author = value
                        default: levels[levels.count - 1].notes.append((key, value))
                        }
                    }
                    continue
                }
            }
            pendingTitle = trimmed
        }
        try finishBoard()
        if levels.isEmpty && !allowEmpty {
            throw LevelError(level: 0, line: 0, column: 0, problem: .noLevels)
        }
        return levels
    }

    /// A board row starts (after indentation) with a board character or a run-length count and
    /// holds at least one wall.
    static func isBoardLine(_ line: String) -> Bool {
        guard let first = line.first(where: { $0 != " " && $0 != "\t" }) else { return false }
        guard first.isASCII && (boardCharacters.contains(first) || first.isNumber) else {
            return false
        }
        return line.contains("#")
    }

    /// Expands run-length counts (`4#`) and `|` row separators into rows of located cells.
    static func expand(line: String, lineNumber: Int, level: Int, title: String?) throws -> [[Cell]]
    {
        var rows: [[Cell]] = [[]]
        var count = 0
        var column = 0
        for ch in line {
            column += 1
            if ch.isASCII, let digit = ch.wholeNumberValue {
                count = count * 10 + digit
                if count > Level.maxSide {
                    throw LevelError(
                        level: level, line: lineNumber, column: column, title: title,
                        problem: .tooLarge(width: count, height: 0, limit: Level.maxSide))
                }
                continue
            }
            if ch == "|" {
                rows.append([])
                count = 0
                continue
            }
            let cell = ch == "\t" ? " " : ch
            guard boardCharacters.contains(cell) else {
                throw LevelError(
                    level: level, line: lineNumber, column: column, title: title,
                    problem: .unknownCharacter(ch))
            }
            for _ in 0..<max(count, 1) {
                rows[rows.count - 1].append(Cell(character: cell, line: lineNumber, column: column))
            }
            count = 0
        }
        return rows
    }

    /// Validates a board and builds its level.
    static func build(rows: [[Cell]], number: Int, firstLine: Int, title: String?) throws -> Level {
        func fail(_ line: Int, _ column: Int, _ problem: LevelError.Problem) -> LevelError {
            LevelError(level: number, line: line, column: column, title: title, problem: problem)
        }
        // Trailing spaces are outside; drop them so they do not widen the board.
        let rows = rows.map { row -> [Cell] in
            var row = row
            while let last = row.last,
                last.character == " " || last.character == "-"
                    || last.character == "_"
            { row.removeLast() }
            return row
        }
        let height = rows.count
        let width = rows.map(\.count).max() ?? 0
        if width > Level.maxSide || height > Level.maxSide {
            throw fail(firstLine, 0, .tooLarge(width: width, height: height, limit: Level.maxSide))
        }
        var chars = [Character](repeating: " ", count: width * height)
        var located = [(line: Int, column: Int)](repeating: (0, 0), count: width * height)
        var players: [Int] = []
        for (r, row) in rows.enumerated() {
            for (c, cell) in row.enumerated() {
                let i = r * width + c
                chars[i] = cell.character
                located[i] = (cell.line, cell.column)
                if cell.character == "@" || cell.character == "+" { players.append(i) }
            }
            for c in row.count..<width {
                located[r * width + c] = (firstLine + r, 0)
            }
        }
        guard let player = players.first else { throw fail(firstLine, 0, .noPlayer) }
        if players.count > 1 {
            let at = located[players[1]]
            throw fail(at.line, at.column, .severalPlayers(players.count))
        }
        // The player's region: every non-wall square reachable from the player.
        var inside = [Bool](repeating: false, count: width * height)
        var stack = [player]
        inside[player] = true
        while let i = stack.popLast() {
            let r = i / width
            let c = i % width
            if r == 0 || c == 0 || r == height - 1 || c == width - 1 {
                let at = located[i]
                throw fail(at.line, at.column, .openToOutside)
            }
            for n in [i - 1, i + 1, i - width, i + width] where !inside[n] && chars[n] != "#" {
                inside[n] = true
                stack.append(n)
            }
        }
        var squares = [Square](repeating: .outside, count: width * height)
        var isGoal = [Bool](repeating: false, count: width * height)
        var boxes: [Int] = []
        var goalCount = 0
        for i in 0..<(width * height) {
            let ch = chars[i]
            if ch == "#" {
                squares[i] = .wall
                continue
            }
            let box = ch == "$" || ch == "*"
            let goal = ch == "." || ch == "*" || ch == "+"
            if inside[i] {
                squares[i] = .floor
            } else if box || goal {
                let at = located[i]
                throw fail(at.line, at.column, .outsidePlayerRegion(box ? "a box" : "a goal"))
            }
            if box { boxes.append(i) }
            if goal {
                isGoal[i] = true
                goalCount += 1
            }
        }
        if boxes.isEmpty { throw fail(firstLine, 0, .noBoxes) }
        if boxes.count != goalCount {
            throw fail(firstLine, 0, .boxGoalMismatch(boxes: boxes.count, goals: goalCount))
        }
        return Level(
            title: title, author: nil, notes: [], width: width, height: height, squares: squares,
            isGoal: isGoal, boxes: boxes, player: player)
    }
}
