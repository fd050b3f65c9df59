// Writes a GGUF file that is a copy of another with some tensors replaced: every metadata key (the
// tokenizer included) copied byte for byte, every other tensor's bytes copied as stored, the
// replaced ones encoded as F16 or Q8_0. Tensors are laid out back to back in the source's order
// and alignment, as ggml writes them; the file is written atomically.
import Core
import Foundation
import LinearAlgebra

/// How a replaced tensor is stored.
public enum GGUFStorage: String, Sendable, CaseIterable {
    /// Half precision: 2 bytes per value, relative rounding error about 5·10⁻⁴.
    case f16
    /// ggml's Q8_0: blocks of 32 values as 8-bit integers with one F16 scale (1.0625 bytes per value).
    case q8_0

    var type: GGMLType { self == .f16 ? .f16 : .q8_0 }
}

public enum GGUFWriter {
    /// Writes `source` to `path` with the tensors in `replacements` (name → values, shaped as the
    /// source tensor, outermost first) stored as `storage`.
    public static func write(
        copying source: GGUFFile, replacing replacements: [String: Tensor], storage: GGUFStorage,
        to path: String
    ) throws {
        for (name, tensor) in replacements {
            let info = try source.tensorInfo(named: name)
            guard tensor.shape == info.shape else {
                throw GGUFError.shapeMismatch(
                    tensor: name, expected: info.shape, found: tensor.shape)
            }
            let row = info.dimensions.first ?? 1
            guard row % storage.type.blockSize == 0 else {
                throw GGUFError.rowNotBlockMultiple(
                    tensor: name, type: storage.type.name, row: row, block: storage.type.blockSize)
            }
        }
        // Each tensor's type and encoded size in the new file.
        let layout = source.tensors.map { info -> (GGMLType, Int) in
            guard replacements[info.name] != nil else { return (info.type, info.byteCount) }
            return (
                storage.type, info.elementCount / storage.type.blockSize * storage.type.blockBytes
            )
        }
        let alignment = source.alignment
        func padded(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }

        var header: [UInt8] = []
        func put<T: FixedWidthInteger>(_ v: T) {
            withUnsafeBytes(of: v.littleEndian) { header += $0 }
        }
        header += Array("GGUF".utf8)
        put(UInt32(3))
        put(UInt64(source.tensors.count))
        put(UInt64(source.metadataKeys.count))
        header += source.bytes[source.metadataRange]
        var offset = 0
        for (info, (type, size)) in zip(source.tensors, layout) {
            put(UInt64(info.name.utf8.count))
            header += Array(info.name.utf8)
            put(UInt32(info.dimensions.count))
            for d in info.dimensions { put(UInt64(d)) }
            put(type.rawValue)
            put(UInt64(offset))
            offset = padded(offset + size)
        }
        header += [UInt8](repeating: 0, count: padded(header.count) - header.count)

        try AtomicFile.write(to: path) { fd in
            try header.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: path) }
            let zeros = [UInt8](repeating: 0, count: alignment)
            for (info, (_, size)) in zip(source.tensors, layout) {
                if let tensor = replacements[info.name] {
                    let encoded = encode(tensor.scalars, as: storage)
                    try encoded.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: path) }
                } else {
                    try AtomicFile.writeAll(fd, source.rawBytes(of: info), path: path)
                }
                let pad = padded(size) - size
                if pad > 0 {
                    try zeros.withUnsafeBytes {
                        try AtomicFile.writeAll(
                            fd, UnsafeRawBufferPointer(rebasing: $0[0..<pad]), path: path)
                    }
                }
            }
        }
    }

    /// Values encoded as ggml stores them.
    static func encode(_ values: [Float], as storage: GGUFStorage) -> [UInt8] {
        switch storage {
        case .f16:
            var out = [UInt8](repeating: 0, count: values.count * 2)
            for (i, v) in values.enumerated() {
                let bits = Float16(v).bitPattern
                out[2 * i] = UInt8(truncatingIfNeeded: bits)
                out[2 * i + 1] = UInt8(truncatingIfNeeded: bits >> 8)
            }
            return out
        case .q8_0:
            // ggml's reference quantizer: d = max|x|/127, q = round(x/d), d stored as F16.
            let blocks = values.count / 32
            var out = [UInt8](repeating: 0, count: blocks * 34)
            for b in 0..<blocks {
                let block = values[(b * 32)..<(b * 32 + 32)]
                let amax = block.reduce(0) { max($0, abs($1)) }
                let d = amax / 127
                let inverse = d > 0 ? 1 / d : 0
                let bits = Float16(d).bitPattern
                out[b * 34] = UInt8(truncatingIfNeeded: bits)
                out[b * 34 + 1] = UInt8(truncatingIfNeeded: bits >> 8)
                for (j, x) in block.enumerated() {
                    out[b * 34 + 2 + j] = UInt8(bitPattern: Int8((x * inverse).rounded()))
                }
            }
            return out
        }
    }
}
