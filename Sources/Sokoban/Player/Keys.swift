// Turns the bytes a terminal sends into player commands (arrows, WASD, hjkl and letters).

/// A command from the keyboard.
public enum PlayerKey: Equatable, Sendable {
    case move(Direction)
    case undo, redo, restart, next, previous, hint, resume, quit
    /// Every step undone (the redo list keeps them), or every undone step redone.
    case undoAll, redoAll
    /// Show or hide the squares the player can reach without pushing.
    case reach
    /// Copy the level as XSB, or the moves so far as LURD.
    case copyLevel, copyMoves
}

/// Decodes key bytes, keeping an incomplete escape sequence for the next read.
struct KeyDecoder {
    private var pending: [UInt8] = []

    /// The commands in `bytes` (unknown keys are dropped).
    mutating func decode(_ bytes: [UInt8]) -> [PlayerKey] {
        pending += bytes
        var keys: [PlayerKey] = []
        var i = 0
        while i < pending.count {
            let b = pending[i]
            if b == 0x1B {
                // ESC [ A..D or ESC O A..D are arrows; a lone ESC is ignored.
                if i + 1 >= pending.count { break }
                let second = pending[i + 1]
                if second == UInt8(ascii: "[") || second == UInt8(ascii: "O") {
                    if i + 2 >= pending.count { break }
                    var j = i + 2
                    while j < pending.count && (0x30...0x3F).contains(pending[j]) { j += 1 }
                    if j >= pending.count { break }
                    // Home and End: ESC [ H / F, ESC O H / F, or ESC [ 1 ~ / 7 ~ and 4 ~ / 8 ~.
                    let parameter = String(decoding: pending[(i + 2)..<j], as: UTF8.self)
                    switch pending[j] {
                    case UInt8(ascii: "A"): keys.append(.move(.up))
                    case UInt8(ascii: "B"): keys.append(.move(.down))
                    case UInt8(ascii: "C"): keys.append(.move(.right))
                    case UInt8(ascii: "D"): keys.append(.move(.left))
                    case UInt8(ascii: "H"): keys.append(.undoAll)
                    case UInt8(ascii: "F"): keys.append(.redoAll)
                    case UInt8(ascii: "~") where parameter == "1" || parameter == "7":
                        keys.append(.undoAll)
                    case UInt8(ascii: "~") where parameter == "4" || parameter == "8":
                        keys.append(.redoAll)
                    default: break
                    }
                    i = j + 1
                } else {
                    i += 1
                }
                continue
            }
            if let key = Self.single(b) { keys.append(key) }
            i += 1
        }
        pending.removeFirst(i)
        if pending.count > 16 { pending.removeAll() }
        return keys
    }

    static func single(_ b: UInt8) -> PlayerKey? {
        switch b {
        case UInt8(ascii: "w"), UInt8(ascii: "W"), UInt8(ascii: "k"): .move(.up)
        case UInt8(ascii: "s"), UInt8(ascii: "S"), UInt8(ascii: "j"): .move(.down)
        case UInt8(ascii: "a"), UInt8(ascii: "A"), UInt8(ascii: "h"): .move(.left)
        case UInt8(ascii: "d"), UInt8(ascii: "D"), UInt8(ascii: "l"): .move(.right)
        case UInt8(ascii: "u"), 0x1A: .undo  // u or Ctrl-Z
        case UInt8(ascii: "U"), 0x12: .redo  // U or Ctrl-R
        case UInt8(ascii: "r"), UInt8(ascii: "R"): .restart
        case UInt8(ascii: "n"), UInt8(ascii: "N"): .next
        case UInt8(ascii: "p"), UInt8(ascii: "P"): .previous
        case UInt8(ascii: "?"), UInt8(ascii: "H"): .hint
        case UInt8(ascii: "c"), UInt8(ascii: "C"): .resume
        case UInt8(ascii: "<"): .undoAll
        case UInt8(ascii: ">"): .redoAll
        case UInt8(ascii: "."): .reach
        case UInt8(ascii: "y"): .copyLevel
        case UInt8(ascii: "Y"): .copyMoves
        case UInt8(ascii: "q"), UInt8(ascii: "Q"), 0x03, 0x04: .quit  // q, Ctrl-C, Ctrl-D
        default: nil
        }
    }
}
