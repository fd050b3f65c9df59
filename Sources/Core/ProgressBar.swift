// A one-line progress bar with rate and ETA on standard error, for sweeps and training runs.
import Foundation
import Synchronization

/// Redraws `label [#####.....] done/total  rate  ETA` in place on a terminal; on a pipe it prints
/// a plain line at most every few seconds so logs stay short.
public final class ProgressBar: Sendable {
    public let label: String
    public let total: Int
    private let start = Date()
    /// When the bar was last drawn; the lock also keeps two threads' lines apart.
    private let lastDraw = Mutex(Date.distantPast)
    private let isTerminal = isatty(STDERR_FILENO) != 0

    public init(label: String, total: Int) {
        self.label = label
        self.total = max(total, 1)
    }

    /// Reports `done` items finished, with an optional short status (for example the last metric).
    public func update(_ done: Int, status: String = "") {
        lastDraw.withLock { lastDraw in draw(done, status: status, lastDraw: &lastDraw) }
    }

    private func draw(_ done: Int, status: String, lastDraw: inout Date) {
        let now = Date()
        let finished = done >= total
        guard finished || now.timeIntervalSince(lastDraw) >= (isTerminal ? 0.1 : 5) else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let width = 24
        let filled = min(width, width * done / total)
        let bar =
            String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line =
            "\(label) [\(bar)] \(done)/\(total)  \(Self.formatRate(rate))  elapsed \(Self.formatDuration(elapsed))  ETA \(Self.formatDuration(eta))\(status.isEmpty ? "" : "  " + status)"
        if isTerminal {
            StandardError.write("\r\u{1B}[2K" + line + (finished ? "\n" : ""))
        } else {
            StandardError.write(line + "\n")
        }
    }

    static func formatRate(_ r: Double) -> String {
        r >= 1 ? String(format: "%.1f/s", r) : (r > 0 ? String(format: "%.1fs each", 1 / r) : "-")
    }

    /// 75 → "1m15s", 3700 → "1h01m".
    public static func formatDuration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m"
    }
}
