// Tests of the terminal player: key decoding, the drawn screen, saved solutions, and a session
// driven through a pseudo-terminal (keys in, screen out).

import Foundation
import Testing

@testable import Sokoban

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct PlayerTests {
    @Test func decodesKeysAndEscapeSequences() {
        var d = KeyDecoder()
        #expect(
            d.decode(Array("wasdhjkl".utf8)) == [
                .move(.up), .move(.left), .move(.down), .move(.right),
                .move(.left), .move(.down), .move(.up), .move(.right),
            ])
        #expect(d.decode([0x1B, 0x5B, 0x41, 0x1B, 0x4F, 0x44]) == [.move(.up), .move(.left)])
        // An arrow split across two reads.
        #expect(d.decode([0x1B, 0x5B]) == [])
        #expect(d.decode([0x43]) == [.move(.right)])
        #expect(
            d.decode(Array("uUrnp?Hq".utf8)) == [
                .undo, .redo, .restart, .next, .previous, .hint, .hint, .quit,
            ])
        #expect(d.decode([0x12, 0x03]) == [.redo, .quit])
        #expect(d.decode(Array("xz".utf8)) == [])
        #expect(
            d.decode(Array("c<>.yY".utf8)) == [
                .resume, .undoAll, .redoAll, .reach, .copyLevel, .copyMoves,
            ])
        // Home and End as xterm, VT220 and application-mode keypads send them.
        #expect(
            d.decode(
                Array("\u{1B}[H\u{1B}[F\u{1B}OH\u{1B}OF\u{1B}[1~\u{1B}[4~\u{1B}[7~\u{1B}[8~".utf8))
                == [.undoAll, .redoAll, .undoAll, .redoAll, .undoAll, .redoAll, .undoAll, .redoAll])
    }

    func screen(_ level: Level, style: PlayerStyle, banner: String? = nil) -> PlayerScreen {
        PlayerScreen(
            game: Game(level: level), collectionName: "test", levelNumber: 2, levelCount: 5,
            best: SavedSolution(title: nil, lurd: "RR", moves: 4, pushes: 2), message: nil,
            banner: banner, help: "help line", style: style)
    }

    @Test func drawsACentredBoard() throws {
        let l = try level("#######\n#@ $ .#\n#######")
        let lines = screen(l, style: PlayerStyle(ascii: true, color: false))
            .frame(columns: 60, rows: 20)
        let board = try #require(lines.first { $0.contains("@") })
        #expect(board == String(repeating: " ", count: 23) + "##@   $   . ##")
        #expect(lines.contains { $0.contains("test — level 2/5") })
        #expect(lines.contains { $0.contains("Moves 0   Pushes 0   (best: 2 pushes, 4 moves)") })
        #expect(!lines.joined().contains("\u{1B}"))
        // Vertically centred: as many blank lines above as fit.
        #expect(lines.count == (20 - 10) / 2 + 10)
        #expect(lines.contains { $0.contains("box lines 0 · box changes 0 · pushing sessions 0") })
        let unicode = screen(l, style: PlayerStyle(ascii: false, color: true))
            .frame(columns: 60, rows: 20).joined()
        #expect(unicode.contains("\u{1B}["))
        #expect(unicode.contains("██") && unicode.contains("□"))
    }

    @Test func saysWhenTheTerminalIsTooSmall() throws {
        let l = try level("#######\n#@ $ .#\n#######")
        let lines = screen(l, style: PlayerStyle()).frame(columns: 12, rows: 5)
        #expect(lines.count == 1 && lines[0].hasPrefix("Terminal too"))
        let wide = screen(l, style: PlayerStyle()).frame(columns: 80, rows: 5)
        #expect(wide == ["Terminal too small: need 20x10, have 80x5"])
    }

    @Test func rejectsBadStarts() {
        var o = PlayerOptions(collectionName: "t")
        o.startLevel = 99
        #expect(throws: PlayerError.self) {
            try TerminalPlayer(collection: Tutorial.collection(), options: o)
        }
        o.startLevel = 1
        o.replay = "rrx"
        #expect(throws: PlayerError.self) {
            try TerminalPlayer(collection: Tutorial.collection(), options: o)
        }
    }

    /// A whole session through a pseudo-terminal: moves, a push, undo, redo, the solved banner,
    /// the saved file, the next level, a hint, a resize below the minimum, and quitting with the
    /// terminal restored.
    @Test func sessionThroughAPseudoTerminal() throws {
        let pty = try PseudoTerminal(columns: 100, rows: 30)
        var originalAttributes = termios()
        tcgetattr(pty.slave, &originalAttributes)
        let saveDir = FileManagerTemp.make()
        let session = try tutorialSession(on: pty, saveDirectory: saveDir)
        try pty.expect("tutorial — level 1/14: First push")
        try pty.expect("##@   $   . ##")
        try pty.expect("Moves 0   Pushes 0")
        pty.send("d")
        try pty.expect("Moves 1   Pushes 0")
        pty.send("\u{1B}[C")
        try pty.expect("Moves 2   Pushes 1")
        pty.send("u")
        try pty.expect("Moves 1   Pushes 0")
        pty.send("U")
        try pty.expect("Moves 2   Pushes 1")
        pty.send("l")
        try pty.expect("Solved in 3 moves, 2 pushes")
        let store = SolutionStore(directory: saveDir)
        #expect(store.best(for: try Tutorial.collection().levels[0])?.lurd == "rRR")
        pty.send("n")
        try pty.expect("level 2/14: Turn the corner")
        pty.send("?")
        try pty.expect("hint: ")
        pty.resize(columns: 12, rows: 6)
        pty.send("x")
        try pty.expect("Terminal too")
        pty.resize(columns: 100, rows: 30)
        pty.send("q")
        #expect(session.wait() == .quit)
        try pty.expect("\u{1B}[?1049l", raw: true)
        var after = termios()
        tcgetattr(pty.slave, &after)
        #expect(after.c_lflag == originalAttributes.c_lflag)
        #expect(after.c_oflag == originalAttributes.c_oflag)
    }

    /// The tutorial played in ASCII on a pseudo-terminal, saving solutions in `saveDirectory`.
    func tutorialSession(on pty: PseudoTerminal, saveDirectory: String) throws -> PlayerSession {
        var options = PlayerOptions.onPseudoTerminal("tutorial")
        options.saveDirectory = saveDirectory
        return PlayerSession(
            try TerminalPlayer(
                collection: Tutorial.collection(), options: options, input: pty.slave,
                output: pty.slave))
    }

    /// A level left unfinished is offered again, in this session and the next, and `c` takes it.
    @Test func anUnfinishedLevelIsOfferedOnReturn() throws {
        let saveDir = FileManagerTemp.make()
        let pty = try PseudoTerminal(columns: 120, rows: 30)
        let first = try tutorialSession(on: pty, saveDirectory: saveDir)
        try pty.expect("Moves 0   Pushes 0")
        pty.send("d")
        try pty.expect("Moves 1   Pushes 0")
        pty.send("n")
        try pty.expect("level 2/14")
        pty.send("p")
        try pty.expect("c continues where you left this level (1 moves)")
        pty.send("c")
        try pty.expect("continued after 1 moves")
        pty.send("d")
        try pty.expect("Moves 2   Pushes 1")
        pty.send("q")
        #expect(first.wait() == .quit)
        let second = try tutorialSession(on: pty, saveDirectory: saveDir)
        try pty.expect("c continues where you left this level (2 moves)")
        pty.send("dc")
        try pty.expect("r restarts the level, then c continues the 2 earlier moves")
        pty.send("rc")
        try pty.expect("Moves 2   Pushes 1")
        pty.send("l")
        try pty.expect("Solved in 3 moves, 2 pushes")
        pty.send("q")
        #expect(second.wait() == .quit)
        let level = try Tutorial.collection().levels[0]
        #expect(SolutionStore(directory: saveDir).unfinishedGame(for: level) == nil)
    }

    /// A save into a data directory that cannot be created says so on screen.
    @Test func aFailedSaveShowsOnScreen() throws {
        let blocker = FileManagerTemp.make() + "/file"
        try "x".write(toFile: blocker, atomically: false, encoding: .utf8)
        let pty = try PseudoTerminal(columns: 120, rows: 30)
        let session = try tutorialSession(on: pty, saveDirectory: blocker + "/solutions")
        try pty.expect("Moves 0   Pushes 0")
        pty.send("dll")
        try pty.expect("NOT saved: cannot create")
        pty.send("q")
        #expect(session.wait() == .quit)
    }

    @Test func titlesAndCommentsCannotDriveTheTerminal() throws {
        var l = try level("#######\n#@ $ .#\n#######")
        l.title = "evil\u{1B}]0;pwned\u{07}\u{9B}2J"
        let lines = screen(l, style: PlayerStyle(ascii: true, color: false))
            .frame(columns: 80, rows: 20).joined(separator: "\n")
        #expect(
            !lines.unicodeScalars.contains {
                $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x9B
            })
        #expect(lines.contains("evil\\x1B]0;pwned\\x07\\u{9B}2J"))
    }

    @Test func replayAnimatesASolution() throws {
        let pty = try PseudoTerminal(columns: 80, rows: 24)
        var options = PlayerOptions.onPseudoTerminal("tutorial")
        options.replay = "rRR"
        options.replayDelay = 5
        let player = try TerminalPlayer(
            collection: Tutorial.collection(), options: options,
            input: pty.slave, output: pty.slave)
        let session = PlayerSession(player)
        try pty.expect("replay: step 2/3")
        try pty.expect("Solved in 3 moves, 2 pushes")
        pty.send("q")
        #expect(session.wait() == .quit)
    }
}

