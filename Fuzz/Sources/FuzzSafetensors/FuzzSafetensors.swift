// libFuzzer harness: safetensors files (SafetensorsFile(path:)).
// The reader only opens paths (it memory-maps them), so each input is written to one file per
// process under /dev/shm (or $TMPDIR when /dev/shm is missing), removed at exit. Every tensor's
// header entry is checked against the data buffer, its raw bytes are read and F32/F16/BF16
// tensors are converted. Thrown errors are fine; traps and ASan reports are not.
import Foundation
import FuzzSupport
import LinearAlgebra


private func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    FuzzSupport.require(condition, "FuzzSafetensors", message())
}

private let scratch = ScratchFile(name: "FuzzSafetensors")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    scratch.write(UnsafeRawBufferPointer(start: start, count: count))
    let file: SafetensorsFile
    do { file = try SafetensorsFile(path: scratch.path) } catch {
        if fuzzDebug { print("error: \(error)") }
        return 0
    }
    if fuzzDebug {
        print("ok: \(file.tensors.count) tensor(s), \(file.metadata.count) metadata key(s)")
        for t in file.tensors { print("  \(t.name) \(t.dtype.rawValue) \(t.shape) [\(t.begin), \(t.end))") }
    }
    for (key, value) in file.metadata { _ = key.utf8.count + value.utf8.count }
    var previousEnd = 0
    for info in file.tensors {
        require(info.begin >= 0 && info.begin <= info.end, "\(info.name): bad offsets")
        require(info.end <= count, "\(info.name): data beyond the file")
        require(info.shape.allSatisfy { $0 >= 0 }, "\(info.name): negative dimension")
        let elements = info.elementCount
        require(elements * info.dtype.byteSize == info.end - info.begin, "\(info.name): size mismatch")
        if info.end > info.begin {
            require(info.begin >= previousEnd, "\(info.name): overlaps the previous tensor")
            previousEnd = info.end
        }
        require(file.info(named: info.name) == info, "\(info.name): info(named:) differs")
        if let raw = try? file.rawBytes(named: info.name) {
            require(raw.count == info.end - info.begin, "\(info.name): rawBytes has \(raw.count) bytes")
            var checksum: UInt8 = 0
            for byte in raw { checksum &+= byte }
            _ = checksum
        }
        // Conversion may refuse a tensor (dtype, values); that is a thrown error, not a failure.
        if let tensor = try? file.tensor(named: info.name) {
            require([.f32, .f16, .bf16].contains(info.dtype), "\(info.name): \(info.dtype) converted")
            require(tensor.shape == info.shape, "\(info.name): tensor shape differs")
            require(tensor.scalars.count == elements, "\(info.name): tensor has wrong element count")
        }
    }
    _ = try? file.tensor(named: "__no_such_tensor__")
    return 0
}

// SwiftPM links executables with `--defsym main=FuzzSafetensors_main`; this hands control to libFuzzer.
@_cdecl("FuzzSafetensors_main")
public func harnessMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv) { fuzz($0, $1) }
}
