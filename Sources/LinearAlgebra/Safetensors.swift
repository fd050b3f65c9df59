// safetensors files: memory-mapped reading with every header field validated, and atomic writing.
//
// Layout (https://github.com/huggingface/safetensors):
//   8 bytes   N, little-endian u64: the header's length
//   N bytes   JSON object: name → {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
//             plus an optional "__metadata__": {string: string}
//   rest      the byte buffer; offsets are relative to its start
import Core
import Foundation

/// Element types a safetensors header may name, with their sizes.
public enum SafetensorsDType: String, Sendable, CaseIterable, Codable {
    case f64 = "F64"
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    case i64 = "I64"
    case i32 = "I32"
    case i16 = "I16"
    case i8 = "I8"
    case u64 = "U64"
    case u32 = "U32"
    case u16 = "U16"
    case u8 = "U8"
    case bool = "BOOL"
    case f8e4m3 = "F8_E4M3"
    case f8e5m2 = "F8_E5M2"

    public var byteSize: Int {
        switch self {
        case .f64, .i64, .u64: return 8
        case .f32, .i32, .u32: return 4
        case .f16, .bf16, .i16, .u16: return 2
        case .i8, .u8, .bool, .f8e4m3, .f8e5m2: return 1
        }
    }
}

/// What is wrong with a safetensors file, one case per kind of violation.
public enum SafetensorsError: Error, CustomStringConvertible, Equatable {
    case truncated(path: String, size: Int)
    case headerTooLarge(path: String, length: UInt64, limit: Int)
    case headerBeyondFile(path: String, length: UInt64, fileSize: Int)
    case invalidJSON(path: String, reason: String)
    case invalidEntry(path: String, tensor: String, reason: String)
    case unknownDType(path: String, tensor: String, dtype: String)
    case sizeMismatch(path: String, tensor: String, expected: Int, actual: Int)
    case offsetsOutOfRange(path: String, tensor: String, end: Int, dataSize: Int)
    case overlap(path: String, first: String, second: String)
    case invalidMetadata(path: String, reason: String)
    case noSuchTensor(path: String, name: String)
    case unsupportedDType(path: String, tensor: String, dtype: String)

    public var description: String {
        switch self {
        case .truncated(let p, let size):
            return
                "\(p): truncated safetensors file (\(size) bytes; at least 8 needed for the header length)"
        case .headerTooLarge(let p, let length, let limit):
            return "\(p): header length \(length) exceeds the limit of \(limit) bytes"
        case .headerBeyondFile(let p, let length, let size):
            return "\(p): header length \(length) runs past the end of the \(size)-byte file"
        case .invalidJSON(let p, let reason):
            return "\(p): header is not valid JSON: \(reason)"
        case .invalidEntry(let p, let t, let reason):
            return "\(p): tensor '\(t)': \(reason)"
        case .unknownDType(let p, let t, let d):
            return "\(p): tensor '\(t)': unknown dtype '\(d)'"
        case .sizeMismatch(let p, let t, let expected, let actual):
            return
                "\(p): tensor '\(t)': data_offsets span \(actual) bytes but dtype × shape needs \(expected)"
        case .offsetsOutOfRange(let p, let t, let end, let size):
            return
                "\(p): tensor '\(t)': data ends at byte \(end), past the \(size)-byte data buffer"
        case .overlap(let p, let a, let b):
            return "\(p): tensors '\(a)' and '\(b)' overlap in the data buffer"
        case .invalidMetadata(let p, let reason):
            return "\(p): __metadata__ \(reason)"
        case .noSuchTensor(let p, let name):
            return "\(p): no tensor named '\(name)'"
        case .unsupportedDType(let p, let t, let d):
            return "\(p): tensor '\(t)' has dtype \(d); only F32, F16 and BF16 convert to Float32"
        }
    }
}

/// One tensor's header entry.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: SafetensorsDType
    public let shape: [Int]
    /// Byte range within the data buffer.
    public let begin: Int
    public let end: Int
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A safetensors file opened read-only through a memory map; tensors are converted on request.
public final class SafetensorsFile: @unchecked Sendable {
    /// Headers above this size are refused before parsing (the reference implementation's limit).
    public static let headerLimit = 100_000_000

