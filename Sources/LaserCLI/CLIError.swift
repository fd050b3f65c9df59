// The CLI's one error type: a message shown as is, with exit code 1.

import ArgumentParser

/// A failure reported to the user as one line.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}
