// The one terminal session of `play` and `watch`: raw mode through termios, the alternate screen,
// window size, and signal flags (SIGTERM, SIGINT, SIGHUP, SIGWINCH) that the event loop polls.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import SystemPackage

/// Set by the signal handlers, read and cleared by the event loop.
nonisolated(unsafe) private var pendingTermination: Int32 = 0
nonisolated(unsafe) private var pendingResize: Int32 = 0

private let onSignal: @convention(c) (Int32) -> Void = { signal in
    if signal == SIGWINCH { pendingResize = 1 } else { pendingTermination = signal }
}

/// A terminal opened on an input and an output file descriptor.
public final class Terminal {
    let input: Int32
    let output: Int32
    private var saved: termios?
    private var savedHandlers: [(Int32, sighandler_t?)] = []
    private(set) var active = false
    private var inputClosed = false
    private var decoder = KeyDecoder()

    public init(input: Int32, output: Int32) {
        self.input = input
        self.output = output
    }

    /// Whether the output is a terminal.
    public var outputIsTTY: Bool { isatty(output) == 1 }

    /// Raw mode (no echo, no line buffering, no signals from keys, no output processing), the
    /// alternate screen and a hidden cursor. Installs signal flags when `handleSignals`.
    public func enter(handleSignals: Bool) {
        var attributes = termios()
        if tcgetattr(input, &attributes) == 0 {
            saved = attributes
            cfmakeraw(&attributes)
            _ = tcsetattr(input, TCSANOW, &attributes)
        }
        if handleSignals {
            pendingTermination = 0
            pendingResize = 0
            var unblock = sigset_t()
            sigemptyset(&unblock)
            for s in [SIGTERM, SIGINT, SIGHUP, SIGWINCH] {
                savedHandlers.append((s, signal(s, onSignal)))
                sigaddset(&unblock, s)
            }
            // A parent may have started us with these blocked; they must reach the handler.
            pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        }
        write("\u{1B}[?1049h\u{1B}[?25l\u{1B}[2J")
        active = true
    }

    /// Undoes `enter`: shows the cursor, leaves the alternate screen, restores the terminal
    /// attributes and signal handlers. Safe to call twice.
    public func leave() {
        guard active else { return }
        active = false
        write("\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l")
        if var attributes = saved { _ = tcsetattr(input, TCSANOW, &attributes) }
        for (s, handler) in savedHandlers { signal(s, handler) }
        savedHandlers = []
    }

    deinit { leave() }

    /// The window size in columns and rows (80x24 when unknown).
    public func size() -> (columns: Int, rows: Int) {
        var w = winsize()
        if ioctl(output, UInt(TIOCGWINSZ), &w) == 0 && w.ws_col > 0 && w.ws_row > 0 {
            return (Int(w.ws_col), Int(w.ws_row))
        }
        return (80, 24)
    }

    /// Writes all of `text`; a terminal that has gone away is not an error worth stopping for.
    public func write(_ text: String) {
        _ = try? FileDescriptor(rawValue: output).writeAll(Array(text.utf8))
    }

    /// Waits up to `milliseconds` for input; returns the bytes read (empty on timeout or signal),
    /// or nil at end of input.
    func read(timeout milliseconds: Int32) -> [UInt8]? {
        var descriptor = pollfd(fd: input, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, milliseconds)
        if ready <= 0 { return [] }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress!, $0.count) }
        if n < 0 { return errno == EINTR || errno == EAGAIN ? [] : nil }
        if n == 0 { return nil }
        return Array(buffer[0..<n])
    }

    /// A pending SIGTERM / SIGINT / SIGHUP, cleared on reading.
    func takeTermination() -> Int32? {
        let s = pendingTermination
        if s == 0 { return nil }
        pendingTermination = 0
        return s
    }

    /// Waits `milliseconds` between the frames of an animation, ending early when a signal arrives
    /// or q / Ctrl-C is pressed (other keys are dropped); nil when the time ran out. An input at its
    /// end (not a terminal, or closed) only waits.
    public func pause(milliseconds: Int) -> PlayerExit? {
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(max(0, milliseconds))
        while true {
            if let s = takeTermination() { return .signal(s) }
            let left = clock.now.duration(to: deadline)
            guard left > .zero else { return nil }
            let slice = Int32(min(100, max(1, (left / .milliseconds(1)).rounded(.up))))
            if inputClosed {
                usleep(useconds_t(slice) * 1000)
            } else if let bytes = read(timeout: slice) {
                if decoder.decode(bytes).contains(.quit) { return .quit }
            } else {
                inputClosed = true
            }
        }
    }

    /// Whether SIGWINCH arrived since the last call.
    func takeResize() -> Bool {
        let r = pendingResize
        pendingResize = 0
        return r != 0
    }
}