    public let path: String
    public let metadata: [String: String]
    /// Every tensor, in data-buffer order.
    public let tensors: [SafetensorsTensorInfo]
    private let file: MappedFile
    private let dataStart: Int

    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        let bytes = file.bytes
        guard bytes.count >= 8 else {
            throw SafetensorsError.truncated(path: path, size: bytes.count)
        }
        let length = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
        guard length <= UInt64(Self.headerLimit) else {
            throw SafetensorsError.headerTooLarge(
                path: path, length: length, limit: Self.headerLimit)
        }
        guard length <= UInt64(bytes.count - 8) else {
            throw SafetensorsError.headerBeyondFile(
                path: path, length: length, fileSize: bytes.count)
        }
        dataStart = 8 + Int(length)
        let headerData = Data(bytes[8..<dataStart])
        let json: JSONValue
        do {
            json = try JSONValue.parse(headerData)
        } catch {
            throw SafetensorsError.invalidJSON(path: path, reason: "\(error)")
        }
        guard let object = json.objectValue else {
            throw SafetensorsError.invalidJSON(path: path, reason: "the top level is not an object")
        }
        var metadata: [String: String] = [:]
        var infos: [SafetensorsTensorInfo] = []
        let dataSize = bytes.count - dataStart
        for (name, value) in object {
            if name == "__metadata__" {
                guard let map = value.objectValue else {
                    throw SafetensorsError.invalidMetadata(path: path, reason: "is not an object")
                }
                for (k, v) in map {
                    guard let s = v.stringValue else {
                        throw SafetensorsError.invalidMetadata(
                            path: path, reason: "value of '\(k)' is not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            infos.append(
                try Self.parseEntry(name: name, value: value, dataSize: dataSize, path: path))
        }
        infos.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        for (a, b) in zip(infos, infos.dropFirst())
        where b.begin < a.end && a.end > a.begin && b.end > b.begin {
            throw SafetensorsError.overlap(path: path, first: a.name, second: b.name)
        }
        self.metadata = metadata
        self.tensors = infos
    }

    private static func parseEntry(name: String, value: JSONValue, dataSize: Int, path: String)
        throws
        -> SafetensorsTensorInfo
    {
        guard let entry = value.objectValue else {
            throw SafetensorsError.invalidEntry(
                path: path, tensor: name, reason: "entry is not an object")
        }
        guard let dtypeText = entry["dtype"]?.stringValue else {
            throw SafetensorsError.invalidEntry(
                path: path, tensor: name, reason: "missing or non-string dtype")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeText) else {
            throw SafetensorsError.unknownDType(path: path, tensor: name, dtype: dtypeText)
        }
        guard let shapeValues = entry["shape"]?.arrayValue else {
            throw SafetensorsError.invalidEntry(
                path: path, tensor: name, reason: "missing or non-array shape")
        }
        var shape: [Int] = []
        for v in shapeValues {
            guard let d = v.intValue, d >= 0 else {
                throw SafetensorsError.invalidEntry(
                    path: path, tensor: name,
                    reason: "shape has a dimension that is not a non-negative integer")
            }
            shape.append(d)
        }
        guard let offsets = entry["data_offsets"]?.arrayValue, offsets.count == 2,
            let begin = offsets[0].intValue, let end = offsets[1].intValue, begin >= 0, begin <= end
        else {
            throw SafetensorsError.invalidEntry(
                path: path, tensor: name,
                reason: "data_offsets must be two integers [begin, end] with 0 <= begin <= end")
        }
        var count = 1
        for d in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw SafetensorsError.invalidEntry(
                    path: path, tensor: name, reason: "shape \(shape) overflows")
            }
            count = product
        }
        let (needed, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else {
            throw SafetensorsError.invalidEntry(
                path: path, tensor: name, reason: "shape \(shape) overflows")
        }
        guard end - begin == needed else {
            throw SafetensorsError.sizeMismatch(
                path: path, tensor: name, expected: needed, actual: end - begin)
        }
        guard end <= dataSize else {
            throw SafetensorsError.offsetsOutOfRange(
                path: path, tensor: name, end: end, dataSize: dataSize)
        }
        return SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// The header entry of a tensor, or nil.
    public func info(named name: String) -> SafetensorsTensorInfo? {
        tensors.first { $0.name == name }
    }

    /// The raw bytes of a tensor (valid while the file object lives).
    public func rawBytes(named name: String) throws -> UnsafeRawBufferPointer {
        guard let info = info(named: name) else {
            throw SafetensorsError.noSuchTensor(path: path, name: name)
        }
        return UnsafeRawBufferPointer(
            rebasing: file.bytes[(dataStart + info.begin)..<(dataStart + info.end)])
    }

    /// A tensor converted to Float32 (from F32, F16 or BF16).
    public func tensor(named name: String) throws -> Tensor {
        guard let info = info(named: name) else {
            throw SafetensorsError.noSuchTensor(path: path, name: name)
        }
        let raw = try rawBytes(named: name)
        let n = info.elementCount
        var out = [Float](repeating: 0, count: n)
        out.withUnsafeMutableBufferPointer { dst in
            switch info.dtype {
            case .f32:
                for i in 0..<n {
                    dst[i] = Float(
                        bitPattern: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
                            .littleEndian)
                }
            case .f16:
                for i in 0..<n {
                    dst[i] = Float(
                        Float16(
                            bitPattern: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                                .littleEndian))
                }
            case .bf16:
                for i in 0..<n {
                    dst[i] = Float(
                        bitPattern: UInt32(
                            raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian)
                            << 16)
                }
            default:
                break
            }
        }
        guard [.f32, .f16, .bf16].contains(info.dtype) else {
            throw SafetensorsError.unsupportedDType(
                path: path, tensor: name, dtype: info.dtype.rawValue)
        }
        return Tensor(shape: info.shape, scalars: out)
    }
}

/// One tensor to write: a name, a dtype and its little-endian bytes.
public struct SafetensorsEntry: Sendable {
    public let name: String
    public let dtype: SafetensorsDType
    public let shape: [Int]
    public let data: [UInt8]

    /// Raw bytes (already in `dtype`'s little-endian encoding), for passing tensors through unchanged.
    public init(name: String, dtype: SafetensorsDType, shape: [Int], data: [UInt8]) {
        precondition(
            shape.reduce(1, *) * dtype.byteSize == data.count,
            "\(name): bytes do not match dtype × shape")
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    /// A Float32 tensor stored as F32 or F16.
    public init(name: String, tensor: Tensor, dtype: SafetensorsDType = .f32) {
        precondition(dtype == .f32 || dtype == .f16, "writing supports F32 and F16")
        var bytes = [UInt8](repeating: 0, count: tensor.count * dtype.byteSize)
        bytes.withUnsafeMutableBytes { dst in
            tensor.scalars.withUnsafeBufferPointer { src in
                if dtype == .f32 {
                    for i in 0..<src.count {
                        dst.storeBytes(
                            of: src[i].bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self
                        )
                    }
                } else {
                    for i in 0..<src.count {
                        dst.storeBytes(
                            of: Float16(src[i]).bitPattern.littleEndian, toByteOffset: 2 * i,
                            as: UInt16.self)
                    }
                }
            }
        }
        self.init(name: name, dtype: dtype, shape: tensor.shape, data: bytes)
    }
}

public enum SafetensorsWriter {
    /// Writes the entries (in the order given) and metadata as one safetensors file, atomically.
    public static func write(
        _ entries: [SafetensorsEntry], metadata: [String: String] = [:], to path: String
    ) throws {
        var names = Set<String>()
        for e in entries {
            precondition(names.insert(e.name).inserted, "duplicate tensor name \(e.name)")
            precondition(e.name != "__metadata__", "'__metadata__' is reserved")
        }
        var header = "{"
        var parts: [String] = []
        if !metadata.isEmpty {
            let fields = metadata.keys.sorted().map {
                "\(jsonString($0)):\(jsonString(metadata[$0]!))"
            }
            parts.append("\"__metadata__\":{\(fields.joined(separator: ","))}")
        }
        var offset = 0
        for e in entries {
            let shape = e.shape.map(String.init).joined(separator: ",")
            parts.append(
                "\(jsonString(e.name)):{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + e.data.count)]}"
            )
            offset += e.data.count
        }
        header += parts.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        // Pad with spaces so the data buffer starts 8-byte aligned, as the reference writer does.
        while (8 + headerBytes.count) % 8 != 0 { headerBytes.append(UInt8(ascii: " ")) }
        try AtomicFile.write(to: path) { fd in
            var length = UInt64(headerBytes.count).littleEndian
            try withUnsafeBytes(of: &length) { try AtomicFile.writeAll(fd, $0, path: path) }
            try headerBytes.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: path) }
            for e in entries {
                try e.data.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: path) }
            }
        }
    }

    /// A JSON string literal with the escapes JSON requires.
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
