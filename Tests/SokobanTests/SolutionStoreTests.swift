// Saved solutions keyed by the level: found wherever the level appears and never for another,
// replayed before they are shown, merged across sessions saving at once, imported from the old
// per-collection layout without losing one, and never overwritten when the file is damaged.

import Foundation
import Testing

@testable import Sokoban

@Suite struct SolutionStoreTests {
    let one = try! level("#####\n#@$.#\n#####")
    let two = try! level("######\n#@ $.#\n######")

    func solution(_ lurd: String, moves: Int = 0, pushes: Int = 0) -> SavedSolution {
        SavedSolution(title: nil, lurd: lurd, moves: moves, pushes: pushes)
    }

    @Test func aSolutionBelongsToTheLevelNotToItsCollectionOrNumber() throws {
        let dir = FileManagerTemp.make() + "/solutions"
        var store = SolutionStore(directory: dir, collection: "first", levels: [one, two])
        #expect(try store.record(solution("R"), for: one))
        // Another collection, the level at another position, indented and retitled: the same.
        let moved = try Level(rows: ["", "   #####", "   #@$.#", "   #####"], title: "Moved")
        let elsewhere = SolutionStore(directory: dir, collection: "other", levels: [two, moved])
        #expect(elsewhere.best(for: moved)?.lurd == "R")
        #expect(SolutionStore.key(of: moved) == SolutionStore.key(of: one))
        // A different board never shows it.
        #expect(elsewhere.best(for: two) == nil)
        #expect(SolutionStore.key(of: two) != SolutionStore.key(of: one))
    }

    @Test func keepsTheBestAndReplaysBeforeShowing() throws {
        let dir = FileManagerTemp.make()
        var store = SolutionStore(directory: dir)
        // Counts come from the replay, not from the caller.
        #expect(try store.record(solution("rlrlrR", moves: 1, pushes: 1), for: two))
        #expect(store.best(for: two).map { ($0.moves, $0.pushes) }! == (6, 1))
        #expect(try !store.record(solution("rlrlrlrR"), for: two))
        #expect(try store.record(solution("rR"), for: two))
        #expect(SolutionStore(directory: dir).best(for: two)?.lurd == "rR")
        // Not a solution: refused, nothing saved.
        #expect(throws: PlayerError.self) { try store.record(solution("r"), for: two) }
        // A saved solution that does not solve the level (an edited file) is not shown.
        let key = SolutionStore.key(of: two)
        let text = try String(contentsOfFile: store.path, encoding: .utf8)
            .replacingOccurrences(of: "\"rR\"", with: "\"rL\"")
        try text.write(toFile: store.path, atomically: true, encoding: .utf8)
        let edited = SolutionStore(directory: dir)
        #expect(edited.solutions[key]?.lurd == "rL" && edited.best(for: two) == nil)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(leftovers == [".levels@v2.json.lock", "levels@v2.json"])
    }

    /// The player's resume: the moves of a level left unfinished are kept by the level's key,
    /// survive another session's save, and are cleared once the level is solved.
    @Test func anUnfinishedLevelIsKeptUntilSolved() throws {
        let dir = FileManagerTemp.make()
        var store = SolutionStore(directory: dir)
        var game = Game(level: two)
        game.step(.right)
        try store.recordUnfinished(game)
        let reopened = SolutionStore(directory: dir)
        #expect(reopened.unfinishedGame(for: two)?.lurd == "r")
        #expect(reopened.unfinishedGame(for: one) == nil)
        var other = SolutionStore(directory: dir)
        #expect(try other.record(solution("R"), for: one))
        #expect(SolutionStore(directory: dir).unfinishedGame(for: two)?.lurd == "r")
        game.step(.right)
        #expect(game.isSolved)
        try store.recordUnfinished(game)
        let solved = SolutionStore(directory: dir)
        #expect(solved.unfinishedGame(for: two) == nil && solved.best(for: one)?.lurd == "R")
        // With nothing unfinished the file has no such key, as files written before it.
        #expect(!(try String(contentsOfFile: store.path, encoding: .utf8)).contains("unfinished"))
        // Moves that no longer play on the level (an edited file) are not offered.
        game = Game(level: two)
        game.step(.right)
        try store.recordUnfinished(game)
        let text = try String(contentsOfFile: store.path, encoding: .utf8)
            .replacingOccurrences(of: ": \"r\"", with: ": \"l\"")
        try text.write(toFile: store.path, atomically: true, encoding: .utf8)
        let edited = SolutionStore(directory: dir)
        #expect(edited.unfinished.values.contains("l") && edited.unfinishedGame(for: two) == nil)
    }

