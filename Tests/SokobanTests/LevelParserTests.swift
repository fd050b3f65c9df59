// Tests of reading and writing levels: formats, notes, run-length rows and every validation error.

import Foundation
import Testing

@testable import Sokoban

@Suite struct LevelParserTests {
    @Test func readsABoardWithAllSymbols() throws {
        let l = try level(
            """
              #####
            ###  .#
            #@$* +#
            #-_ $ #
            #######
            """.replacingOccurrences(of: "+", with: "."))
        #expect(l.width == 7 && l.height == 5)
        #expect(l.boxCount == 3)
        #expect(l.goals.count == 3)
        #expect(l.player == 2 * 7 + 1)
        #expect(l.squares[0] == .outside)  // irregular outline: the corner is not floor
        #expect(l.squares[3 * 7 + 1] == .floor && l.squares[3 * 7 + 2] == .floor)
        #expect(l.isGoal[2 * 7 + 3] && l.boxes.contains(2 * 7 + 3))
    }

    @Test func playerOnGoal() throws {
        let l = try level("#####\n#+$ #\n#####")
        #expect(l.isGoal[l.player])
        #expect(l.rows() == ["#####", "#+$ #", "#####"])
    }

    @Test func collectionWithTitlesNotesAndComments() throws {
        let text = """
            Title: My set
            Author: Someone

            :: a comment that is ignored
            Level one
            #####
            #@$.#
            #####
            Author: A. Person
            Comment: first

            #####
            #@$.#
            #####
            Title: Second
            """
        let c = try LevelCollection(text: text)
        #expect(c.title == "My set")
        #expect(c.levels.count == 2)
        #expect(c.levels[0].title == "Level one")
        #expect(c.levels[0].author == "A. Person")
        #expect(c.levels[0].note("comment") == "first")
        #expect(c.levels[1].title == "Second")
    }

    @Test func windowsLineEndingsAndByteOrderMark() throws {
        let c = try LevelCollection(text: "\u{FEFF}Title: Set\r\n\r\n#####\r\n#@$.#\r\n#####\r\n")
        #expect(c.title == "Set" && c.levels.count == 1 && c.levels[0].width == 5)
    }

