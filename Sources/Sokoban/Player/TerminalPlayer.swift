// The full-screen terminal player: the event loop joining keys, rules, hints, saving and drawing.

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A player failure shown to the user as one line.
public struct PlayerError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ message: String) { description = message }
}

/// Settings of a player session.
public struct PlayerOptions: Sendable {
    /// Shown in the header and used to name the solutions file.
    public var collectionName: String
    /// The 1-based level to start on.
    public var startLevel = 1
    public var style = PlayerStyle()
    /// Where solutions are saved (nil: do not save).
    public var saveDirectory: String?
    /// A LURD solution to animate instead of playing.
    public var replay: String?
    /// Milliseconds between replay steps.
    public var replayDelay: Int32 = 120
    /// Install SIGTERM/SIGINT/SIGHUP/SIGWINCH handlers (the CLI does; tests driving a
    /// pseudo-terminal in-process do not).
    public var handleSignals = true
    /// Seconds the hint solver may take.
    public var hintTimeLimit = 3.0

    public init(collectionName: String) { self.collectionName = collectionName }
}

/// How a session ended.
public enum PlayerExit: Equatable, Sendable {
    /// The user quit (q, Ctrl-C or end of input).
    case quit
    /// A signal ended the session; the terminal was restored first.
    case signal(Int32)
}

/// Plays a collection in a terminal given by two file descriptors.
public final class TerminalPlayer {
    let collection: LevelCollection
    var options: PlayerOptions
    let terminal: Terminal
    var index: Int
    var game: Game
    var message: String?
    var store: SolutionStore?
    var decoder = KeyDecoder()
    /// Where an earlier session left the current level, offered until taken or the level changes.
    var resumable: Game?
    /// Said after the session when the unfinished moves could not be kept.
    public private(set) var exitNotice: String?
    /// What `y` / `Y` copied, printed after the session for terminals that ignore OSC 52.
    public private(set) var copied: [(what: String, text: String)] = []
    /// Whether the reachable squares are shown.
    var showReach = false
    /// When the current level was opened, for the timer.
    var levelStart = ContinuousClock.now
    /// The time it took, once the level is solved (the timer stops there).
    var solvedSeconds: Int?
    var shownSeconds = -1
    var detector: DeadlockDetector

    static let notSaved = "NOT saved: "
    static let help =
        "arrows/WASD/hjkl move · u/U undo/redo · </> all · r restart · n/p level · ? hint · . reach · y/Y copy · q quit"

    /// Whole seconds since the level was opened.
    var elapsedSeconds: Int {
        solvedSeconds ?? Int((ContinuousClock.now - levelStart).components.seconds)
    }

    public init(
        collection: LevelCollection, options: PlayerOptions, input: Int32 = 0,
        output: Int32 = 1
    ) throws {
        guard !collection.levels.isEmpty else { throw PlayerError("the collection has no levels") }
        guard options.startLevel >= 1 && options.startLevel <= collection.levels.count else {
            throw PlayerError(
                "level \(options.startLevel) requested; there are \(collection.levels.count)"
            )
        }
        self.collection = collection
        self.options = options
        terminal = Terminal(input: input, output: output)
        index = options.startLevel - 1
        game = Game(level: collection.levels[index])
        detector = DeadlockDetector(level: game.level)
        if let directory = options.saveDirectory {
            store = SolutionStore(
                directory: directory, collection: options.collectionName,
                levels: collection.levels)
            message = store?.notice
        }
        if let replay = options.replay {
            do { _ = try LURD.parse(replay) } catch { throw PlayerError("--replay: \(error)") }
        } else {
            offerResume()
        }
    }

    /// Offers the moves an earlier session left on this level, if any.
    func offerResume() {
        resumable = store?.unfinishedGame(for: game.level)
        if let resumable, message == nil {
            message = "c continues where you left this level (\(resumable.moves) moves)"
        }
    }

    /// Keeps the current level's moves when it is left unfinished (and clears them once solved);
    /// a level left untouched keeps what an earlier session saved.
    func keepProgress() {
        guard store != nil, options.replay == nil, game.moves > 0 || game.isSolved else { return }
        do { try store!.recordUnfinished(game) } catch {
            exitNotice = "the moves of the unfinished level were not kept: \(error)"
            message = Self.notSaved + "\(error)"
        }
    }

    func draw() {
        let (columns, rows) = terminal.size()
        var banner: String?
        if game.isSolved {
            banner = "★ Solved in \(game.moves) moves, \(game.pushes) pushes! n: next level ★"
            if options.style.ascii { banner = banner!.replacingOccurrences(of: "★", with: "*") }
        }
        // A failed save must be seen even under the banner, on a line of its own.
        let alert = game.isSolved ? message.flatMap { $0.hasPrefix(Self.notSaved) ? $0 : nil } : nil
        let screen = PlayerScreen(
            game: game, collectionName: options.collectionName, levelNumber: index + 1,
            levelCount: collection.levels.count, best: store?.best(for: game.level),
            message: message ?? (game.moves == 0 ? game.level.note("comment") : nil),
            banner: banner, alert: alert,
            help: options.replay == nil ? Self.help : "replay · q quit", style: options.style,
            reachable: showReach ? game.reachableSquares : nil,
            seconds: options.replay == nil ? elapsedSeconds : nil)
        shownSeconds = elapsedSeconds
        terminal.write(screen.render(columns: columns, rows: rows))
    }

