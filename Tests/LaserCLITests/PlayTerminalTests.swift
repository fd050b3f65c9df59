// Runs `laser play` on a pseudo-terminal and checks the terminal is restored on q, Ctrl-C and
// SIGTERM (exit status 143).

import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct PlayTerminalTests {
    /// Starts `laser play` on a new pseudo-terminal; returns the process and the master side.
    func start() throws -> (Process, Int32, String) {
        var master: Int32 = -1
        var slave: Int32 = -1
        var size = winsize(ws_row: 30, ws_col: 100, ws_xpixel: 0, ws_ypixel: 0)
        try #require(openpty(&master, &slave, nil, nil, &size) == 0)
        let data = CLI.temporaryDirectory()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["play", "--ascii"]
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["XDG_DATA_HOME": data, "NO_COLOR": "1"]) { _, new in new }
        let handle = FileHandle(fileDescriptor: slave, closeOnDealloc: true)
        process.standardInput = handle
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return (process, master, data)
    }

    /// Reads from `fd` until `text` appears or five seconds pass; returns everything read.
    func read(_ fd: Int32, until text: String) -> String {
        var out = ""
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline && !out.contains(text) {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 50) > 0 {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = Glibc.read(fd, &buffer, buffer.count)
                if n <= 0 { break }
                out += String(decoding: buffer[0..<n], as: UTF8.self)
            }
        }
        return out
    }

    func wait(_ process: Process) -> Bool {
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return !process.isRunning
    }

    let restore = "\u{1B}[?25h\u{1B}[?1049l"

    @Test func sigtermRestoresTheTerminal() throws {
        let (process, master, _) = try start()
        defer { close(master) }
        #expect(read(master, until: "First push").contains("\u{1B}[?1049h"))
        process.terminate()  // SIGTERM
        #expect(read(master, until: restore).contains(restore))
        try #require(wait(process))
        #expect(process.terminationStatus == 143)
    }

    @Test func ctrlCQuitsAndSolutionsPersist() throws {
        let (process, master, data) = try start()
        defer { close(master) }
        _ = read(master, until: "First push")
        _ = "ddd".withCString { write(master, $0, 3) }
        _ = read(master, until: "Solved in 3 moves, 2 pushes")
        _ = [UInt8(3)].withUnsafeBufferPointer { write(master, $0.baseAddress!, 1) }
        #expect(read(master, until: restore).contains(restore))
        try #require(wait(process))
        #expect(process.terminationStatus == 0)
        let saved = try String(
            contentsOfFile: data + "/laser/solutions/levels@v2.json", encoding: .utf8)
        #expect(saved.contains("\"lurd\" : \"rRR\""))
    }
}
