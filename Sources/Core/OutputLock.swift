// One writer per output: an exclusive flock on a lock file beside the output, held for as long as
// the lock value lives. The kernel drops it when the process dies, so a killed run never leaves a
// stale lock, and a second run is refused at once (never left waiting, never duplicating work).
#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive advisory lock on an output file or folder, held until `release()` or deinit.
/// The lock file (`.NAME.lock` beside the output) holds the holder's pid, for the refusal message;
/// it stays on disk after release: removing it would let a third process lock a different file
/// while a second still waits on the old one.
public final class OutputLock: @unchecked Sendable {
    /// What is locked, and the file the lock lives on.
    public let output: String
    public let lockPath: String
    private var fd: Int32

    /// Takes the lock on `output` without waiting. Throws `FileError.inUse` naming the output
    /// and the holder's pid when another open lock holds it (another process, or another lock
    /// value in this one), or `FileError.cannotWrite` when the lock file cannot be made.
    public init(output: String) throws {
        self.output = output
        lockPath = Self.lockPath(for: output)
        fd = try Self.openLockFile(lockPath)
        guard Self.flockRetrying(fd, LOCK_EX | LOCK_NB) else {
            let busy = errno == EWOULDBLOCK
            let reason = String(cString: strerror(errno))
            let holder = busy ? Self.readPid(fd) : nil
            close(fd)
            if busy { throw FileError.inUse(output, holder: holder) }
            throw FileError.cannotWrite(lockPath, reason: reason)
        }
        let pid = Array("\(getpid())\n".utf8)
        // The pid is only for messages: a lock file it cannot be written to still locks.
        if ftruncate(fd, 0) == 0 {
            _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        }
    }

    /// Runs `body` holding the lock on `output`, waiting for it if another holder has it: for
    /// short read-merge-write sections (saved solutions), where waiting a moment is right and
    /// refusing is not.
    public static func whileHeld<T>(on output: String, _ body: () throws -> T) throws -> T {
        let path = lockPath(for: output)
        let fd = try openLockFile(path)
        defer { close(fd) }
        guard flockRetrying(fd, LOCK_EX) else {
            throw FileError.cannotWrite(path, reason: String(cString: strerror(errno)))
        }
        return try body()
    }

    /// Drops the lock (also done when the value goes away).
    public func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    deinit { release() }

    /// `.NAME.lock` in the output's folder (a trailing slash on a folder ignored).
    public static func lockPath(for output: String) -> String {
        var path = output
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let prefix = slash == nil ? "" : (folder.isEmpty ? "/" : folder + "/")
        return prefix + "." + name + ".lock"
    }

    /// The lock file's descriptor (created if missing).
    private static func openLockFile(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw FileError.cannotWrite(path, reason: String(cString: strerror(errno)))
        }
        return fd
    }

    /// flock retried when a signal interrupts it; false with errno set when it fails.
    private static func flockRetrying(_ fd: Int32, _ operation: Int32) -> Bool {
        var result: Int32
        repeat { result = flock(fd, operation) } while result != 0 && errno == EINTR
        return result == 0
    }

    /// The pid the holder wrote, when it is readable.
    private static func readPid(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 16)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[..<n], as: UTF8.self)
        return Int32(text.split(separator: "\n").first ?? "")
    }
}
