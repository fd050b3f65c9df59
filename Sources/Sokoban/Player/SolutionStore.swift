// Saved solutions under $XDG_DATA_HOME, keyed by the level itself (a hash of its normalised
// board), so the same level in any collection or at any position shows its best and a different
// level never does. Every save re-reads the file under a lock and merges, so any number of
// sessions at once keep every solution; every solution is replayed before it is shown.

import Core
import Foundation

/// A solution kept for one level.
public struct SavedSolution: Codable, Sendable, Equatable {
    /// The level's title, the LURD solution, and its counts.
    public var title: String?
    public var lurd: String
    public var moves: Int
    public var pushes: Int

    public init(title: String?, lurd: String, moves: Int, pushes: Int) {
        self.title = title
        self.lurd = lurd
        self.moves = moves
        self.pushes = pushes
    }

    /// Whether this is better than `other`: fewer pushes, then fewer moves.
    public func isBetter(than other: SavedSolution) -> Bool {
        (pushes, moves) < (other.pushes, other.moves)
    }
}

/// A solution from a file of the old layout (keyed by collection and level number) that does not
/// solve the level now at its number: kept, never dropped, in case the collection changes back.
public struct SetAsideSolution: Codable, Sendable, Equatable {
    public var collection: String
    public var level: Int
    public var solution: SavedSolution
    public var reason: String
}

/// Every saved solution, one JSON file keyed by level.
public struct SolutionStore: Sendable {
    /// The file this store reads and writes.
    public let path: String
    /// Best solutions by level key (`key(of:)`), as last read or written.
    public private(set) var solutions: [String: SavedSolution] = [:]
    /// Imported solutions that solve no level at their old number.
    public private(set) var setAside: [SetAsideSolution] = []
    /// The moves of levels left unfinished (LURD by level key), the last session's for each.
    public private(set) var unfinished: [String: String] = [:]
    /// Why saving is off (the file exists but could not be read, or a damaged file could not be
    /// moved aside): nothing is written, so nothing saved before is overwritten.
    public private(set) var savingDisabled: String?
    /// What happened when the store was opened, for the player to show.
    public internal(set) var notice: String?

    /// The store's file name: '@' is one of the characters the old layout's per-collection names
    /// could not hold, so it never meets one of those files.
    public static let fileName = "levels@v2.json"

    /// What the file holds.
    struct Contents: Codable {
        var format = "laser solutions by level, 2"
        var levels: [String: SavedSolution] = [:]
        var setAside: [SetAsideSolution] = []
        /// Optional so that files written before it existed still decode (and an empty one is
        /// not written).
        var unfinished: [String: String]?
    }

