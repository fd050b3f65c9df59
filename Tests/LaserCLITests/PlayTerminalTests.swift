// Runs `laser play` and `laser watch` on pseudo-terminals as separate processes: the terminal is
// restored on q, Ctrl-C, SIGINT, SIGTERM and SIGHUP (exit 128+n); two play sessions at once keep
// both solutions; a save on a full disk (`ulimit -f 0`) is refused in the status line and the
// saved file stays as it was.

import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// One process on its own pseudo-terminal.
struct TerminalProcess {
    let process: Process
    let master: Int32
    /// A second descriptor of the slave side, to read the terminal's attributes after the exit.
    let slave: Int32

    /// Starts `executable` with `arguments` on a new pseudo-terminal of `columns` × 30.
    init(
        _ arguments: [String], executable: String = CLI.binary, environment: [String: String] = [:],
        columns: UInt16 = 100
    ) throws {
        var master: Int32 = -1
        var slave: Int32 = -1
        var size = winsize(ws_row: 30, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        try #require(openpty(&master, &slave, nil, nil, &size) == 0)
        self.master = master
        self.slave = dup(slave)
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(
            environment.merging(["NO_COLOR": "1"]) { a, _ in a }
        ) { _, new in new }
        let handle = FileHandle(fileDescriptor: slave, closeOnDealloc: true)
        process.standardInput = handle
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    /// Reads until `text` appears or five seconds pass; returns everything read.
    func read(until text: String) -> String {
        var out = ""
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline && !out.contains(text) {
            var p = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 50) > 0 {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = Glibc.read(master, &buffer, buffer.count)
                if n <= 0 { break }
                out += String(decoding: buffer[0..<n], as: UTF8.self)
            }
        }
        return out
    }

    func type(_ keys: String) { _ = keys.withCString { write(master, $0, strlen($0)) } }

    /// Waits up to five seconds for the exit; its status, or nil if it is still running.
    func exitStatus() -> Int32? {
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// Whether the terminal is back in its usual cooked mode (echo, line editing, key signals).
    var isCooked: Bool {
        var attributes = termios()
        guard tcgetattr(slave, &attributes) == 0 else { return false }
        let wanted = tcflag_t(ECHO | ICANON | ISIG)
        return attributes.c_lflag & wanted == wanted
    }

    func close() {
        if process.isRunning { process.terminate() }
        Glibc.close(master)
        Glibc.close(slave)
    }
}

@Suite struct PlayTerminalTests {
    let restore = "\u{1B}[?25h\u{1B}[?1049l"
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// Two one-push levels: `r` solves the first, `rr` the second.
    func twoLevels() throws -> String {
        let path = CLI.temporaryDirectory() + "/two.xsb"
        try "#####\n#@$.#\n#####\n\n######\n#@ $.#\n######\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func play(_ data: String, _ arguments: [String] = []) throws -> TerminalProcess {
        try TerminalProcess(["play", "--ascii"] + arguments, environment: ["XDG_DATA_HOME": data])
    }

    @Test(arguments: [SIGINT, SIGTERM, SIGHUP])
    func aSignalRestoresThePlayersTerminal(signal: Int32) throws {
        let session = try play(CLI.temporaryDirectory())
        defer { session.close() }
        #expect(session.read(until: "First push").contains("\u{1B}[?1049h"))
        #expect(!session.isCooked, "raw mode while playing")
        kill(session.process.processIdentifier, signal)
        #expect(session.read(until: restore).contains(restore))
        #expect(session.exitStatus() == 128 + signal)
        #expect(session.isCooked, "the terminal's attributes are restored")
    }

    @Test(arguments: [SIGINT, SIGTERM, SIGHUP])
    func aSignalRestoresTheWatchersTerminal(signal: Int32) throws {
        let session = try TerminalProcess([
            "watch", "--policy", Self.repository + "/policies/conv-8x32.safetensors",
            Self.repository + "/levels/test-10x10-4.xsb", "--ascii", "--count", "5",
            "--delay", "300",
        ])
        defer { session.close() }
        #expect(session.read(until: "value").contains("\u{1B}[?1049h"))
        kill(session.process.processIdentifier, signal)
        #expect(session.read(until: restore).contains(restore))
        #expect(session.exitStatus() == 128 + signal)
        #expect(session.isCooked)
    }

    @Test func qStopsWatchingAndPrintsTheLevelsPlayed() throws {
        let session = try TerminalProcess([
            "watch", "--policy", Self.repository + "/policies/conv-8x32.safetensors",
            Self.repository + "/levels/test-10x10-4.xsb", "--ascii", "--count", "5",
            "--delay", "300",
        ])
        defer { session.close() }
        _ = session.read(until: "value")
        session.type("q")
        let rest = session.read(until: restore)
        #expect(rest.contains(restore))
        #expect(session.exitStatus() == 0)
        #expect(session.isCooked)
        #expect(!rest.contains("level 2:"), "stopped on the first level")
    }

    @Test func ctrlCQuitsAndSolutionsPersist() throws {
        let data = CLI.temporaryDirectory()
        let session = try play(data)
        defer { session.close() }
        _ = session.read(until: "First push")
        session.type("ddd")
        _ = session.read(until: "Solved in 3 moves, 2 pushes")
        session.type("\u{03}")
        #expect(session.read(until: restore).contains(restore))
        #expect(session.exitStatus() == 0)
        let saved = try String(
            contentsOfFile: data + "/laser/solutions/levels@v2.json", encoding: .utf8)
        #expect(saved.contains("\"lurd\" : \"rRR\""))
    }

    /// Both sessions open the store before either saves; each save merges the other's.
    @Test func twoSessionsAtOnceKeepBothSolutions() throws {
        let data = CLI.temporaryDirectory()
        let levels = try twoLevels()
        let a = try play(data, [levels])
        defer { a.close() }
        let b = try play(data, [levels, "--level", "2"])
        defer { b.close() }
        _ = a.read(until: "Pushes 0")
        _ = b.read(until: "Pushes 0")
        a.type("d")
        #expect(a.read(until: "(best: 1 pushes, 1 moves)").contains("Solved"))
        b.type("dd")
        #expect(b.read(until: "(best: 1 pushes, 2 moves)").contains("Solved"))
        a.type("q")
        b.type("q")
        #expect(a.exitStatus() == 0 && b.exitStatus() == 0)
        let saved = try String(
            contentsOfFile: data + "/laser/solutions/levels@v2.json", encoding: .utf8)
        #expect(
            saved.contains("\"lurd\" : \"R\"") && saved.contains("\"lurd\" : \"rR\""), "\(saved)")
    }

    /// A write limit of 0 bytes fails the save part-way as a full disk does (EFBIG rather than
    /// ENOSPC); faults.sh tries a real full tmpfs as root.
    @Test func aSaveOnAFullDiskKeepsTheSavedFile() throws {
        let data = CLI.temporaryDirectory()
        let levels = try twoLevels()
        let first = try play(data, [levels])
        defer { first.close() }
        _ = first.read(until: "Pushes 0")
        first.type("d")
        _ = first.read(until: "(best: 1 pushes, 1 moves)")
        first.type("q")
        #expect(first.exitStatus() == 0)
        let store = data + "/laser/solutions/levels@v2.json"
        let before = try Data(contentsOf: URL(fileURLWithPath: store))

        let full = try TerminalProcess(
            ["-c", "ulimit -f 0; exec \"$0\" play --ascii \"$1\" --level 2", CLI.binary, levels],
            executable: "/bin/sh", environment: ["XDG_DATA_HOME": data], columns: 250)
        defer { full.close() }
        _ = full.read(until: "Pushes 0")
        full.type("dd")
        let screen = full.read(until: "File too large")
        #expect(
            screen.contains("NOT saved: cannot write \(store): File too large"),
            "\(screen.suffix(600))")
        full.type("q")
        #expect(full.exitStatus() == 0)
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: store)) == before, "the saved file is intact")
        let left = try FileManager.default.contentsOfDirectory(atPath: data + "/laser/solutions")
        #expect(!left.contains { $0.contains(".tmp-") }, "no temp file left: \(left)")
    }
}
