// Builds GGUF files byte by byte for tests: good ones, and broken ones by editing the bytes.
import Foundation

@testable import TextModel

/// A little-endian GGUF writer for synthetic test files.
struct GGUFBuilder {
    struct TensorEntry {
        let name: String
        let dims: [UInt64]
        let type: UInt32
        let data: [UInt8]
    }

    var version: UInt32 = 3
    var metadata: [(String, GGUFValue)] = []
    var tensors: [TensorEntry] = []
    var alignment = 32

    mutating func add(_ key: String, _ value: GGUFValue) { metadata.append((key, value)) }

    /// Adds an F32 tensor with dims innermost first.
    mutating func addF32(_ name: String, dims: [Int], values: [Float]) {
        precondition(dims.reduce(1, *) == values.count)
        var bytes: [UInt8] = []
        for v in values { bytes.append(contentsOf: le(v.bitPattern)) }
        tensors.append(TensorEntry(name: name, dims: dims.map { UInt64($0) }, type: 0, data: bytes))
    }

    mutating func addRaw(_ name: String, dims: [UInt64], type: UInt32, data: [UInt8]) {
        tensors.append(TensorEntry(name: name, dims: dims, type: type, data: data))
    }

    /// The file's bytes; `offsets` overrides tensor offsets (to break them).
    func bytes(offsets: [Int]? = nil) -> [UInt8] {
        var out: [UInt8] = Array("GGUF".utf8)
        out += le(version)
        out += le(UInt64(tensors.count))
        out += le(UInt64(metadata.count))
        for (key, value) in metadata {
            out += string(key)
            out += le(Self.typeID(value))
            out += encode(value)
        }
        var dataOffsets: [Int] = []
        var cursor = 0
        for t in tensors {
            dataOffsets.append(cursor)
            cursor += t.data.count
            cursor = (cursor + alignment - 1) / alignment * alignment
        }
        for (i, t) in tensors.enumerated() {
            out += string(t.name)
            out += le(UInt32(t.dims.count))
            for d in t.dims { out += le(d) }
            out += le(t.type)
            out += le(UInt64(offsets?[i] ?? dataOffsets[i]))
        }
        while out.count % alignment != 0 { out.append(0) }
        let dataStart = out.count
        for (i, t) in tensors.enumerated() {
            while out.count - dataStart < dataOffsets[i] { out.append(0) }
            out += t.data
        }
        return out
    }

    /// Writes the bytes to a fresh temporary file and returns its path.
    static func write(_ bytes: [UInt8], name: String = "test") -> String {
        let path = NSTemporaryDirectory() + "laser-\(name)-\(UUID().uuidString).gguf"
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    func write(name: String = "test") -> String { Self.write(bytes(), name: name) }

    static func typeID(_ v: GGUFValue) -> UInt32 {
        switch v {
        case .uint8: return 0
        case .int8: return 1
        case .uint16: return 2
        case .int16: return 3
        case .uint32: return 4
        case .int32: return 5
        case .float32: return 6
        case .bool: return 7
        case .string: return 8
        case .array: return 9
        case .uint64: return 10
        case .int64: return 11
        case .float64: return 12
        }
    }

    func encode(_ v: GGUFValue) -> [UInt8] {
        switch v {
        case .uint8(let x): return [x]
        case .int8(let x): return [UInt8(bitPattern: x)]
        case .uint16(let x): return le(x)
        case .int16(let x): return le(UInt16(bitPattern: x))
        case .uint32(let x): return le(x)
        case .int32(let x): return le(UInt32(bitPattern: x))
        case .float32(let x): return le(x.bitPattern)
        case .bool(let b): return [b ? 1 : 0]
        case .string(let s): return string(s)
        case .array(let type, let values):
            var out = le(type) + le(UInt64(values.count))
            for e in values { out += encode(e) }
            return out
        case .uint64(let x): return le(x)
        case .int64(let x): return le(UInt64(bitPattern: x))
        case .float64(let x): return le(x.bitPattern)
        }
    }

    func string(_ s: String) -> [UInt8] { le(UInt64(s.utf8.count)) + Array(s.utf8) }
}

func le<T: FixedWidthInteger>(_ x: T) -> [UInt8] {
    withUnsafeBytes(of: x.littleEndian) { Array($0) }
}

/// Bytes from a hex string.
func hexBytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var i = hex.startIndex
    while i < hex.endIndex {
        let j = hex.index(i, offsetBy: 2)
        out.append(UInt8(hex[i..<j], radix: 16)!)
        i = j
    }
    return out
}
