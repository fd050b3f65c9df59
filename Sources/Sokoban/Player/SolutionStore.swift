// Saved solutions per collection under $XDG_DATA_HOME, best by pushes then moves, written
// atomically so progress survives restarts and crashes.

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

    /// Opens (without creating) the store for `collection` in `directory`. An unreadable or
    /// corrupt file is treated as empty and replaced on the next save.
    public init(directory: String, collection: String) {
        let safe = String(
            collection.map {
                $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_"
            })
        path = directory + "/" + (safe.isEmpty ? "levels" : safe) + ".json"
        if let data = FileManager.default.contents(atPath: path),
            let decoded = try? JSONDecoder().decode([String: SavedSolution].self, from: data)
        {
            for (key, value) in decoded { if let n = Int(key) { solutions[n] = value } }
        }
    }

    /// Records `solution` for level `number` if it beats the saved one; returns whether it did.
    /// Throws if the file cannot be written.
    @discardableResult
    public mutating func record(_ solution: SavedSolution, level number: Int) throws -> Bool {
        if let old = solutions[number], !solution.isBetter(than: old) { return false }
        solutions[number] = solution
        try save()
        return true
    }

    private func save() throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true)
        var byKey: [String: SavedSolution] = [:]
        for (n, s) in solutions { byKey[String(n)] = s }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(byKey)
        let temporary = directory + "/.\((path as NSString).lastPathComponent).tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw PlayerError("cannot write \(temporary)")
        }
        if rename(temporary, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw PlayerError("cannot write \(path): \(reason)")
        }
    }
}
