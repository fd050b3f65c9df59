// The one durable append-only writer behind the JSON-lines logs (training runs, sweep results):
// each line is written whole or not at all, and is on disk before `append` returns.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

public enum AppendLog {
    /// Appends `line` (which should end in a newline) to `path`, creating the file. A line that
    /// cannot be written whole (a full disk, a file-size limit) is taken back, so the file never
    /// ends in half a line; fsync, so a line the caller reported is on disk.
    public static func append(_ line: some Collection<UInt8>, to path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw FileError.cannotWrite(path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        let size = lseek(fd, 0, SEEK_END)
        do {
            try Array(line).withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: path) }
            guard fsync(fd) == 0 else {
                throw FileError.cannotWrite(path, reason: String(cString: strerror(errno)))
            }
        } catch {
            _ = ftruncate(fd, size)
            throw error
        }
    }
}
