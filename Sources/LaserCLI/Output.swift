// Everything `laser` prints goes through here: level titles, tensor names, metadata, questions and
// generated text come from files, and a control character in them must not reach the terminal.
import Core
import Foundation
import Sokoban

/// `print` for this module: control characters other than line feeds and tabs are written as
/// visible escapes (`\x1B`). The few places that emit the tool's own terminal sequences (the
/// watcher's screen) call `Swift.print` with text already escaped where it came from input.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    let text = items.map { "\($0)" }.joined(separator: separator)
    Swift.print(TerminalText.escaped(text, keepNewlines: true), terminator: terminator)
}

/// JSON text is escaped by its encoder below U+0020 only; C1 controls and bidirectional
/// overrides are written as `\u` escapes too (the same JSON value, safe on a terminal).
func terminalSafeJSON(_ json: String) -> String {
    guard json.unicodeScalars.contains(where: { TerminalText.needsEscape($0, keepNewlines: true) })
    else { return json }
    var out = ""
    for scalar in json.unicodeScalars {
        if TerminalText.needsEscape(scalar, keepNewlines: true) {
            out += String(format: "\\u%04x", scalar.value)
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}
