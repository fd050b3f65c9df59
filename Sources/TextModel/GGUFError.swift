// Errors reading a GGUF file: each names the problem and, where it has one, the byte offset.

/// Why a GGUF file could not be read.
public enum GGUFError: Error, CustomStringConvertible, Equatable {
    case badMagic(found: UInt32)
    case unsupportedVersion(UInt32)
    case bigEndian
    case truncated(offset: Int, needed: Int, fileSize: Int)
    case countTooLarge(what: String, count: UInt64, offset: Int)
    case unknownValueType(UInt32, offset: Int)
    case nestingTooDeep(offset: Int)
    case duplicateKey(String)
    case badAlignment(String)
    case tooManyDimensions(tensor: String, count: UInt32)
    case badDimension(tensor: String, dimensions: [UInt64])
    case unknownTensorType(tensor: String, type: UInt32)
    case unsupportedTensorType(tensor: String, type: String)
    case rowNotBlockMultiple(tensor: String, type: String, row: Int, block: Int)
    case misalignedTensor(tensor: String, offset: UInt64, alignment: Int)
    case tensorOutOfRange(tensor: String, offset: UInt64, bytes: Int, dataBytes: Int)
    case duplicateTensor(String)
    case missingTensor(String)
    case missingKey(String)
    case wrongKeyType(key: String, expected: String)
    case shapeMismatch(tensor: String, expected: [Int], found: [Int])
    case nonFiniteTensor(tensor: String, element: Int)
    case tensorsOverlap(first: String, second: String)
    case tensorExtentMismatch(tensor: String, type: String, bytes: Int, extent: Int)

    public var description: String {
        switch self {
        case .badMagic(let found):
            return
                "not a GGUF file: magic is 0x\(String(found, radix: 16)), expected 0x46554747 ('GGUF')"
        case .bigEndian: return "big-endian GGUF files are not supported"
        case .unsupportedVersion(let v): return "unsupported GGUF version \(v) (supported: 2, 3)"
        case .truncated(let offset, let needed, let size):
            return
                "GGUF file truncated: \(needed) bytes needed at offset \(offset), file has \(size)"
        case .countTooLarge(let what, let count, let offset):
            return "GGUF \(what) count \(count) at offset \(offset) exceeds what the file can hold"
        case .unknownValueType(let t, let offset):
            return "unknown GGUF metadata value type \(t) at offset \(offset)"
        case .nestingTooDeep(let offset): return "GGUF arrays nested too deeply at offset \(offset)"
        case .duplicateKey(let key): return "GGUF metadata key '\(key)' appears twice"
        case .badAlignment(let text): return "GGUF general.alignment \(text) is not a power of two"
        case .tooManyDimensions(let name, let count):
            return "GGUF tensor '\(name)' has \(count) dimensions (at most 4)"
        case .badDimension(let name, let dims):
            return
                "GGUF tensor '\(name)' has invalid dimensions \(dims) (zero, or the product overflows)"
        case .unknownTensorType(let name, let type):
            return "GGUF tensor '\(name)' has unknown ggml type \(type)"
        case .unsupportedTensorType(let name, let type):
            return "GGUF tensor '\(name)' has type \(type), which this reader cannot dequantize "
                + "(supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q4_K, Q6_K)"
        case .rowNotBlockMultiple(let name, let type, let row, let block):
            return
                "GGUF tensor '\(name)': row length \(row) is not a multiple of the \(type) block size \(block)"
        case .misalignedTensor(let name, let offset, let alignment):
            return
                "GGUF tensor '\(name)' offset \(offset) is not a multiple of the alignment \(alignment)"
        case .tensorOutOfRange(let name, let offset, let bytes, let dataBytes):
            return
                "GGUF tensor '\(name)' (\(bytes) bytes at data offset \(offset)) lies beyond the "
                + "\(dataBytes)-byte data section"
        case .duplicateTensor(let name): return "GGUF tensor '\(name)' appears twice"
        case .missingTensor(let name): return "GGUF file has no tensor '\(name)'"
        case .missingKey(let key): return "GGUF file has no metadata key '\(key)'"
        case .wrongKeyType(let key, let expected):
            return "GGUF metadata key '\(key)' is not \(expected)"
        case .shapeMismatch(let name, let expected, let found):
            return "GGUF tensor '\(name)' has shape \(found), expected \(expected)"
        case .nonFiniteTensor(let name, let element):
            return
                "GGUF tensor '\(name)' holds a non-finite value (NaN or infinity) at element \(element)"
        case .tensorsOverlap(let first, let second):
            return "GGUF tensors '\(first)' and '\(second)' overlap in the data section"
        case .tensorExtentMismatch(let name, let type, let bytes, let extent):
            return
                "GGUF tensor '\(name)': its type \(type) and dimensions need \(bytes) bytes, but its "
                + "data spans \(extent) (to the next tensor or the end of the file)"
        }
    }
}