    /// Random text built from board characters, digits, separators and junk either parses into
    /// valid levels or throws a LevelError; it never crashes or hangs.
    @Test func randomInputNeverCrashes() throws {
        var rng = TestRNG(seed: 77)
        let alphabet = Array("#@+$*.-_ |0123456789;:xT\n\n\n\n####")
        var parsed = 0
        for _ in 0..<2000 {
            let length = Int(rng.next() % 200)
            let text = String(
                (0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
            do {
                let c = try LevelCollection(text: text)
                for l in c.levels {
                    #expect(l.boxCount > 0 && l.boxCount == l.goals.count)
                    #expect(l.squares[l.player] == .floor)
                }
                parsed += 1
            } catch is LevelError {
            }
        }
        // Mostly errors, as expected of noise; the point is that nothing else happens.
        #expect(parsed < 2000)
    }

    @Test func boxobanHeaders() throws {
        let text = "; 0\n#####\n#@$.#\n#####\n\n; 17\n######\n#@$ .#\n######\n"
        let c = try LevelCollection(text: text)
        #expect(c.levels.map(\.title) == ["0", "17"])
    }

    @Test func runLengthRows() throws {
        let plain = try level("#######\n#@ $ .#\n#######")
        let encoded = try LevelCollection(text: "7#|#@-$-.#|7#\n").levels[0]
        #expect(encoded.squares == plain.squares)
        #expect(encoded.boxes == plain.boxes && encoded.player == plain.player)
        let multi = try LevelCollection(text: "7#\n#@2 $.#\n7#\n").levels[0]
        #expect(multi.rows()[1] == "#@  $.#")
    }

    @Test func writesWhatItReads() throws {
        let text = """
            Title: Set

            ####
            # .#
            #  ###
            #*@  #
            #  $ #
            #  ###
            ####
            Title: Round trip
            Author: Me
            Solution: lurd
            """
        let c = try LevelCollection(text: text)
        let again = try LevelCollection(text: c.xsb())
        #expect(again.levels == c.levels)
        #expect(again.title == "Set")
        #expect(again.levels[0].note("solution") == "lurd")
    }

    /// The error of the first refused board: thrown when no board is good, else listed as skipped.
    func error(_ text: String) -> LevelError? {
        do { return try LevelCollection(text: text).skipped.first } catch let e as LevelError {
            return e
        } catch {
            return nil
        }
    }

    @Test func unknownCharacterNamesLevelLineAndColumn() {
        let e = error("#####\n#@$.#\n#####\n\n#####\n#@$x.#\n#####\n")
        #expect(e?.problem == .unknownCharacter("x"))
        #expect(e?.level == 2 && e?.line == 6 && e?.column == 4)
        #expect(e?.description == "level 2, line 6, column 4: unknown character 'x' (U+78)")
    }

    @Test func playerCounts() {
        #expect(error("#####\n# $.#\n#####")?.problem == .noPlayer)
        let several = error("######\n#@$.@#\n######")
        #expect(several?.problem == .severalPlayers(2))
        #expect(several?.line == 2 && several?.column == 5)
    }

    @Test func boxesAndGoals() {
        #expect(error("######\n#@$$.#\n######")?.problem == .boxGoalMismatch(boxes: 2, goals: 1))
        #expect(error("#####\n#@ .#\n#####")?.problem == .noBoxes)
        #expect(error("#####\n#@  #\n#####")?.problem == .noBoxes)
    }

    @Test func openRegion() {
        let e = error("#####\n#@$.\n#####")
        #expect(e?.problem == .openToOutside)
        #expect(e?.line == 2)
        let gap = error("## ##\n#@$.#\n#####")
        #expect(gap?.problem == .openToOutside && gap?.line == 1 && gap?.column == 3)
    }

    @Test func boxOnTheBoardEdgeOutsideTheWalls() {
        let e = error("#####  \n#@$.# .$\n#####  ")
        #expect(e?.problem == .outsidePlayerRegion("a box"))
        #expect(e?.column == 8)
    }

    /// Microban 155 ("The Dungeon") has a box on a goal walled off from the player: legal, as
    /// players load it. An unmatched box walled off makes the level unsolvable: the solver's
    /// verdict, not a parse error.
    @Test func boxesWalledOffFromThePlayer() throws {
        let decorated = try Level(rows: ["#######", "#@$.#*#", "#######"])
        #expect(decorated.boxCount == 2)
        #expect(Solver.solve(decorated).status == .solved)
        #expect(decorated.rows() == ["#######", "#@$.#*#", "#######"])
        let stranded = try Level(rows: ["#######", "#@ .#$#", "#######"])
        #expect(Solver.solve(stranded).status == .unsolvable)
    }

    @Test func sizeBound() {
        let wide = String(repeating: "#", count: 70)
        let e = error("\(wide)\n#@$.\(String(repeating: " ", count: 65))#\n\(wide)")
        #expect(e?.problem == .tooLarge(width: 70, height: 3, limit: Level.maxSide))
        // Run-length boards report their true size, rows and all.
        #expect(error("999#\n")?.problem == .tooLarge(width: 999, height: 1, limit: Level.maxSide))
        #expect(
            error("70#|#@$.65-#|70#\n")?.problem
                == .tooLarge(width: 70, height: 3, limit: Level.maxSide))
        let tall = (0..<100).map { _ in "#" }.joined(separator: "|")
        #expect(error(tall)?.problem == .tooLarge(width: 1, height: 100, limit: Level.maxSide))
        // Trailing blanks do not widen a board.
        #expect(error("#####\n#@$.#\(String(repeating: " ", count: 200))\n#####")?.problem == nil)
    }

    /// A board far over the limit is refused without building it: a 4-million-square row costs
    /// the time of one pass over its bytes (a 64 MB line took 25 s and 2.3 GB before).
    @Test func hugeRowIsRefusedWithItsTrueWidth() {
        let row = String(repeating: "#", count: 4_000_000)
        let e = error(row + "\n#@$.#\n#####\n")
        #expect(e?.problem == .tooLarge(width: 4_000_000, height: 3, limit: Level.maxSide))
        #expect(e?.level == 1 && e?.line == 1)
    }

    /// Found by the fuzzer's round-trip check: a trailing `|` made an empty row that the writer
    /// turned into a blank line, so the level read back differently.
    @Test func emptyRunLengthRowsAtTheEdgesAreDropped() throws {
        let level = try #require(try LevelCollection(text: "7#|#.@$#|7#|\n").levels.first)
        #expect(level.height == 3)
        #expect(try LevelCollection(text: LevelCollection(levels: [level]).xsb()).levels == [level])
        #expect(try LevelCollection(text: "7#|#.@$#|7#||\n").levels.first?.height == 3)
        #expect(
            error("7#||#.@$#|7#\n")?.problem
                == .malformed("row 2 of the board is empty (from '||')"))
    }

