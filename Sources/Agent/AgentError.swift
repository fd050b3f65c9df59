// Errors of the Agent module: each names the file, level or value that is wrong.

/// A problem with demonstrations, training settings, level sets or evaluation inputs.
public enum AgentError: Error, CustomStringConvertible, Equatable {
    /// A demonstration cache made with other settings or another format version.
    case cacheMismatch(path: String, reason: String)
    /// A level whose recorded solution does not solve it.
    case badSolution(level: Int, title: String, reason: String)
    /// A level set with nothing usable in it.
    case noLevels(String)
    /// A setting outside its range.
    case invalidSetting(String)
    /// An error in the levels of a file, with the file named.
    indirect case inFile(path: String, error: AgentError)
    /// A checkpoint a run cannot continue from.
    case cannotResume(path: String, reason: String)
    /// A run output that cannot be written.
    case cannotWrite(path: String, reason: String)
    /// A checkpoint already at a new run's output (neither resumed nor overwritten).
    case outputExists(path: String)

    public var description: String {
        switch self {
        case .cacheMismatch(let path, let reason):
            return
                "demonstration cache \(path) cannot be reused: \(reason) (delete it or choose another --cache)"
        case .badSolution(let level, let title, let reason):
            return "level \(level) (\(title)): its solution \(reason)"
        case .noLevels(let message):
            return "no levels: \(message)"
        case .invalidSetting(let message):
            return message
        case .inFile(let path, let error):
            return "\(path): \(error)"
        case .cannotResume(let path, let reason):
            return "cannot resume \(path): \(reason)"
        case .cannotWrite(let path, let reason):
            return "cannot write \(path): \(reason)"
        case .outputExists(let path):
            return
                "\(path) already exists: pass --resume to continue it or --overwrite to replace it (it was left untouched)"
        }
    }
}

extension AgentError {
    /// Runs `body`, naming `path` (when given) in the level errors it throws.
    static func naming<T>(_ path: String?, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as AgentError {
            guard let path else { throw error }
            if case .badSolution = error { throw AgentError.inFile(path: path, error: error) }
            throw error
        }
    }
}
