// How `laser` ends on an error: one line, control characters escaped, a non-zero status; and the
// argument rewrite that lets an option take a negative number (`--rho -1`).
import ArgumentParser
import Foundation
import Sokoban

enum ErrorExit {
    /// `--name -1` becomes `--name=-1`: the parser would otherwise read `-1` as a flag and answer
    /// "Missing value", hiding the range error the option's check gives. Only a value that is a
    /// number is joined; no option of `laser` is a digit.
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
        return Double(rest) != nil || rest.lowercased() == "inf" || rest.lowercased() == "nan"
    }

    /// Errors of the argument parser (usage, help, validation) keep its format, their text
    /// escaped; every other error is printed as `Error: ONE LINE` and exits with status 1.
    static func exit(with error: Error) -> Never {
        if let validation = error as? ValidationError {
            LaserCommand.exit(withError: ValidationError(TerminalText.escaped(validation.message)))
        }
        if String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            LaserCommand.exit(withError: error)
        }
        FileHandle.standardError.write(Data("Error: \(TerminalText.describe(error))\n".utf8))
        Foundation.exit(1)
    }
}
