// How `laser` ends on an error: one line, control characters escaped, a non-zero status; and the
// argument rewrite that lets an option take a negative number (`--rho -1`).
import ArgumentParser
import Core
import Foundation
import Sokoban

enum ErrorExit {
    /// `--name -1` becomes `--name=-1`: the parser would otherwise read `-1` as a flag and answer
    /// "Missing value", hiding the error the option's own check gives (a range, or a bad
    /// intervention such as `-1:fc_in:0.5`). Only a value starting with `-` and a digit (or `-inf`,
    /// `-nan`) is joined; no option of `laser` is spelled that way.
    static func joiningNegativeNumbers(_ arguments: [String]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            if argument.hasPrefix("--"), !argument.contains("="), argument.count > 2,
                i + 1 < arguments.count, isNegativeNumber(arguments[i + 1])
            {
                out.append(argument + "=" + arguments[i + 1])
                i += 2
                continue
            }
            out.append(argument)
            i += 1
        }
        return out
    }

    static func isNegativeNumber(_ text: String) -> Bool {
        guard text.hasPrefix("-"), text.count > 1 else { return false }
        let rest = text.dropFirst()
        if let first = rest.first, first.isASCII, first.isNumber || first == "." { return true }
        return rest.lowercased() == "inf" || rest.lowercased() == "nan"
    }

    /// Every error is printed as `Error: ONE LINE` (control characters escaped) with a non-zero
    /// status; the parser's usage errors point to `--help` on the same line instead of printing
    /// the usage block. Help and version requests print as usual.
    static func exit(with error: Error) -> Never {
        let code = LaserCommand.exitCode(for: error)
        if code == .success { LaserCommand.exit(withError: error) }
        let fromParser =
            error is ValidationError
            || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
        var message = fromParser ? LaserCommand.message(for: error) : TerminalText.describe(error)
        message = TerminalText.escaped(message)
        if message.hasPrefix("Error: ") { message.removeFirst("Error: ".count) }
        if fromParser && error is ValidationError == false && code != .failure {
            message += " (see --help)"
        }
        StandardError.write("Error: \(message)\n")
        Foundation.exit(code == .success ? 1 : code.rawValue)
    }
}
