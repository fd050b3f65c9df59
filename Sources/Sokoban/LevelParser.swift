// Reads XSB/SOK level collections: boards, titles and notes, Boxoban headers, run-length rows.

import Foundation

/// A file of levels with the notes that precede the first board.
public struct LevelCollection: Sendable {
    /// `Key: value` notes before the first board (for example the collection's `Title:`).
    public var notes: [(key: String, value: String)]
    /// The levels in file order (the boards the parser refused are left out; see `skipped`).
    public var levels: [Level]
    /// The boards that were refused, each with its place in the file and what is wrong, so a
    /// collection with one bad level still loads the rest.
    public var skipped: [LevelError] = []

    /// A collection built in memory (for example of generated levels).
    public init(notes: [(key: String, value: String)] = [], levels: [Level]) {
        self.notes = notes
        self.levels = levels
    }

    /// The largest file read, in bytes.
    public static let maxFileBytes = 64 << 20

    /// Parses a collection from text. Boards that are refused are listed in `skipped`; throws the
    /// first one's `LevelError` when no board is good, and `.noLevels` when there is none at all.
    public init(text: String) throws {
        var notes: [(key: String, value: String)] = []
        let parsed = LevelParser.parse(text: text, collectionNotes: &notes)
        if parsed.levels.isEmpty {
            throw parsed.skipped.first
                ?? LevelError(level: 0, line: 0, column: 0, problem: .noLevels)
        }
        levels = parsed.levels
        skipped = parsed.skipped
        self.notes = notes
    }

