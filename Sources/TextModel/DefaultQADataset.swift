// Where the built-in question set (ROME's known facts) is found, from wherever `laser` runs.
import Foundation

extension QADataset {
    /// The built-in question set's path inside the repository.
    public static let defaultRelativePath = "data/qa/known_facts.json"

    /// Finds the built-in question set: from the current directory upwards, then from the
    /// executable's directory upwards (so a built `laser` finds its repository's copy).
    public static func locateDefault() throws -> String {
        let starts = [
            FileManager.default.currentDirectoryPath,
            (CommandLine.arguments[0] as NSString).deletingLastPathComponent,
            ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""),
        ]
        for start in starts where !start.isEmpty {
            var dir = (start as NSString).standardizingPath
            for _ in 0..<8 {
                let candidate = dir + "/" + defaultRelativePath
                if FileManager.default.fileExists(atPath: candidate) { return candidate }
                let parent = (dir as NSString).deletingLastPathComponent
                if parent == dir { break }
                dir = parent
            }
        }
        throw QADatasetError.noDefault(defaultRelativePath)
    }
}