    /// Runs until the user quits or a signal arrives; the terminal is restored either way.
    public func run() -> PlayerExit {
        terminal.enter(handleSignals: options.handleSignals)
        defer { terminal.leave() }
        draw()
        if let replay = options.replay { return runReplay(replay) }
        while true {
            if let s = terminal.takeTermination() {
                keepProgress()
                return .signal(s)
            }
            if terminal.takeResize() { draw() }
            guard let bytes = terminal.read(timeout: 100) else {
                keepProgress()
                return .quit
            }
            if bytes.isEmpty {
                // The timer ticks while the level is unsolved.
                if elapsedSeconds != shownSeconds { draw() }
                continue
            }
            for key in decoder.decode(bytes) {
                if key == .quit {
                    keepProgress()
                    return .quit
                }
                handle(key)
            }
            draw()
        }
    }

    func runReplay(_ text: String) -> PlayerExit {
        let steps = (try? LURD.parse(text)) ?? []
        for (n, step) in steps.enumerated() {
            if let s = terminal.takeTermination() { return .signal(s) }
            if let bytes = terminal.read(timeout: options.replayDelay) {
                if decoder.decode(bytes).contains(.quit) { return .quit }
            } else {
                return .quit
            }
            if game.step(step.direction) == .blocked {
                message = "replay stops at step \(n + 1): the way is blocked"
                draw()
                break
            }
            message = "replay: step \(n + 1)/\(steps.count)"
            draw()
        }
        if message?.hasPrefix("replay stops") != true {
            message = "replay finished · q quit"
        }
        draw()
        while true {
            if let s = terminal.takeTermination() { return .signal(s) }
            if terminal.takeResize() { draw() }
            guard let bytes = terminal.read(timeout: 100) else { return .quit }
            if decoder.decode(bytes).contains(.quit) { return .quit }
        }
    }

    func handle(_ key: PlayerKey) {
        message = nil
        switch key {
        case .move(let direction):
            guard !game.isSolved else {
                message = "solved · n next level · u undo"
                return
            }
            let outcome = game.step(direction)
            if outcome != .blocked && game.isSolved { solved() }
            if case .pushed(let from) = outcome {
                let square = from + direction.offset(width: game.level.width)
                if let reason = DeadPushReason.after(game, pushedTo: square, detector: detector) {
                    message = "dead end: \(reason) · u undoes the push"
                }
            }
        case .undo:
            if !game.undo() { message = "nothing to undo" }
        case .redo:
            if game.redo() {
                if game.isSolved { solved() }
            } else {
                message = "nothing to redo"
            }
        case .restart:
            game.restart()
        case .next:
            if index + 1 < collection.levels.count {
                select(index + 1)
            } else {
                message = "this is the last level"
            }
        case .previous:
            if index > 0 { select(index - 1) } else { message = "this is the first level" }
        case .hint:
            hint()
        case .undoAll:
            if !game.canUndo { message = "nothing to undo" }
            game.restart()
        case .redoAll:
            if !game.canRedo { message = "nothing to redo" }
            while game.redo() {}
            if game.isSolved { solved() }
        case .reach:
            showReach.toggle()
        case .copyLevel:
            copy("level \(index + 1)", game.level.xsb())
        case .copyMoves:
            if game.moves == 0 {
                message = "no moves to copy yet"
            } else {
                copy("moves", game.lurd)
            }
        case .resume:
            if let resumable, game.moves > 0 {
                message =
                    "r restarts the level, then c continues the \(resumable.moves) earlier moves"
            } else if let resumable {
                game = resumable
                self.resumable = nil
                message = "continued after \(game.moves) moves · u undoes them"
            } else {
                message = "nothing to continue on this level"
            }
        case .quit:
            break
        }
    }

    func select(_ newIndex: Int) {
        keepProgress()
        index = newIndex
        game = Game(level: collection.levels[index])
        detector = DeadlockDetector(level: game.level)
        levelStart = ContinuousClock.now
        solvedSeconds = nil
        offerResume()
    }

    /// Puts `text` on the clipboard through OSC 52 (terminals that allow it) and keeps it to be
    /// printed after the session.
    func copy(_ what: String, _ text: String) {
        terminal.write("\u{1B}]52;c;" + Data(text.utf8).base64EncodedString() + "\u{07}")
        copied.append((what, text))
        message = "copied the \(what) (\(text.count) characters; printed on exit too)"
    }

    func solved() {
        if solvedSeconds == nil { solvedSeconds = elapsedSeconds }
        guard store != nil else { return }
        let solution = SavedSolution(
            title: game.level.title, lurd: game.lurd, moves: game.moves, pushes: game.pushes)
        do {
            if try store!.record(solution, for: game.level) {
                message = "solution saved"
            }
        } catch {
            message = Self.notSaved + "\(error)"
        }
    }

    func hint() {
        guard !game.isSolved else { return }
        message = "thinking…"
        draw()
        let result = Solver.solve(
            game.level, boxes: game.boxes, player: game.player,
            options: SolverOptions(timeLimit: options.hintTimeLimit, nodeLimit: 2_000_000))
        switch result.status {
        case .solved:
            let lurd = result.solution ?? ""
            let upTo =
                lurd.firstIndex(where: \.isUppercase).map { lurd.index(after: $0) }
                ?? lurd.endIndex
            message = "hint: \(lurd[..<upTo])  (\(result.pushes) pushes to go)"
        case .unsolvable:
            message = "hint: no solution from here — undo (u) or restart (r)"
        case .timeLimit, .nodeLimit:
            message = "hint: the solver found nothing in time"
        }
    }
}
