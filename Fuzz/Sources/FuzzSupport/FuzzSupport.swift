// What every harness shares: the checks' failure, the scratch file for readers that only open
// paths, and the entry point that hands control to libFuzzer's driver.
import Foundation
import LinearAlgebra

/// FUZZ_DEBUG=1 makes harnesses print what each input parsed to (for checking the seed corpus).
public let fuzzDebug = ProcessInfo.processInfo.environment["FUZZ_DEBUG"] == "1"

/// FUZZ_ROUNDTRIP=0 turns off the round-trip checks (on by default).
public let fuzzRoundTrip = ProcessInfo.processInfo.environment["FUZZ_ROUNDTRIP"] != "0"

/// A broken invariant: a crash libFuzzer records with the input.
public func require(_ condition: Bool, _ harness: String, _ message: @autoclosure () -> String) {
    if !condition { fatalError("\(harness): \(message())") }
}

/// One file per process under /dev/shm (or $TMPDIR), rewritten with each input and removed at
/// exit, for readers that memory-map a path.
public final class ScratchFile: @unchecked Sendable {
    public let path: String
    // Written once per harness at start-up, before libFuzzer runs anything.
    nonisolated(unsafe) private static var paths: [String] = []

    public init(name: String) {
        let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        path = "\(dir)/laser-fuzz-\(name)-\(getpid())"
        if Self.paths.isEmpty { atexit { for p in ScratchFile.paths { unlink(p) } } }
        Self.paths.append(path)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        require(fd >= 0, "ScratchFile", "cannot create \(path)")
        defer { close(fd) }
        do { try AtomicFile.writeAll(fd, bytes, path: path) } catch {
            require(false, "ScratchFile", "\(error)")
        }
    }
}

@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafeRawPointer, Int) -> CInt
) -> CInt

/// Runs libFuzzer's driver on `callback`. SwiftPM links executables with
/// `--defsym main=<Target>_main`, which keeps libFuzzer's own main out, so each harness exports
/// `<Target>_main` calling this.
public func fuzzerMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
    _ callback: @convention(c) (UnsafeRawPointer, Int) -> CInt
) -> CInt {
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv, callback)
}
