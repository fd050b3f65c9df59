// `laser watch`: a policy plays levels in the terminal, animated, with its action probabilities.
import Agent
import ArgumentParser
import Foundation
import Policy
import Sokoban

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract:
            "Watch a Sokoban policy play, animated in the terminal with its action probabilities.",
        discussion: """
            Drawn with `laser play`'s renderer. The line under the board shows the probabilities of up, down, left and right and the value estimate in the position shown. q or Ctrl-C stops watching and prints the levels played so far; SIGINT, SIGTERM and SIGHUP restore the screen and exit with 128+n. When the output is not a terminal, each position is printed in turn (without colour).
            """)

    @Option(help: "Policy checkpoint (safetensors).") var policy: String
    @Argument(help: "Level file (default levels/test-10x10-4.xsb).") var file =
        "levels/test-10x10-4.xsb"
    @Option(help: "First level to play (1-based).") var level = 1
    @Option(help: "Levels to play in turn.") var count = 1
    @Option(help: "Milliseconds per step.") var delay = 150
    @Option(help: "Step limit per episode.") var maxSteps = 120
    @Flag(help: "Sample actions instead of taking the most probable.") var sample = false
    @Option(help: "Seed of sampled actions.") var seed: UInt64 = 0
    @Flag(help: "Play the 8-view symmetry-averaged policy (as `laser eval --average-symmetries`).")
    var averageSymmetries = false
    @Flag(help: "ASCII glyphs instead of Unicode.") var ascii = false

    func validate() throws {
        guard level >= 1 else { throw ValidationError("--level must be 1 or more") }
        guard count >= 1 else { throw ValidationError("--count must be 1 or more") }
        guard (0...10_000).contains(delay) else {
            throw ValidationError("--delay must be in 0...10000")
        }
        guard (1...10_000).contains(maxSteps) else {
            throw ValidationError("--max-steps must be in 1...10000")
        }
    }

    func run() throws {
        let model = try loadPolicy(policy).model
        let levels = try loadLevels(file)
        guard level <= levels.count else {
            throw CLIError("\(file) has \(levels.count) levels; there is no level \(level)")
        }
        let terminal = isatty(1) == 1
        let noColor = !(ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
        let style = PlayerStyle(ascii: ascii, color: terminal && !noColor)
        let name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        var config = EnvironmentConfig()
        config.maxSteps = maxSteps
        // The player's terminal session: raw keys (q or Ctrl-C quits), the alternate screen, and
        // SIGINT / SIGTERM / SIGHUP end it with the screen restored.
        let session = terminal ? Terminal(input: 0, output: 1) : nil
        session?.enter(handleSignals: true)
        defer { session?.leave() }
        var results: [String] = []
        /// What ended the watch early, if anything.
        func interrupted(_ stop: PlayerExit?) throws -> Bool {
            switch stop {
            case nil: return false
            case .quit: return true
            case .signal(let s)?:
                session?.leave()
                throw ExitCode(128 + s)
            }
        }
        let arrows = style.ascii ? ["U", "D", "L", "R"] : ["↑", "↓", "←", "→"]
        watching: for number in level..<min(levels.count + 1, level + count) {
            var player = try PolicyPlayer(
                model: model, level: levels[number - 1], config: config,
                seed: seed &+ UInt64(number),
                symmetryAveraging: averageSymmetries)
            var banner: String?
            while true {
                let (p, value) = try player.evaluate()
                let message =
                    zip(arrows, p).map { String(format: "%@ %.2f", $0, $1) }.joined(separator: "  ")
                    + String(format: "   value %.2f", value)
                if player.done {
                    banner =
                        player.solved
                        ? "Solved in \(player.steps) steps" : "Not solved within \(maxSteps) steps"
                } else if player.repeated && !sample {
                    // Greedy play is deterministic: from a position seen before it only cycles.
                    banner =
                        "Stuck after \(player.steps) steps: back in a position it was in, so greedy play cycles"
                }
                draw(
                    player.game, name: name, number: number, total: levels.count, message: message,
                    banner: banner, style: style, session: session)
                if player.done || (player.repeated && !sample) { break }
                try player.step(sample: sample)
                if let session, try interrupted(session.pause(milliseconds: delay)) {
                    break watching
                }
            }
            let failure =
                player.repeated && !sample
                ? "not solved (cycles after \(player.steps) steps)" : "not solved"
            results.append(
                "level \(number): \(player.solved ? "solved in \(player.steps) steps" : failure)")
            if let session, try interrupted(session.pause(milliseconds: min(2000, delay * 8))) {
                break
            }
        }
        session?.leave()
        print(results.joined(separator: "\n"))
    }

    private func draw(
        _ game: Game, name: String, number: Int, total: Int, message: String, banner: String?,
        style: PlayerStyle, session: Terminal?
    ) {
        if let session {
            let (columns, rows) = session.size()
            // The screen's own control sequences; what came from the level file is escaped in it.
            session.write(
                BoardRendering.render(
                    game: game, collectionName: name, levelNumber: number, levelCount: total,
                    message: message,
                    banner: banner, help: "q or Ctrl-C quits", style: style, columns: columns,
                    rows: rows))
        } else {
            let lines = BoardRendering.lines(
                game: game, collectionName: name, levelNumber: number, levelCount: total,
                message: message,
                banner: banner, style: style, columns: 60, rows: 16)
            Swift.print(
                lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.joined(
                    separator: "\n") + "\n")
        }
    }
}
