// Saved solutions per collection under $XDG_DATA_HOME, best by pushes then moves, written
// atomically so progress survives restarts and crashes.

import Core
import Foundation

/// A solution kept for one level.
public struct SavedSolution: Codable, Sendable, Equatable {
    /// The level's title, the LURD solution, and its counts.
    public var title: String?
    public var lurd: String
    public var moves: Int
    public var pushes: Int

    /// Whether this is better than `other`: fewer pushes, then fewer moves.
    public func isBetter(than other: SavedSolution) -> Bool {
        (pushes, moves) < (other.pushes, other.moves)
    }
}

/// The solutions of one collection, stored as JSON keyed by 1-based level number.
public struct SolutionStore: Sendable {
    /// The file this store reads and writes.
    public let path: String
    /// Saved solutions by 1-based level number.
    public private(set) var solutions: [Int: SavedSolution] = [:]

    /// The default directory: `$XDG_DATA_HOME/laser/solutions`, or `~/.local/share/...`.
    public static func defaultDirectory(
        environment: [String: String] = ProcessInfo.processInfo.environment
    )
        -> String
    {
        if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") {
            return xdg + "/laser/solutions"
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return home + "/.local/share/laser/solutions"
    }

    /// Why saving is off (the file exists but could not be read, or a damaged file could not be
    /// moved aside): nothing is written, so nothing saved before is overwritten.
    public private(set) var savingDisabled: String?
    /// What happened when the file was opened, for the player to show (a damaged file set aside).
    public private(set) var notice: String?

    /// Opens (without creating) the store for `collection` in `directory`. A file that is not a
    /// valid store is never overwritten: it is renamed to `NAME.json.damaged` (then `.damaged-2`,
    /// ...) and `notice` says so; a file that cannot be read turns saving off.
    public init(directory: String, collection: String) {
        let safe = String(
            collection.map {
                $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_"
            })
        path = directory + "/" + (safe.isEmpty ? "levels" : safe) + ".json"
        guard FileManager.default.fileExists(atPath: path) else { return }
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = "cannot read \(path): \(String(cString: strerror(errno)))"
            savingDisabled = reason
            notice = reason + "; solutions will not be saved"
            return
        }
        if let decoded = try? JSONDecoder().decode([String: SavedSolution].self, from: data) {
            for (key, value) in decoded { if let n = Int(key), n >= 1 { solutions[n] = value } }
            return
        }
        var aside = path + ".damaged"
        var n = 2
        while FileManager.default.fileExists(atPath: aside) {
            aside = path + ".damaged-\(n)"
            n += 1
        }
        if rename(path, aside) == 0 {
            notice = "saved solutions in \(path) were damaged; kept as \(aside), starting afresh"
        } else {
            let reason = String(cString: strerror(errno))
            savingDisabled = "\(path) is damaged and could not be moved aside (\(reason))"
            notice = savingDisabled! + "; solutions will not be saved"
        }
    }

    /// Records `solution` for level `number` if it beats the saved one; returns whether it did.
    /// Throws if the file cannot be written.
    @discardableResult
    public mutating func record(_ solution: SavedSolution, level number: Int) throws -> Bool {
        if let old = solutions[number], !solution.isBetter(than: old) { return false }
        if let savingDisabled { throw PlayerError(savingDisabled) }
        var updated = solutions
        updated[number] = solution
        try save(updated)
        solutions = updated
        return true
    }

    private func save(_ solutions: [Int: SavedSolution]) throws {
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw PlayerError("cannot create \(directory): \(TerminalText.reason(error))")
        }
        var byKey: [String: SavedSolution] = [:]
        for (n, s) in solutions { byKey[String(n)] = s }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(byKey)
        let temporary = directory + "/.\((path as NSString).lastPathComponent).tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw PlayerError("cannot write \(temporary): \(String(cString: strerror(errno)))")
        }
        if rename(temporary, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw PlayerError("cannot write \(path): \(reason)")
        }
    }
}