    @Test func sessionsSavingAtOnceKeepEverySolution() throws {
        let dir = FileManagerTemp.make()
        // Both opened before either saved, as two players started together.
        var a = SolutionStore(directory: dir, collection: "set", levels: [one, two])
        var b = SolutionStore(directory: dir, collection: "set", levels: [one, two])
        #expect(try a.record(solution("R"), for: one))
        #expect(try b.record(solution("rR"), for: two))
        let reopened = SolutionStore(directory: dir)
        #expect(reopened.best(for: one)?.lurd == "R" && reopened.best(for: two)?.lurd == "rR")
        // A worse solution from a session that had not seen the better one does not replace it.
        #expect(try !a.record(solution("rlrR"), for: two))
        #expect(SolutionStore(directory: dir).best(for: two)?.lurd == "rR")
        #expect(a.solutions.count == 2)
    }

    @Test func theOldLayoutIsImportedAndNothingInItIsDropped() throws {
        let dir = FileManagerTemp.make()
        // Keyed by number: 1 solves level 1, 2 no longer solves level 2 (the collection changed),
        // 7 is past the end.
        let old = """
            {"1": {"lurd": "R", "moves": 1, "pushes": 1},
             "2": {"lurd": "R", "moves": 1, "pushes": 1},
             "7": {"lurd": "uu", "moves": 2, "pushes": 0}}
            """
        try old.write(toFile: dir + "/my_set.json", atomically: true, encoding: .utf8)
        let store = SolutionStore(directory: dir, collection: "my set", levels: [one, two])
        #expect(store.best(for: one)?.lurd == "R" && store.best(for: two) == nil)
        #expect(store.setAside.map(\.level).sorted() == [2, 7])
        #expect(store.notice?.contains("imported 1 saved solution") == true)
        #expect(!FileManager.default.fileExists(atPath: dir + "/my_set.json"))
        #expect(try String(contentsOfFile: dir + "/my_set.json.imported", encoding: .utf8) == old)
        let reopened = SolutionStore(directory: dir, collection: "my set", levels: [one, two])
        #expect(reopened.setAside.count == 2 && reopened.solutions.count == 1)
    }

    @Test func aDamagedFileIsKeptAsideNeverOverwritten() throws {
        let dir = FileManagerTemp.make()
        let path = dir + "/" + SolutionStore.fileName
        try "{not json".write(toFile: path, atomically: false, encoding: .utf8)
        var fresh = SolutionStore(directory: dir)
        #expect(fresh.solutions.isEmpty)
        #expect(fresh.notice?.contains("levels@v2.json.damaged") == true)
        #expect(try String(contentsOfFile: path + ".damaged", encoding: .utf8) == "{not json")
        #expect(try fresh.record(solution("R"), for: one))
        try "[1,".write(toFile: path, atomically: false, encoding: .utf8)
        _ = SolutionStore(directory: dir)
        #expect(try String(contentsOfFile: path + ".damaged-2", encoding: .utf8) == "[1,")
        #expect(
            SolutionStore.defaultDirectory(environment: ["XDG_DATA_HOME": "/x"])
                == "/x/laser/solutions")
        #expect(
            SolutionStore.defaultDirectory(environment: ["HOME": "/h"])
                == "/h/.local/share/laser/solutions")
    }

    /// A save that fails is not shown as saved: the error is thrown (the player shows it) and the
    /// failed solution does not become the level's best.
    @Test func aFailedSaveIsReported() throws {
        let blocker = FileManagerTemp.make() + "/file"
        try "x".write(toFile: blocker, atomically: false, encoding: .utf8)
        var store = SolutionStore(directory: blocker + "/solutions")
        #expect {
            try store.record(solution("R"), for: one)
        } throws: {
            "\($0)".hasPrefix("cannot create \(blocker)/solutions: ") && !"\($0)".contains("\n")
                && !"\($0)".contains("NSCocoaErrorDomain")
        }
        #expect(store.solutions.isEmpty && store.best(for: one) == nil)
    }
}
