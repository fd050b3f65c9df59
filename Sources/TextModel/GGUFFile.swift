// Reads a GGUF file (versions 2 and 3): memory-mapped, every count and offset checked first.
//
// The format, little-endian throughout (ggml's gguf.h):
//   u32 magic 'GGUF' (bytes 47 47 55 46) · u32 version · u64 tensor_count · u64 metadata_kv_count
//   metadata_kv_count × { string key · u32 value_type · value }
//   tensor_count × { string name · u32 n_dims (≤ 4) · u64 dims[n_dims] (innermost first) ·
//                    u32 ggml_type · u64 offset (relative to the data section, aligned) }
//   padding to `general.alignment` (u32, default 32) · data section (the tensors' bytes)
// where string = u64 length · bytes (UTF-8, no terminator), value types are
//   0 u8 · 1 i8 · 2 u16 · 3 i16 · 4 u32 · 5 i32 · 6 f32 · 7 bool (1 byte) · 8 string ·
//   9 array = u32 element_type · u64 count · values · 10 u64 · 11 i64 · 12 f64.
// Version 1 (u32 counts) is not read. Nothing is allocated from a count before the count is
// checked against the bytes that remain.
import Core
import LinearAlgebra
import QuantizedKernels

/// One tensor's description in a GGUF file.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// Dimensions as stored: innermost (fastest-varying) first.
    public let dimensions: [Int]
    public let type: GGMLType
    /// Offset from the start of the data section.
    public let offset: Int
    /// Bytes the tensor occupies.
    public let byteCount: Int

    /// Number of elements.
    public var elementCount: Int { dimensions.reduce(1, *) }
    /// The shape outermost first, as `Tensor` uses it: a (out, in) weight is stored as [in, out].
    public var shape: [Int] { dimensions.reversed() }
}

