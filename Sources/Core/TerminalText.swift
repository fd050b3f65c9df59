// Text from files made safe to print: control characters become visible escapes, so a level title
// or a tensor name cannot move the cursor, retitle the window or hide what follows; and system
// errors said in a few words instead of Foundation's multi-line dumps. The terminal player and
// every command that prints what it read need both.

import Foundation

/// Escaping of text that came from input before it reaches a terminal.
public enum TerminalText {
    /// `text` with every control character written as an escape: C0 controls and DEL as `\x1B`,
    /// C1 controls (U+0080–U+009F, among them the one-byte CSI) and the bidirectional overrides
    /// and isolates (which reorder what is displayed) as `\u{202E}`. With `keepNewlines`, line
    /// feeds and tabs pass through (for multi-line output such as generated text); otherwise they
    /// are escaped too, so the result is one line. Backslashes are left alone.
    public static func escaped(_ text: String, keepNewlines: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { needsEscape($0, keepNewlines: keepNewlines) })
        else { return text }
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count + 8)
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar, keepNewlines: keepNewlines) else {
                out.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                if scalar.value < 0x80 {
                    out += "\\x" + (hex.count < 2 ? "0" : "") + hex
                } else {
                    out += "\\u{" + hex + "}"
                }
            }
        }
        return out
    }

    /// Whether `escaped` rewrites this scalar.
    public static func needsEscape(_ scalar: Unicode.Scalar, keepNewlines: Bool) -> Bool {
        let v = scalar.value
        if keepNewlines && (v == 0x0A || v == 0x09) { return false }
        return v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v)
            || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
    }

    /// The reason behind an error in a few words on one line: the POSIX reason of a Foundation
    /// file error ("No such file or directory"), else the error's own description.
    public static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if ns.domain == NSCocoaErrorDomain {
            if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? Error {
                let posix = underlying as NSError
                if posix.domain == NSPOSIXErrorDomain {
                    return String(cString: strerror(Int32(posix.code)))
                }
            }
            switch CocoaError.Code(rawValue: ns.code) {
            case .fileNoSuchFile, .fileReadNoSuchFile: return "No such file or directory"
            case .fileReadNoPermission, .fileWriteNoPermission: return "Permission denied"
            case .fileReadCorruptFile: return "the file is corrupt"
            case .fileReadInapplicableStringEncoding:
                return "the file is not text in the expected encoding"
            case .fileWriteOutOfSpace: return "No space left on device"
            case .fileWriteVolumeReadOnly: return "Read-only file system"
            default: break
            }
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        return escaped(String(describing: error))
    }

    /// An error as one line naming what it concerns: a Foundation file error becomes
    /// "PATH: reason", anything else its description with control characters escaped.
    public static func describe(_ error: Error) -> String {
        let ns = error as NSError
        if ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain {
            let path =
                ns.userInfo[NSFilePathErrorKey] as? String
                ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
            return escaped(path.map { "\($0): " } ?? "") + reason(error)
        }
        return escaped(String(describing: error))
    }
}
