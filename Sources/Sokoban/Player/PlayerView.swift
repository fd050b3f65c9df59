// Draws the player's screen: header, centred board, counters, messages, help; or a notice when
// the terminal is too small. Pure text, so it is testable without a terminal.
import Core
import Foundation

/// How the board is drawn.
public struct PlayerStyle: Sendable {
    /// Plain ASCII glyphs instead of Unicode.
    public var ascii: Bool
    /// ANSI colours (off for NO_COLOR or a non-terminal output).
    public var color: Bool

    /// Unicode and colour by default.
    public init(ascii: Bool = false, color: Bool = true) {
        self.ascii = ascii
        self.color = color
    }
}

/// Everything the screen shows.
struct PlayerScreen {
    var game: Game
    var collectionName: String
    var levelNumber: Int
    var levelCount: Int
    var best: SavedSolution?
    var message: String?
    var banner: String?
    /// A line that must be seen even under the banner (a solution that could not be saved).
    var alert: String? = nil
    var help: String
    var style: PlayerStyle
    /// Squares marked as reachable by the player (nil: none shown).
    var reachable: [Bool]? = nil
    /// Seconds on this level, shown beside the secondary metrics (nil: not shown).
    var seconds: Int? = nil

    static let boardTop = 2

    private func glyph(_ square: Int) -> (text: String, color: String) {
        let level = game.level
        let goal = level.isGoal[square]
        switch level.squares[square] {
        case .outside: return ("  ", "")
        case .wall: return style.ascii ? ("##", "34") : ("██", "34")
        case .floor: break
        }
        if square == game.player {
            return style.ascii ? (goal ? "+ " : "@ ", "1;36") : (goal ? "◉ " : "● ", "1;36")
        }
        if game.hasBox[square] {
            return style.ascii
                ? (goal ? "* " : "$ ", goal ? "1;32" : "33")
                : (goal ? "■ " : "□ ", goal ? "1;32" : "33")
        }
        if goal { return style.ascii ? (". ", "31") : ("· ", "31") }
        if reachable?[square] == true { return style.ascii ? (": ", "2") : ("░░", "2") }
        return ("  ", "")
    }

    /// The full frame for a `columns` x `rows` terminal as (row, text) pairs, rows 1-based;
    /// `plain` gives the same lines without colour codes (for tests and width checks).
    func frame(columns: Int, rows: Int) -> [String] {
        let level = game.level
        let boardWidth = level.width * 2
        let needColumns = max(boardWidth, 20)
        let helpLines = Self.wrap(help, columns: columns)
        let needRows = level.height + 6 + helpLines.count
        if columns < needColumns || rows < needRows {
            let notice =
                "Terminal too small: need \(needColumns)x\(needRows), have \(columns)x\(rows)"
            return [String(notice.prefix(max(columns, 1)))]
        }
        var lines: [String] = []
        // Titles, comments and messages come from files: escaped so they cannot drive the terminal.
        func centred(_ text: String) -> String {
            let clipped = String(TerminalText.escaped(text).prefix(columns))
            return String(repeating: " ", count: max(0, (columns - clipped.count) / 2)) + clipped
        }
        var header = "\(collectionName) — level \(levelNumber)/\(levelCount)"
        if let title = level.title, !title.isEmpty { header += ": \(title)" }
        lines.append(centred(header))
        lines.append("")
        let left = String(repeating: " ", count: (columns - boardWidth) / 2)
        for r in 0..<level.height {
            var line = left
            for c in 0..<level.width {
                let (text, color) = glyph(r * level.width + c)
                if style.color && !color.isEmpty {
                    line += "\u{1B}[\(color)m\(text)\u{1B}[0m"
                } else {
                    line += text
                }
            }
            lines.append(line)
        }
        lines.append("")
        var counters = "Moves \(game.moves)   Pushes \(game.pushes)"
        if let best { counters += "   (best: \(best.pushes) pushes, \(best.moves) moves)" }
        lines.append(centred(counters))
        let metrics = PushMetrics(of: game)
        var secondary =
            "box lines \(metrics.boxLines) · box changes \(metrics.boxChanges) · pushing sessions \(metrics.pushingSessions)"
        if let seconds {
            secondary += " · \(seconds / 60):" + (seconds % 60 < 10 ? "0" : "") + "\(seconds % 60)"
        }
        lines.append(centred(secondary))
        if let banner {
            let text = centred(banner)
            lines.append(style.color ? "\u{1B}[1;32m\(text)\u{1B}[0m" : text)
            // Wrapped rather than clipped: its reason is at the end, after the path.
            var rest = Substring(TerminalText.escaped(alert ?? ""))
            while !rest.isEmpty {
                let text = centred(String(rest.prefix(max(1, columns))))
                rest = rest.dropFirst(max(1, columns))
                lines.append(style.color ? "\u{1B}[1;31m\(text)\u{1B}[0m" : text)
            }
        } else {
            lines.append(centred(message ?? ""))
        }
        lines.append(contentsOf: helpLines.map(centred))
        let top = max(0, (rows - lines.count) / 2)
        return [String](repeating: "", count: top) + lines
    }

    /// `text` in lines of at most `columns`, broken after its " · " separators.
    static func wrap(_ text: String, columns: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for part in text.components(separatedBy: " · ") {
            let joined = line.isEmpty ? part : line + " · " + part
            if joined.count > columns && !line.isEmpty {
                lines.append(line)
                line = part
            } else {
                line = joined
            }
        }
        return lines + [line]
    }

    /// The frame as terminal output: each line positioned and cleared to its end.
    func render(columns: Int, rows: Int) -> String {
        var out = "\u{1B}[H"
        for (i, line) in frame(columns: columns, rows: rows).enumerated() where i < rows {
            out += "\u{1B}[\(i + 1);1H\(line)\u{1B}[K"
        }
        out += "\u{1B}[J"
        return out
    }
}