/// A parsed, memory-mapped GGUF file.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    /// Metadata in file order.
    public let metadataKeys: [String]
    public let metadata: [String: GGUFValue]
    /// Tensor infos in file order.
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    /// Offset of the data section from the start of the file.
    public let dataOffset: Int
    /// Where the metadata key-values start and end in the file (a writer copies them verbatim).
    public let metadataRange: Range<Int>

    private let file: MappedFile
    private let tensorIndex: [String: Int]

    /// Deepest nesting of arrays accepted (real files use 1).
    static let maxArrayDepth = 4

    /// Opens and validates the file; the tensor data is only read when asked for.
    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        var reader = ByteReader(bytes: file.bytes)
        let magic = try reader.read(UInt32.self)
        guard magic == 0x4655_4747 else { throw GGUFError.badMagic(found: magic) }
        version = try reader.read(UInt32.self)
        if version.byteSwapped == 2 || version.byteSwapped == 3 { throw GGUFError.bigEndian }
        guard version == 2 || version == 3 else { throw GGUFError.unsupportedVersion(version) }
        let tensorCountOffset = reader.offset
        let tensorCount = try reader.read(UInt64.self)
        let kvCountOffset = reader.offset
        let kvCount = try reader.read(UInt64.self)
        // Each key-value takes at least 8 (key length) + 4 (type) + 1 bytes; each tensor info 8+4+4+8.
        try reader.checkCount(kvCount, minimumBytesEach: 13, what: "metadata", at: kvCountOffset)

        let metadataStart = reader.offset
        var keys: [String] = []
        var values: [String: GGUFValue] = [:]
        for _ in 0..<Int(kvCount) {
            let key = try reader.readString()
            let typeOffset = reader.offset
            let type = try reader.read(UInt32.self)
            let value = try reader.readValue(type: type, typeOffset: typeOffset, depth: 0)
            guard values[key] == nil else { throw GGUFError.duplicateKey(key) }
            keys.append(key)
            values[key] = value
        }
        metadataKeys = keys
        metadata = values
        metadataRange = metadataStart..<reader.offset

        var alignment = 32
        if let value = values["general.alignment"] {
            guard case .uint32(let a) = value else {
                throw GGUFError.wrongKeyType(key: "general.alignment", expected: "a u32")
            }
            guard a > 0, a & (a - 1) == 0 else { throw GGUFError.badAlignment(String(a)) }
            alignment = Int(a)
        }
        self.alignment = alignment

        try reader.checkCount(
            tensorCount, minimumBytesEach: 24, what: "tensor", at: tensorCountOffset)
        var raw: [(name: String, dims: [Int], type: GGMLType, offset: UInt64, bytes: Int)] = []
        var index: [String: Int] = [:]
        for _ in 0..<Int(tensorCount) {
            let name = try reader.readString()
            let nDims = try reader.read(UInt32.self)
            guard nDims <= 4 else { throw GGUFError.tooManyDimensions(tensor: name, count: nDims) }
            var dims64: [UInt64] = []
            for _ in 0..<Int(nDims) { dims64.append(try reader.read(UInt64.self)) }
            let typeID = try reader.read(UInt32.self)
            let offset = try reader.read(UInt64.self)
            // Dimensions must be positive and their product must fit comfortably in an Int.
            var count = 1
            for d in dims64 {
                guard d > 0, d < UInt64(Int32.max) else {
                    throw GGUFError.badDimension(tensor: name, dimensions: dims64)
                }
                let (product, overflow) = count.multipliedReportingOverflow(by: Int(d))
                guard !overflow, product < (1 << 48) else {
                    throw GGUFError.badDimension(tensor: name, dimensions: dims64)
                }
                count = product
            }
            guard let type = GGMLType(rawValue: typeID) else {
                throw GGUFError.unknownTensorType(tensor: name, type: typeID)
            }
            let row = dims64.first.map(Int.init) ?? 1
            guard row % type.blockSize == 0 else {
                throw GGUFError.rowNotBlockMultiple(
                    tensor: name, type: type.name, row: row, block: type.blockSize)
            }
            guard offset % UInt64(alignment) == 0 else {
                throw GGUFError.misalignedTensor(tensor: name, offset: offset, alignment: alignment)
            }
            guard index[name] == nil else { throw GGUFError.duplicateTensor(name) }
            index[name] = raw.count
            raw.append(
                (name, dims64.map(Int.init), type, offset, count / type.blockSize * type.blockBytes)
            )
        }
        tensorIndex = index

        let padded = (reader.offset + alignment - 1) / alignment * alignment
        dataOffset = padded
        let dataBytes = max(0, file.bytes.count - padded)
        if !raw.isEmpty && padded > file.bytes.count {
            throw GGUFError.truncated(
                offset: reader.offset, needed: padded - reader.offset,
                fileSize: file.bytes.count)
        }
        tensors = try raw.map { t in
            guard t.offset <= UInt64(dataBytes), UInt64(t.bytes) <= UInt64(dataBytes) - t.offset
            else {
                throw GGUFError.tensorOutOfRange(
                    tensor: t.name, offset: t.offset, bytes: t.bytes, dataBytes: dataBytes)
            }
            return GGUFTensorInfo(
                name: t.name, dimensions: t.dims, type: t.type,
                offset: Int(t.offset), byteCount: t.bytes)
        }
        try Self.checkLayout(tensors, dataBytes: dataBytes, alignment: alignment)
    }

    /// Tensors must not share bytes, and each must fill its extent (the bytes up to the next
    /// tensor, or to the end of the file) but for alignment padding: ggml lays tensors out back to
    /// back, so a larger gap means the declared type or dimensions do not describe the data.
    static func checkLayout(_ tensors: [GGUFTensorInfo], dataBytes: Int, alignment: Int) throws {
        let byOffset = tensors.sorted { ($0.offset, $0.name) < ($1.offset, $1.name) }
        for (i, t) in byOffset.enumerated() {
            let extentEnd = i + 1 < byOffset.count ? byOffset[i + 1].offset : dataBytes
            if i + 1 < byOffset.count && t.offset + t.byteCount > extentEnd {
                throw GGUFError.tensorsOverlap(first: t.name, second: byOffset[i + 1].name)
            }
            let extent = extentEnd - t.offset
            if extent - t.byteCount >= alignment {
                throw GGUFError.tensorExtentMismatch(
                    tensor: t.name, type: t.type.name, bytes: t.byteCount, extent: extent)
            }
        }
    }

    /// The info of a tensor, or `GGUFError.missingTensor`.
    public func tensorInfo(named name: String) throws -> GGUFTensorInfo {
        guard let i = tensorIndex[name] else { throw GGUFError.missingTensor(name) }
        return tensors[i]
    }

    public func hasTensor(named name: String) -> Bool { tensorIndex[name] != nil }

    /// The file's bytes (valid while this object lives).
    public var bytes: UnsafeRawBufferPointer { file.bytes }

    /// A tensor's bytes as stored (valid while this object lives).
    public func rawBytes(of info: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(
            rebasing: file.bytes[
                (dataOffset + info.offset)..<(dataOffset + info.offset + info.byteCount)])
    }

    /// The tensor dequantized to Float32, shaped outermost first.
    public func tensor(named name: String) throws -> Tensor {
        let info = try tensorInfo(named: name)
        guard info.type.isDequantizable else {
            throw GGUFError.unsupportedTensorType(tensor: name, type: info.type.name)
        }
        var values = [Float](repeating: 0, count: info.elementCount)
        let source = UnsafeRawBufferPointer(
            rebasing: file.bytes[
                (dataOffset + info.offset)..<(dataOffset + info.offset + info.byteCount)])
        values.withUnsafeMutableBufferPointer { out in
            Dequantize.run(type: info.type, from: source, into: out)
        }
        // A NaN or infinite weight (or block scale) would poison every output: refused by name.
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw GGUFError.nonFiniteTensor(tensor: name, element: i)
        }
        return Tensor(shape: info.shape, scalars: values)
    }

    /// The tensor dequantized and checked to have the expected shape (outermost first).
    public func tensor(named name: String, shape: [Int]) throws -> Tensor {
        let info = try tensorInfo(named: name)
        guard info.shape == shape else {
            throw GGUFError.shapeMismatch(tensor: name, expected: shape, found: info.shape)
        }
        return try tensor(named: name)
    }

    /// The (rows, columns) tensor kept in its block format, or nil when the quantized kernels do
    /// not multiply its type (the caller then dequantizes). Block scales are checked finite.
    public func quantizedMatrix(named name: String, shape: [Int]) throws -> QuantizedMatrix? {
        let info = try tensorInfo(named: name)
        guard info.shape == shape else {
            throw GGUFError.shapeMismatch(tensor: name, expected: shape, found: info.shape)
        }
        guard shape.count == 2, QuantizedMatrix.supports(info.type),
            shape[1] % info.type.blockSize == 0
        else { return nil }
        let bytes = rawBytes(of: info)
        let blocks = Int64(info.elementCount / info.type.blockSize)
        let bad = qk_first_nonfinite_block(Int32(info.type.rawValue), bytes.baseAddress, blocks)
        if bad >= 0 {
            throw GGUFError.nonFiniteTensor(tensor: name, element: Int(bad) * info.type.blockSize)
        }
        return QuantizedMatrix(
            type: info.type, rows: shape[0], columns: shape[1], data: bytes.baseAddress!,
            owner: file)
    }

    // MARK: Typed metadata access

    public func value(_ key: String) throws -> GGUFValue {
        guard let v = metadata[key] else { throw GGUFError.missingKey(key) }
        return v
    }

    public func int(_ key: String) throws -> Int {
        guard let v = try value(key).intValue else {
            throw GGUFError.wrongKeyType(key: key, expected: "an integer")
        }
        return v
    }

    public func double(_ key: String) throws -> Double {
        guard let v = try value(key).doubleValue else {
            throw GGUFError.wrongKeyType(key: key, expected: "a number")
        }
        return v
    }

    public func string(_ key: String) throws -> String {
        guard let v = try value(key).stringValue else {
            throw GGUFError.wrongKeyType(key: key, expected: "a string")
        }
        return v
    }

    public func stringArray(_ key: String) throws -> [String] {
        guard let values = try value(key).arrayValue else {
            throw GGUFError.wrongKeyType(key: key, expected: "an array of strings")
        }
        return try values.map {
            guard let s = $0.stringValue else {
                throw GGUFError.wrongKeyType(key: key, expected: "an array of strings")
            }
            return s
        }
    }

    public func intArray(_ key: String) throws -> [Int] {
        guard let values = try value(key).arrayValue else {
            throw GGUFError.wrongKeyType(key: key, expected: "an array of integers")
        }
        return try values.map {
            guard let v = $0.intValue else {
                throw GGUFError.wrongKeyType(key: key, expected: "an array of integers")
            }
            return v
        }
    }
}

