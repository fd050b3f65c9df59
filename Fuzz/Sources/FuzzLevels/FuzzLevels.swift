// libFuzzer harness: XSB/SOK level collections (LevelCollection(text:)).
// Parses the input as UTF-8 text, then checks every level against Level's documented invariants,
// plays one step in each direction, and writes the collection back out as XSB, which must parse
// to the same levels (FUZZ_ROUNDTRIP=0 turns that check off).
import Foundation
import FuzzSupport
import Sokoban


private func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    FuzzSupport.require(condition, "FuzzLevels", message())
}

private func check(_ level: Level) {
    let w = level.width
    let h = level.height
    let n = w * h
    require(w >= 1 && h >= 1 && w <= Level.maxSide && h <= Level.maxSide, "size \(w)×\(h)")
    require(level.squares.count == n && level.isGoal.count == n, "board arrays are not w·h")
    require(level.player >= 0 && level.player < n, "player \(level.player) outside the board")
    require(level.squares[level.player] == .floor, "player not on floor")
    require(!level.boxes.isEmpty, "no boxes")
    require(zip(level.boxes, level.boxes.dropFirst()).allSatisfy { $0 < $1 }, "boxes not ascending")
    for b in level.boxes {
        require(b >= 0 && b < n && level.squares[b] == .floor, "box \(b) not on floor")
    }
    let goals = level.goals
    require(goals.count == level.boxCount, "\(goals.count) goals for \(level.boxCount) boxes")
    for g in goals { require(level.squares[g] == .floor, "goal \(g) not on floor") }
    let (r, c) = level.position(of: level.player)
    require(r * w + c == level.player, "position(of:) disagrees with the index")
    // The region is closed, so the player never stands on the border.
    require(r > 0 && c > 0 && r < h - 1 && c < w - 1, "player on the border")
    let rows = level.rows()
    require(rows.count == h, "rows() has \(rows.count) rows for height \(h)")
    for row in rows { require(row.count <= w, "rows() row wider than the board") }
    _ = level.xsb()
    _ = level.note("solution")
    var game = Game(level: level)
    for d in Direction.allCases {
        _ = game.step(d)
        _ = game.step(d.reversed)
    }
    while game.undo() {}
    _ = game.isSolved
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    let collection: LevelCollection
    do { collection = try LevelCollection(text: text) } catch {
        if fuzzDebug { print("error: \(error)") }
        return 0
    }
    if fuzzDebug {
        print("ok: \(collection.levels.count) level(s), \(collection.skipped.count) skipped, title \(collection.title ?? "-")")
    }
    _ = collection.title
    for note in collection.notes { _ = note.key.count + note.value.count }
    for level in collection.levels { check(level) }
    // Refused boards are listed, not thrown (the rest of the collection still loads).
    for error in collection.skipped { _ = error.description.count }
    _ = try? collection.level(0)
    _ = try? collection.level(collection.levels.count + 1)
    require((try? collection.level(collection.levels.count)) != nil, "last level not reachable")
    let xsb = collection.xsb()
    let again = try? LevelCollection(text: xsb)
    if fuzzRoundTrip {
        require(again != nil, "xsb() output does not parse:\n\(xsb)")
        require(again!.levels == collection.levels, "xsb() output parses to different levels:\n\(xsb)")
    }
    return 0
}

// SwiftPM links executables with `--defsym main=FuzzLevels_main`; this hands control to libFuzzer.
@_cdecl("FuzzLevels_main")
public func harnessMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv) { fuzz($0, $1) }
}