/// Runs a player on a background thread.
final class PlayerSession: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: PlayerExit?

    init(_ player: TerminalPlayer) {
        nonisolated(unsafe) let p = player
        DispatchQueue.global().async {
            self.result = p.run()
            self.done.signal()
        }
    }

    func wait() -> PlayerExit? {
        _ = done.wait(timeout: .now() + 10)
        return result
    }
}

struct PtyError: Error, CustomStringConvertible {
    var description: String
}

/// A pseudo-terminal pair; the test holds the master side, the player the slave side.
final class PseudoTerminal {
    let master: Int32
    let slave: Int32
    private var screen = ""

    init(columns: Int, rows: Int) throws {
        var m: Int32 = -1
        var s: Int32 = -1
        var size = winsize(
            ws_row: UInt16(rows), ws_col: UInt16(columns), ws_xpixel: 0, ws_ypixel: 0)
        guard openpty(&m, &s, nil, nil, &size) == 0 else {
            throw PtyError(description: "openpty failed")
        }
        master = m
        slave = s
    }

    deinit {
        close(master)
        close(slave)
    }

    func send(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer {
            write(master, $0.baseAddress!, $0.count - 1)
        }
    }

    func resize(columns: Int, rows: Int) {
        var size = winsize(
            ws_row: UInt16(rows), ws_col: UInt16(columns), ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
    }

    /// Reads output until `text` appears after what earlier expectations consumed (escape
    /// sequences removed unless `raw`), or fails after five seconds.
    func expect(_ text: String, raw: Bool = false) throws {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            let visible = raw ? screen : Self.strip(screen)
            if let range = visible.range(of: text) {
                // Later expectations look only at output after this match.
                screen = String(visible[range.upperBound...])
                return
            }
            var descriptor = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, 50) > 0 {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = read(master, &buffer, buffer.count)
                if n > 0 {
                    screen += String(decoding: buffer[0..<n], as: UTF8.self)
                }
            }
        }
        throw PtyError(
            description:
                "did not see \(text.debugDescription) in "
                + Self.strip(screen).suffix(300).debugDescription
        )
    }

    /// Output with escape sequences replaced by newlines (cursor moves start new lines).
    static func strip(_ s: String) -> String {
        var out = ""
        var iterator = s.unicodeScalars.makeIterator()
        while let c = iterator.next() {
            if c == "\u{1B}" {
                // Skip ESC [ params final, or ESC + one character.
                guard let next = iterator.next() else { break }
                if next == "[" {
                    while let p = iterator.next(), !(0x40...0x7E).contains(p.value) {}
                }
                out.append("\n")
            } else {
                out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