/// A bounds-checked little-endian cursor over the mapped bytes.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    var remaining: Int { bytes.count - offset }

    mutating func need(_ n: Int) throws {
        guard n <= remaining else {
            throw GGUFError.truncated(offset: offset, needed: n, fileSize: bytes.count)
        }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
        try need(MemoryLayout<T>.size)
        let v = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    /// Rejects a count whose elements could not possibly fit in the bytes left.
    func checkCount(_ count: UInt64, minimumBytesEach: Int, what: String, at position: Int) throws {
        guard count <= UInt64(remaining / max(1, minimumBytesEach)) else {
            throw GGUFError.countTooLarge(what: what, count: count, offset: position)
        }
    }

    mutating func readString() throws -> String {
        let start = offset
        let length = try read(UInt64.self)
        guard length <= UInt64(remaining) else {
            throw GGUFError.countTooLarge(what: "string length", count: length, offset: start)
        }
        let n = Int(length)
        let s = String(
            decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)]),
            as: UTF8.self)
        offset += n
        return s
    }

    /// Smallest encoded size of a value of the type (for bounding array counts).
    static func minimumSize(of type: UInt32) -> Int {
        switch type {
        case 0, 1, 7: return 1
        case 2, 3: return 2
        case 4, 5, 6: return 4
        case 8, 10, 11, 12: return 8
        case 9: return 12
        default: return 1
        }
    }

    mutating func readValue(type: UInt32, typeOffset: Int, depth: Int) throws -> GGUFValue {
        switch type {
        case 0: return .uint8(try read(UInt8.self))
        case 1: return .int8(try read(Int8.self))
        case 2: return .uint16(try read(UInt16.self))
        case 3: return .int16(try read(Int16.self))
        case 4: return .uint32(try read(UInt32.self))
        case 5: return .int32(try read(Int32.self))
        case 6: return .float32(Float(bitPattern: try read(UInt32.self)))
        case 7: return .bool(try read(UInt8.self) != 0)
        case 8: return .string(try readString())
        case 9:
            guard depth < GGUFFile.maxArrayDepth else {
                throw GGUFError.nestingTooDeep(offset: typeOffset)
            }
            let elementTypeOffset = offset
            let elementType = try read(UInt32.self)
            guard elementType <= 12 else {
                throw GGUFError.unknownValueType(elementType, offset: elementTypeOffset)
            }
            let countOffset = offset
            let count = try read(UInt64.self)
            try checkCount(
                count, minimumBytesEach: ByteReader.minimumSize(of: elementType),
                what: "array element", at: countOffset)
            var values: [GGUFValue] = []
            values.reserveCapacity(Int(count))
            for _ in 0..<Int(count) {
                values.append(
                    try readValue(
                        type: elementType, typeOffset: elementTypeOffset,
                        depth: depth + 1))
            }
            return .array(elementType: elementType, values)
        case 10: return .uint64(try read(UInt64.self))
        case 11: return .int64(try read(Int64.self))
        case 12: return .float64(Double(bitPattern: try read(UInt64.self)))
        default: throw GGUFError.unknownValueType(type, offset: typeOffset)
        }
    }
}