    /// Found by the fuzzer's round-trip check: a stray carriage return became a title that the
    /// writer could not write back.
    @Test func strayCarriageReturnsAreNotTitles() throws {
        let c = try LevelCollection(text: "\r\r\n####\n#@$.#\n####")
        #expect(c.levels[0].title == nil)
        #expect(try LevelCollection(text: c.xsb()).levels == c.levels)
        #expect(try LevelCollection(text: "; A\r\r\n#####\n#@$.#\n#####").levels[0].title == "A")
    }

    @Test func aBadLevelIsSkippedAndNamed() throws {
        let text = """
            Title: Set

            ; First
            #####
            #@$.#
            #####

            ; Second
            #####
            #@$x#
            #####
            Author: dropped with its level

            ; Third
            ######
            #@$ .#
            ######
            Author: Someone
            """
        let c = try LevelCollection(text: text)
        #expect(c.levels.map(\.title) == ["First", "Third"])
        #expect(c.levels[1].author == "Someone")
        #expect(c.skipped.count == 1)
        #expect(
            c.skipped[0].level == 2 && c.skipped[0].line == 10 && c.skipped[0].title == "Second")
        #expect(c.skipped[0].problem == .unknownCharacter("x"))
        // Nothing good: the first refused board is the error.
        #expect(throws: LevelError.self) { try LevelCollection(text: "#####\n#@$x#\n#####") }
    }

    @Test func titlesWithControlCharactersAreEscapedInErrors() {
        let e = error("Title: x\n\n; evil\u{1B}]0;pwned\u{07}\n#####\n#@$x#\n#####\n")
        #expect(e?.description.contains("\u{1B}") == false)
        #expect(e?.description.contains("evil\\x1B]0;pwned\\x07") == true)
    }

    @Test func emptyAndMissing() throws {
        #expect(error("just text\n\n")?.problem == .noLevels)
        let c = try LevelCollection(text: "#####\n#@$.#\n#####")
        #expect(throws: LevelError.self) { try c.level(2) }
        #expect(try c.level(1).boxCount == 1)
    }

    @Test func readsFilesAndRejectsBadOnes() throws {
        let dir = FileManagerTemp.make()
        let good = dir + "/good.xsb"
        try "#####\n#@$.#\n#####\n".write(toFile: good, atomically: true, encoding: .utf8)
        #expect(try LevelCollection(path: good).levels.count == 1)
        #expect(throws: LevelError.self) { try LevelCollection(path: dir + "/missing.xsb") }
        let binary = dir + "/bad.xsb"
        try Data([0xFF, 0xFE, 0x00]).write(to: URL(fileURLWithPath: binary))
        #expect(throws: LevelError.self) { try LevelCollection(path: binary) }
        // Every file error names the file, in one line.
        for path in [dir + "/missing.xsb", binary, dir, "/dev/null"] {
            do {
                _ = try LevelCollection(path: path)
                Issue.record("\(path) loaded")
            } catch let e as LevelError {
                #expect(e.description.hasPrefix(path + ": "), "\(e)")
                #expect(!e.description.contains("\n"))
                #expect(!e.description.contains("permission"), "\(e)")
            }
        }
    }
}

enum FileManagerTemp {
    static func make() -> String {
        let path = NSTemporaryDirectory() + "sokoban-tests-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
