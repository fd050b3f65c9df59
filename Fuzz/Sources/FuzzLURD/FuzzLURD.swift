// libFuzzer harness: LURD solution strings (LURD.parse), then LURD.verify on a fixed small level.
// The parsed steps must spell the input back exactly (whitespace removed).
import Foundation
import FuzzSupport
import Sokoban


private func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    FuzzSupport.require(condition, "FuzzLURD", message())
}

private let level: Level = try! Level(rows: [
    "########",
    "#  .   #",
    "# $@$  #",
    "#  .#  #",
    "########",
])

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    let steps: [(direction: Direction, push: Bool)]
    do { steps = try LURD.parse(text) } catch {
        if fuzzDebug { print("error: \(error)") }
        return 0
    }
    if fuzzDebug { print("ok: \(steps.count) step(s)") }
    var spelled = ""
    for step in steps {
        let letter = step.direction.letter
        spelled.append(step.push ? Character(letter.uppercased()) : letter)
    }
    let expected = String(text.filter { !$0.isWhitespace })
    require(spelled == expected, "parse does not spell the input back: \(expected.debugDescription)")
    if let game = try? LURD.verify(text, on: level, requireSolved: false, strictCase: false) {
        require(game.boxes.count == level.boxCount, "boxes lost or gained")
        require(game.player >= 0 && game.player < level.squares.count, "player off the board")
        require(level.squares[game.player] == .floor, "player off the floor")
        for b in game.boxes { require(level.squares[b] == .floor, "box off the floor") }
    }
    _ = try? LURD.verify(text, on: level)
    return 0
}

// SwiftPM links executables with `--defsym main=FuzzLURD_main`; this hands control to libFuzzer.
@_cdecl("FuzzLURD_main")
public func harnessMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv) { fuzz($0, $1) }
}
