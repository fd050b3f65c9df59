// Writes files atomically (temp file in the same folder, fsync, rename) so a kill never leaves half a file.
import Foundation
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

public enum AtomicFile {
    /// Writes `bytes` to `path` atomically: readers see the old file or the new one, never a mix.
    public static func write(_ bytes: some Collection<UInt8>, to path: String) throws {
        try write(to: path) { fd in
            let array = Array(bytes)
            try array.withUnsafeBytes { try writeAll(fd, $0, path: path) }
        }
    }

    /// Writes a string as UTF-8 atomically.
    public static func write(string: String, to path: String) throws {
        try write(Array(string.utf8), to: path)
    }

    /// Opens a temporary file beside `path`, lets `body` write through its descriptor, then fsyncs
    /// and renames it over `path`. The temporary file is removed on any error.
    public static func write(to path: String, body: (Int32) throws -> Void) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        let temp =
            (directory.isEmpty ? "." : directory)
            + "/.\(base).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else {
            throw FileError.cannotWrite(path, reason: String(cString: strerror(errno)))
        }
        do {
            try body(fd)
            guard fsync(fd) == 0 else {
                throw FileError.cannotWrite(path, reason: String(cString: strerror(errno)))
            }
            close(fd)
        } catch {
            close(fd)
            unlink(temp)
            throw error
        }
        guard rename(temp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temp)
            throw FileError.cannotWrite(path, reason: reason)
        }
    }

    /// Writes every byte of a buffer (short writes and interrupted calls retried).
    public static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws
    {
        do {
            _ = try FileDescriptor(rawValue: fd).writeAll(buffer)
        } catch let error as Errno {
            throw FileError.cannotWrite(path, reason: String(cString: strerror(error.rawValue)))
        }
    }
}

/// File-level errors shared by the readers and writers.
public enum FileError: Error, CustomStringConvertible, Equatable {
    case cannotRead(String, reason: String)
    case cannotWrite(String, reason: String)
    /// Another run holds the output's lock (see `OutputLock`), with its pid when known.
    case inUse(String, holder: Int32?)

    public var description: String {
        switch self {
        case .cannotRead(let path, let reason): return "cannot read \(path): \(reason)"
        case .cannotWrite(let path, let reason): return "cannot write \(path): \(reason)"
        case .inUse(let path, let holder):
            return
                "\(path) is in use by another run\(holder.map { " (pid \($0))" } ?? ""); wait for it to finish or choose another output"
        }
    }
}
