// The one rule for how many worker threads a run uses: `--workers`, else $LASER_WORKERS, else every
// core. Parsed here only, so every module and command reads it the same way.
import Foundation

public enum Workers {
    /// Worker counts a run accepts.
    public static let range = 1...256

    /// Why $LASER_WORKERS cannot be used.
    public struct InvalidSetting: Error, CustomStringConvertible {
        public let description: String
    }

    /// $LASER_WORKERS: nil when unset or empty; an error unless a whole number in `range`.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> Int? {
        guard let text = environment["LASER_WORKERS"], !text.isEmpty else { return nil }
        guard let n = Int(text), range.contains(n) else {
            throw InvalidSetting(
                description: "LASER_WORKERS='\(text)' is not a worker count in 1...256")
        }
        return n
    }

    /// The default count: $LASER_WORKERS when it is valid (the CLI refuses an invalid one at
    /// startup), else every core.
    public static var `default`: Int {
        let configured = (try? fromEnvironment()) ?? nil
        return configured ?? max(1, ProcessInfo.processInfo.activeProcessorCount)
    }
}