    /// Reads a collection from a file; every error names the file.
    public init(path: String) throws {
        func fail(_ text: String) -> LevelError {
            LevelError(level: 0, line: 0, column: 0, file: path, problem: .malformed(text))
        }
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT { throw fail("the level file does not exist") }
            throw fail("cannot read it: \(String(cString: strerror(errno)))")
        }
        if (status.st_mode & S_IFMT) == S_IFDIR { throw fail("is a directory, not a level file") }
        if (status.st_mode & S_IFMT) == S_IFREG && Int(status.st_size) > Self.maxFileBytes {
            throw fail("is \(status.st_size) bytes; the limit is \(Self.maxFileBytes)")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw fail("cannot read it: \(String(cString: strerror(errno)))")
        }
        defer { try? handle.close() }
        // Read one byte past the limit so a file that grows (or a device) is still bounded.
        let data: Data
        do { data = try handle.read(upToCount: Self.maxFileBytes + 1) ?? Data() } catch {
            throw fail("cannot read it: \(error.localizedDescription)")
        }
        if data.count > Self.maxFileBytes {
            throw fail("is over \(Self.maxFileBytes) bytes, the limit")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw fail("is not UTF-8 text")
        }
        do { try self.init(text: text) } catch var error as LevelError {
            error.file = path
            throw error
        }
        for i in skipped.indices { skipped[i].file = path }
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
    /// Whether a byte is a board character (`#@+$*.`, space, `-` or `_`), indexed by byte.
    static let isBoardByte: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for byte in "#@+$*. -_".utf8 { table[Int(byte)] = true }
        return table
    }()
    /// Keys recognised as `Key: value` notes.
    static let noteKeys: Set<String> = [
        "title", "author", "comment", "solution", "seed", "pushes", "moves", "collection",
        "date", "email", "homepage", "difficulty", "set", "source", "url", "copyright",
        "trail",
    ]

    /// One board character with where it came from in the file.
    struct Cell {
        var character: Character
        var line: Int
        var column: Int
    }

    /// The rows of the board being read. Cells are stored only while the board fits
    /// `Level.maxSide`; past it only the extent is counted, so an oversized board costs no memory
    /// and its error reports its true size.
    struct Board {
        var rows: [[Cell]] = []
        var firstLine = 0
        /// Rows seen, and the widest row (trailing blanks excluded), stored or not.
        var height = 0
        var width = 0
        var isEmpty: Bool { height == 0 }
        var tooLarge: Bool { width > Level.maxSide || height > Level.maxSide }
    }

    static func parse(text: String) -> (levels: [Level], skipped: [LevelError]) {
        var ignored: [(key: String, value: String)] = []
        return parse(text: text, collectionNotes: &ignored)
    }

    static func parse(
        text: String, collectionNotes: inout [(key: String, value: String)]
    ) -> (levels: [Level], skipped: [LevelError]) {
        var levels: [Level] = []
        var skipped: [LevelError] = []
        var board = Board()
        var boardError: LevelError?
        var boardsSeen = 0
        // Whether the notes that follow belong to a refused board (and are dropped with it).
        var lastBoardRefused = false
        var pendingTitle: String?
        var lineNumber = 0

        func finishBoard() {
            guard !board.isEmpty else { return }
            boardsSeen += 1
            do {
                if let boardError { throw boardError }
                levels.append(try build(board: board, number: boardsSeen, title: pendingTitle))
                lastBoardRefused = false
            } catch let error as LevelError {
                skipped.append(error)
                lastBoardRefused = true
            } catch {}
            board = Board()
            boardError = nil
            pendingTitle = nil
        }

        // A byte-order mark is not part of the first line.
        var text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        text.makeContiguousUTF8()
        // Lines end at "\n" bytes ("\r\n" loses its "\r" below); board lines are read as bytes,
        // so the time is linear in the file's size however long a line is.
        _ = text.utf8.withContiguousStorageIfAvailable { all in
            var start = 0
            while start <= all.count {
                let end: Int
                if start < all.count,
                    let hit = memchr(all.baseAddress! + start, 0x0A, all.count - start)
                {
                    end = UnsafeRawPointer(hit) - UnsafeRawPointer(all.baseAddress!)
                } else {
                    end = all.count
                }
                defer { start = end + 1 }
                lineNumber += 1
                var bytes = UnsafeBufferPointer(rebasing: all[start..<end])
                if bytes.last == 0x0D { bytes = UnsafeBufferPointer(rebasing: bytes.dropLast()) }
                if isBoardLine(bytes) {
                    if board.isEmpty { board.firstLine = lineNumber }
                    if boardError == nil {
                        do {
                            try expand(
                                line: bytes, lineNumber: lineNumber, level: boardsSeen + 1,
                                title: pendingTitle, into: &board)
                        } catch let error as LevelError {
                            boardError = error
                        } catch {}
                    } else {
                        board.height += 1
                    }
                    continue
                }
                let line = String(decoding: bytes, as: UTF8.self)
                finishBoard()
                let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
                if trimmed.isEmpty || trimmed.hasPrefix("::") { continue }
                if trimmed.hasPrefix(";") {
                    pendingTitle = String(trimmed.dropFirst()).trimmingCharacters(
                        in: .whitespacesAndNewlines)
                    continue
                }
                if let colon = trimmed.firstIndex(of: ":") {
                    let key = trimmed[..<colon].trimmingCharacters(in: .whitespacesAndNewlines)
                    if noteKeys.contains(key.lowercased()) {
                        let value = trimmed[trimmed.index(after: colon)...]
                            .trimmingCharacters(in: .whitespacesAndNewlines)
                        if boardsSeen == 0 {
                            collectionNotes.append((key, value))
                        } else if !lastBoardRefused {
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
        }
        finishBoard()
        return (levels, skipped)
    }

    /// A board row starts (after indentation) with a board character or a run-length count and
    /// holds at least one wall.
    static func isBoardLine(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = line.first(where: { $0 != 0x20 && $0 != 0x09 }) else {
            return false
        }
        let isCount = first >= 0x30 && first <= 0x39
        guard isCount || isBoardByte[Int(first)] else { return false }
        return memchr(line.baseAddress!, 0x23, line.count) != nil
    }

    /// Expands run-length counts (`4#`) and `|` row separators into rows of located cells,
    /// appended to `board`. Columns count characters; every character before an error is ASCII,
    /// so byte and character columns agree.
    static func expand(
        line bytes: UnsafeBufferPointer<UInt8>, lineNumber: Int, level: Int, title: String?,
        into board: inout Board
    ) throws {
        let isBoardByte = Self.isBoardByte
        let maxSide = Level.maxSide
        var row: [Cell] = []
        var position = 0  // squares in this row so far, blanks included
        var width = 0  // position of the last non-blank square
        var count = 0
        var column = 0
        func endRow() {
            row.removeLast(max(0, row.count - width))
            board.height += 1
            board.width = max(board.width, width)
            if !board.tooLarge { board.rows.append(row) }
            row = []
            position = 0
            width = 0
        }
        // One pass over the bytes with a table lookup each: a 64 MB row is refused in a blink.
        for (offset, byte) in bytes.enumerated() {
            column += 1
            if byte >= 0x30 && byte <= 0x39 {
                // Saturating: a huge count only has to be reported as too large.
                count = min(count * 10 + Int(byte - 0x30), 1 << 40)
                continue
            }
            if byte == 0x7C {  // "|"
                endRow()
                count = 0
                continue
            }
            let cell: UInt8 = byte == 0x09 ? 0x20 : byte
            guard isBoardByte[Int(cell)] else {
                let character =
                    String(decoding: bytes[offset..<min(offset + 4, bytes.count)], as: UTF8.self)
                    .first ?? "?"
                throw LevelError(
                    level: level, line: lineNumber, column: column, title: title,
                    problem: .unknownCharacter(character))
            }
            let repeats = max(count, 1)
            count = 0
            let blank = cell == 0x20 || cell == 0x2D || cell == 0x5F
            let stored = min(position + repeats, maxSide) - position
            position = min(position + repeats, 1 << 50)
            if !blank { width = position }
            // Only squares inside the limit are stored; trailing blanks are dropped at the row's end.
            if stored > 0 && board.height < maxSide {
                let character = blank ? " " : Character(Unicode.Scalar(cell))
                for _ in 0..<stored {
                    row.append(Cell(character: character, line: lineNumber, column: column))
                }
            }
        }
        endRow()
    }

    /// Validates a board and builds its level.
    static func build(board: Board, number: Int, title: String?) throws -> Level {
        let firstLine = board.firstLine
        func fail(_ line: Int, _ column: Int, _ problem: LevelError.Problem) -> LevelError {
            LevelError(level: number, line: line, column: column, title: title, problem: problem)
        }
        if board.tooLarge {
            throw fail(
                firstLine, 0,
                .tooLarge(width: board.width, height: board.height, limit: Level.maxSide))
        }
        // A `|` at either end of a run-length board makes an empty row: not part of the board (the
        // writer could not write it back). An empty row inside a board cannot be written either.
        var rows = board.rows
        while rows.last?.isEmpty == true { rows.removeLast() }
        while rows.first?.isEmpty == true { rows.removeFirst() }
        if let empty = rows.firstIndex(where: \.isEmpty) {
            throw fail(
                firstLine, 0, .malformed("row \(empty + 1) of the board is empty (from '||')"))
        }
        let height = rows.count
        let width = rows.map(\.count).max() ?? 0
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
                // A box or goal the player cannot reach is legal when walls enclose it (a box
                // already on its goal is decoration; an unmatched one makes the level unsolvable,
                // which is the solver's verdict). On the board's edge nothing encloses it.
                let r = i / width
                let c = i % width
                if r == 0 || c == 0 || r == height - 1 || c == width - 1 {
                    let at = located[i]
                    throw fail(at.line, at.column, .outsidePlayerRegion(box ? "a box" : "a goal"))
                }
                squares[i] = .floor
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