    /// The default directory: `$XDG_DATA_HOME/laser/solutions`, or `~/.local/share/...`.
    public static func defaultDirectory(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String {
        if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") {
            return xdg + "/laser/solutions"
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return home + "/.local/share/laser/solutions"
    }

    /// The level's identity: FNV-1a of its board as XSB rows, without title or notes, with the
    /// blank margin (rows and columns outside the walls) removed.
    public static func key(of level: Level) -> String {
        var rows = level.rows()
        while rows.first?.isEmpty == true { rows.removeFirst() }
        while rows.last?.isEmpty == true { rows.removeLast() }
        let margin =
            rows.filter { !$0.isEmpty }.map { $0.prefix { $0 == " " }.count }.min() ?? 0
        let text = rows.map { String($0.dropFirst(margin)) }.joined(separator: "\n")
        return "fnv1a64:" + String(FNV1a.hash(Array(text.utf8)), radix: 16)
    }

    /// Opens (without creating) the store in `directory`. A file that is not a valid store is
    /// never overwritten: it is renamed to `NAME.damaged` (then `.damaged-2`, ...) and `notice`
    /// says so; a file that cannot be read turns saving off. With `collection` and its `levels`,
    /// that collection's file of the old layout (`NAME.json`, keyed by level number) is imported
    /// first: each solution is replayed against the level at its number and kept by that level's
    /// key if it solves it, set aside otherwise; the old file is then renamed `NAME.json.imported`.
    public init(directory: String, collection: String? = nil, levels: [Level] = []) {
        path = directory + "/" + Self.fileName
        do {
            let contents = try Self.read(path)
            solutions = contents.levels
            setAside = contents.setAside
            unfinished = contents.unfinished ?? [:]
        } catch let problem as StoreProblem {
            switch problem {
            case .unreadable(let reason):
                savingDisabled = reason
                notice = reason + "; solutions will not be saved"
                return
            case .damaged(let aside):
                notice =
                    "saved solutions in \(path) were damaged; kept as \(aside), starting afresh"
            case .stuck(let reason):
                savingDisabled = reason
                notice = reason + "; solutions will not be saved"
                return
            }
        } catch {
            savingDisabled = "\(error)"
            return
        }
        if let collection { importOldLayout(directory: directory, collection: collection, levels) }
    }

    /// The best saved solution of `level`, replayed on it (its counts are the replay's); nil when
    /// none is saved or the saved one does not solve it.
    public func best(for level: Level) -> SavedSolution? {
        guard var saved = solutions[Self.key(of: level)],
            let game = try? LURD.verify(saved.lurd, on: level)
        else { return nil }
        saved.moves = game.moves
        saved.pushes = game.pushes
        return saved
    }

    /// The game where a session left `level` unfinished, replayed on it; nil when no moves are
    /// kept or they no longer play on the level.
    public func unfinishedGame(for level: Level) -> Game? {
        guard let lurd = unfinished[Self.key(of: level)], !lurd.isEmpty,
            let game = try? LURD.verify(lurd, on: level, requireSolved: false), !game.isSolved
        else { return nil }
        return game
    }

    /// Keeps the moves of `game` as its level's unfinished state (a solved game clears it), merged
    /// under the lock like a solution. Throws if the file cannot be written.
    public mutating func recordUnfinished(_ game: Game) throws {
        let key = Self.key(of: game.level)
        let lurd = game.isSolved || game.moves == 0 ? nil : game.lurd
        guard unfinished[key] != lurd else { return }
        if let savingDisabled { throw PlayerError(savingDisabled) }
        try merge { contents in
            var kept = contents.unfinished ?? [:]
            kept[key] = lurd
            contents.unfinished = kept.isEmpty ? nil : kept
        }
    }

    /// Records `solution` of `level` if it solves it and beats the best saved by any session;
    /// returns whether it did. The file is re-read under its lock and merged, so solutions other
    /// sessions saved meanwhile are kept. Throws if the file cannot be written.
    @discardableResult
    public mutating func record(_ solution: SavedSolution, for level: Level) throws -> Bool {
        let game: Game
        do { game = try LURD.verify(solution.lurd, on: level) } catch {
            throw PlayerError("not saved: the solution does not solve the level (\(error))")
        }
        var checked = solution
        checked.moves = game.moves
        checked.pushes = game.pushes
        let key = Self.key(of: level)
        if let old = solutions[key], !checked.isBetter(than: old) { return false }
        if let savingDisabled { throw PlayerError(savingDisabled) }
        var improved = false
        try merge { contents in
            // Solved: no longer unfinished.
            contents.unfinished?[key] = nil
            if contents.unfinished?.isEmpty == true { contents.unfinished = nil }
            if let old = contents.levels[key], !checked.isBetter(than: old) { return }
            contents.levels[key] = checked
            improved = true
        }
        return improved
    }

    /// Re-reads the file under its lock, lets `change` edit it, merges what this store holds and
    /// writes it back atomically; then this store holds the merged contents.
    mutating func merge(_ change: (inout Contents) -> Void) throws {
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw PlayerError("cannot create \(directory): \(TerminalText.reason(error))")
        }
        let (held, kept) = (solutions, setAside)
        let merged: Contents
        do {
            merged = try OutputLock.whileHeld(on: path) {
                var contents: Contents
                do { contents = try Self.read(path) } catch StoreProblem.damaged {
                    // Damaged since this session opened it: set aside, as on opening.
                    contents = Contents()
                }
                for (key, saved) in held {
                    if let other = contents.levels[key], !saved.isBetter(than: other) { continue }
                    contents.levels[key] = saved
                }
                for item in kept where !contents.setAside.contains(item) {
                    contents.setAside.append(item)
                }
                change(&contents)
                try AtomicFile.write(
                    JSONEncoding.data(contents, style: [.pretty, .snakeCaseKeys]), to: path)
                return contents
            }
        } catch let error as PlayerError {
            throw error
        } catch {
            throw PlayerError("\(error)")
        }
        solutions = merged.levels
        setAside = merged.setAside
        unfinished = merged.unfinished ?? [:]
    }

    /// Why a store file could not be used.
    enum StoreProblem: Error, CustomStringConvertible {
        /// It exists but cannot be read.
        case unreadable(String)
        /// It was not a store; moved aside to the given path.
        case damaged(String)
        /// It was not a store and could not be moved aside.
        case stuck(String)

        var description: String {
            switch self {
            case .unreadable(let reason), .stuck(let reason): return reason
            case .damaged(let aside): return "the saved solutions were damaged; kept as \(aside)"
            }
        }
    }

    /// The contents of the store at `path` (empty when there is no file).
    static func read(_ path: String) throws -> Contents {
        guard FileManager.default.fileExists(atPath: path) else { return Contents() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StoreProblem.unreadable(
                "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        if let contents = try? decoder.decode(Contents.self, from: data) { return contents }
        let aside = try setAsideDamaged(path)
        throw StoreProblem.damaged(aside)
    }

    /// Renames a damaged file to the first free `PATH.damaged`, `PATH.damaged-2`, ...
    static func setAsideDamaged(_ path: String) throws -> String {
        let aside = firstFreePath(path + ".damaged")
        guard rename(path, aside) == 0 else {
            let reason = String(cString: strerror(errno))
            throw StoreProblem.stuck("\(path) is damaged and could not be moved aside (\(reason))")
        }
        return aside
    }

    /// `base`, or `base-2`, `base-3`, ...: the first that does not exist.
    static func firstFreePath(_ base: String) -> String {
        var path = base
        var n = 2
        while FileManager.default.fileExists(atPath: path) {
            path = base + "-\(n)"
            n += 1
        }
        return path
    }
}
