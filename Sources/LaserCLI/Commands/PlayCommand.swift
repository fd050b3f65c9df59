// `laser play`: the full-screen terminal player (the tutorial by default) and solution replays.

import ArgumentParser
import Core
import Foundation
import Sokoban

struct PlayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "play",
        abstract: "Play Sokoban in the terminal (the built-in tutorial unless FILE is given).",
        discussion: """
            Keys: arrows, WASD or hjkl move; u undo; U or Ctrl-R redo; < or Home undo all, > or End redo all; r restart; n / p next or previous level; ? or H hint (the solver's way to its next push); c continue a level where a session left it; . show the squares the player can reach; y copy the level as XSB, Y the moves so far as LURD (OSC 52, and printed after the session); q or Ctrl-C quit. A push that makes the level unsolvable is named at once, with its reason: a dead square, frozen boxes, or proved by a small search. Below the moves and pushes: box lines, box changes, pushing sessions and the time on the level. The best solution of each level (by pushes, then moves) is saved in $XDG_DATA_HOME/laser/solutions/levels@v2.json, keyed by the level's board, so it is found again in any collection at any position; sessions running at once merge their saves. The moves of a level left unfinished are kept in the same file and offered (c) when the level is opened again. SIGINT, SIGTERM and SIGHUP restore the terminal and exit with 128+n. NO_COLOR or a non-terminal output turns colours off.
            """)

    @Argument(help: "An XSB/SOK level file.") var file: String?
    @Option(name: .long, help: "Start at level N (1-based).") var level = 1
    @Flag(name: .long, help: "ASCII glyphs instead of Unicode.") var ascii = false
    @Option(name: .long, help: "Animate this LURD solution instead of playing.") var replay: String?
    @Option(name: .long, help: "Milliseconds per replay step.") var delay = 120
    @Flag(name: .long, help: "Do not save solutions.") var noSave = false

    func validate() throws {
        if level < 1 { throw ValidationError("--level must be 1 or more") }
        if delay < 0 || delay > 10_000 { throw ValidationError("--delay must be in 0...10000") }
        if let replay {
            do { _ = try LURD.parse(replay) } catch { throw ValidationError("--replay: \(error)") }
        }
    }

    func run() throws {
        let collection: LevelCollection
        let name: String
        if let file {
            collection = try readCollection(file)
            name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        } else {
            collection = Tutorial.collection()
            name = "tutorial"
        }
        var options = PlayerOptions(collectionName: name)
        options.startLevel = level
        let noColor = !(ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
        options.style = PlayerStyle(ascii: ascii, color: !noColor && isatty(1) == 1)
        options.saveDirectory = noSave ? nil : SolutionStore.defaultDirectory()
        options.replay = replay
        options.replayDelay = Int32(delay)
        let player: TerminalPlayer
        do { player = try TerminalPlayer(collection: collection, options: options) } catch {
            throw CLIError("\(error)")
        }
        let exit = player.run()
        for (what, text) in player.copied {
            print("; copied: \(what)\n\(TerminalText.escaped(text))")
        }
        if let notice = player.exitNotice { StandardError.write("laser play: \(notice)\n") }
        switch exit {
        case .quit: return
        case .signal(let s): throw ExitCode(128 + s)
        }
    }
}
