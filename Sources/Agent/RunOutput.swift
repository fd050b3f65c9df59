// A training run's hold on its checkpoint: the one-writer lock, taken before the file is looked
// at, and the rule that an existing checkpoint is continued or replaced only when asked, so a
// mistyped --out never costs a trained policy.
import Core
import Foundation

/// The lock on a run's checkpoint and whether the run continues it. A front end takes it before
/// its slow preparation (demonstrations, teacher targets), so a refused run wastes nothing, and
/// hands it to the run.
public struct RunOutput: Sendable {
    public let checkpoint: String
    let lock: OutputLock
    /// Whether the run continues the checkpoint (asked to, and it exists).
    public let resumes: Bool

    /// Locks `checkpoint` (creating its folder). An existing checkpoint is continued with
    /// `resume`, replaced at the first save with `overwrite`, and otherwise refused untouched.
    public init(checkpoint: String, resume: Bool, overwrite: Bool = false) throws {
        guard !(resume && overwrite) else {
            throw AgentError.invalidSetting(
                "--resume and --overwrite contradict each other: choose one")
        }
        let folder = (checkpoint as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do {
                try FileManager.default.createDirectory(
                    atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw AgentError.cannotWrite(path: folder, reason: TerminalText.reason(error))
            }
        }
        self.checkpoint = checkpoint
        lock = try OutputLock(output: checkpoint)
        let exists = FileManager.default.fileExists(atPath: checkpoint)
        if exists && !resume && !overwrite { throw AgentError.outputExists(path: checkpoint) }
        resumes = resume && exists
    }
}

extension RunOutput {
    /// This hold, checked to be on `checkpoint` (the run's own file).
    func checked(for checkpoint: String) throws -> RunOutput {
        guard checkpoint == self.checkpoint else {
            throw AgentError.invalidSetting(
                "the run writes \(checkpoint) but holds the lock on \(self.checkpoint)")
        }
        return self
    }
}
