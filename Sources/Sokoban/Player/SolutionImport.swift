// Saved solutions of the old layout (one file per collection name, keyed by level number) moved
// into the store keyed by level: each is replayed against the level now at its number, kept under
// that level's key if it solves it and set aside otherwise, never dropped.

import Core
import Foundation

extension SolutionStore {
    /// The old layout's file of a collection: its name with unsafe characters as '_'.
    public static func oldLayoutPath(directory: String, collection: String) -> String {
        let safe = String(
            collection.map {
                $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_"
            })
        return directory + "/" + (safe.isEmpty ? "levels" : safe) + ".json"
    }

    /// Imports `collection`'s old-layout file, if there is one, then renames it `.imported`.
    mutating func importOldLayout(directory: String, collection: String, _ levels: [Level]) {
        let old = Self.oldLayoutPath(directory: directory, collection: collection)
        guard FileManager.default.fileExists(atPath: old) else { return }
        guard let data = FileManager.default.contents(atPath: old),
            let byNumber = try? JSONDecoder().decode([String: SavedSolution].self, from: data)
        else {
            notice = "\(old) is not a file of saved solutions; left as it is"
            return
        }
        var found: [String: SavedSolution] = [:]
        var aside: [SetAsideSolution] = []
        for (key, saved) in byNumber.sorted(by: { $0.key < $1.key }) {
            let number = Int(key) ?? 0
            guard number >= 1 && number <= levels.count else {
                aside.append(
                    SetAsideSolution(
                        collection: collection, level: number, solution: saved,
                        reason: "the collection has no level \(key)"))
                continue
            }
            let level = levels[number - 1]
            do {
                let game = try LURD.verify(saved.lurd, on: level)
                var checked = saved
                (checked.moves, checked.pushes) = (game.moves, game.pushes)
                let id = Self.key(of: level)
                if let other = found[id], !checked.isBetter(than: other) { continue }
                found[id] = checked
            } catch {
                aside.append(
                    SetAsideSolution(
                        collection: collection, level: number, solution: saved,
                        reason: "does not solve level \(number) now: \(error)"))
            }
        }
        do {
            try merge { contents in
                for (id, saved) in found {
                    if let other = contents.levels[id], !saved.isBetter(than: other) { continue }
                    contents.levels[id] = saved
                }
                for item in aside where !contents.setAside.contains(item) {
                    contents.setAside.append(item)
                }
            }
        } catch {
            notice = "could not import \(old): \(error); it is left as it is"
            return
        }
        if rename(old, Self.firstFreePath(old + ".imported")) == 0 {
            notice =
                "imported \(found.count) saved solution\(found.count == 1 ? "" : "s") from \(old)"
                + (aside.isEmpty
                    ? "" : " (\(aside.count) set aside: they solve no level at their number)")
        }
    }
}
