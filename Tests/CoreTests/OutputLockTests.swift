// One writer per output: the lock refuses a second holder at once, in this process and in
// another (util-linux flock(1) plays the other process), and is free again once released.
import Core
import Foundation
import Testing

@Suite struct OutputLockTests {
    func folder(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "core-test-\(UUID().uuidString)-\(name)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Whether another process could take the lock file without waiting.
    func otherProcessCanLock(_ lockPath: String) throws -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        process.arguments = ["--nonblock", "--exclusive", lockPath, "true"]
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    @Test func theLockFileSitsBesideTheOutput() {
        #expect(
            OutputLock.lockPath(for: "out/policy.safetensors") == "out/.policy.safetensors.lock")
        #expect(OutputLock.lockPath(for: "out/sweep/") == "out/.sweep.lock")
        #expect(OutputLock.lockPath(for: "run.safetensors") == ".run.safetensors.lock")
        #expect(OutputLock.lockPath(for: "/top") == "/.top.lock")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/flock")))
    func aHeldLockRefusesEveryOtherHolderUntilReleased() throws {
        let dir = try folder("held")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let output = dir + "/model.safetensors"
        let lock = try OutputLock(output: output)
        #expect(!(try otherProcessCanLock(lock.lockPath)))
        #expect(throws: FileError.inUse(output, holder: getpid())) {
            try OutputLock(output: output)
        }
        lock.release()
        #expect(try otherProcessCanLock(lock.lockPath))
        let again = try OutputLock(output: output)
        #expect(!(try otherProcessCanLock(again.lockPath)))
        withExtendedLifetime(again) {}
    }

    @Test func aLockThatCannotBeMadeSaysWhere() throws {
        #expect {
            try OutputLock(output: "/nonexistent-\(UUID().uuidString)/model.safetensors")
        } throws: { "\($0)".hasPrefix("cannot write /nonexistent-") && "\($0)".contains(".lock") }
    }
}
