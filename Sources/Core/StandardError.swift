// Messages to standard error that never bring the process down: Foundation's FileHandle.write
// traps when the write fails (stderr on a full disk, a closed pipe), which would turn a failed
// message into a crash in the middle of a run.
import SystemPackage

public enum StandardError {
    /// Writes `text` to standard error; a write that fails is dropped (there is nowhere left to
    /// report it).
    public static func write(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { try? FileDescriptor.standardError.writeAll($0) }
    }
}
