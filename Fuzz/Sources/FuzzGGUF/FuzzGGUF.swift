// libFuzzer harness: GGUF files (GGUFFile(path:)).
// The reader only opens paths (it memory-maps them), so each input is written to one file per
// process under /dev/shm (or $TMPDIR when /dev/shm is missing), removed at exit. Every metadata
// value is walked through the typed accessors, every tensor's info is checked against the file,
// and dequantizable tensors are decoded. Thrown errors are fine; traps and ASan reports are not.
import Foundation
import FuzzSupport
import TextModel


private func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    FuzzSupport.require(condition, "FuzzGGUF", message())
}

private let scratch = ScratchFile(name: "FuzzGGUF")

private func walk(_ value: GGUFValue, depth: Int = 0) {
    require(depth <= 8, "metadata nested \(depth) deep")
    _ = value.intValue
    _ = value.doubleValue
    _ = value.stringValue?.utf8.count
    _ = value.boolValue
    if let values = value.arrayValue { for v in values { walk(v, depth: depth + 1) } }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    scratch.write(UnsafeRawBufferPointer(start: start, count: count))
    let file: GGUFFile
    do { file = try GGUFFile(path: scratch.path) } catch {
        if fuzzDebug { print("error: \(error)") }
        return 0
    }
    if fuzzDebug {
        print("ok: v\(file.version), \(file.metadataKeys.count) key(s), \(file.tensors.count) tensor(s)")
        for t in file.tensors { print("  \(t.name) \(t.type.name) \(t.shape) @\(t.offset)") }
    }
    require(file.version == 2 || file.version == 3, "version \(file.version)")
    require(file.metadataKeys.count == file.metadata.count, "metadata keys and values differ")
    for key in file.metadataKeys {
        guard let value = file.metadata[key] else { fatalError("FuzzGGUF: key \(key) has no value") }
        walk(value)
        _ = try? file.int(key)
        _ = try? file.double(key)
        _ = try? file.string(key)
        _ = try? file.stringArray(key)
        _ = try? file.intArray(key)
    }
    require(file.alignment > 0 && file.alignment & (file.alignment - 1) == 0, "alignment \(file.alignment)")
    require(file.dataOffset % file.alignment == 0, "data offset \(file.dataOffset) misaligned")
    for info in file.tensors {
        require(file.hasTensor(named: info.name), "\(info.name): hasTensor is false")
        require((try? file.tensorInfo(named: info.name)) == info, "\(info.name): tensorInfo differs")
        require(info.dimensions.count <= 4 && info.dimensions.allSatisfy { $0 > 0 }, "\(info.name): dims")
        require(info.shape == Array(info.dimensions.reversed()), "\(info.name): shape")
        let elements = info.elementCount
        require(elements % info.type.blockSize == 0, "\(info.name): elements not whole blocks")
        require(
            info.byteCount == elements / info.type.blockSize * info.type.blockBytes,
            "\(info.name): byteCount \(info.byteCount)")
        require(info.offset % file.alignment == 0, "\(info.name): offset misaligned")
        require(
            file.dataOffset + info.offset + info.byteCount <= count,
            "\(info.name): data beyond the file")
        _ = info.type.name
        if info.type.isDequantizable {
            // Loading may refuse the data (for example non-finite values); that is a thrown error.
            if let tensor = try? file.tensor(named: info.name, shape: info.shape) {
                require(tensor.shape == info.shape, "\(info.name): decoded shape")
                require(tensor.scalars.count == elements, "\(info.name): decoded element count")
            }
        } else {
            require((try? file.tensor(named: info.name)) == nil, "\(info.name): undecodable type decoded")
        }
    }
    _ = try? file.tensorInfo(named: "__no_such_tensor__")
    return 0
}

// SwiftPM links executables with `--defsym main=FuzzGGUF_main`; this hands control to libFuzzer.
@_cdecl("FuzzGGUF_main")
public func harnessMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv) { fuzz($0, $1) }
}
