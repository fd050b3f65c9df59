// GGUF reader: metadata of every type, tensors and dequantization, and every kind of broken file.
import Foundation
import Testing

@testable import TextModel

@Suite struct GGUFReaderTests {
    static func sampleBuilder() -> GGUFBuilder {
        var b = GGUFBuilder()
        b.add("general.architecture", .string("llama"))
        b.add("u8", .uint8(200))
        b.add("i8", .int8(-5))
        b.add("u16", .uint16(60000))
        b.add("i16", .int16(-300))
        b.add("u32", .uint32(4_000_000_000))
        b.add("i32", .int32(-7))
        b.add("f32", .float32(1.5))
        b.add("bool", .bool(true))
        b.add("u64", .uint64(1 << 40))
        b.add("i64", .int64(-(1 << 40)))
        b.add("f64", .float64(-2.25))
        b.add("café ☕", .string("naïve"))
        b.add("strings", .array(elementType: 8, [.string("a"), .string(""), .string("Ġt")]))
        b.add(
            "nested",
            .array(
                elementType: 9,
                [
                    .array(elementType: 5, [.int32(1), .int32(2)]), .array(elementType: 5, []),
                ]))
        b.addF32("matrix", dims: [3, 2], values: [1, 2, 3, 4, 5, 6])
        b.addF32("vector", dims: [5], values: [0.5, -1, 2, -3, 4])
        return b
    }

    @Test func readsEveryMetadataTypeAndTensors() throws {
        let path = Self.sampleBuilder().write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let f = try GGUFFile(path: path)
        #expect(f.version == 3)
        #expect(f.metadataKeys.count == 15)
        #expect(f.metadata["u8"] == .uint8(200))
        #expect(f.metadata["i8"] == .int8(-5))
        #expect(f.metadata["u16"] == .uint16(60000))
        #expect(f.metadata["i16"] == .int16(-300))
        #expect(f.metadata["u32"] == .uint32(4_000_000_000))
        #expect(f.metadata["i32"] == .int32(-7))
        #expect(f.metadata["f32"] == .float32(1.5))
        #expect(f.metadata["bool"] == .bool(true))
        #expect(f.metadata["u64"] == .uint64(1 << 40))
        #expect(f.metadata["i64"] == .int64(-(1 << 40)))
        #expect(f.metadata["f64"] == .float64(-2.25))
        #expect(try f.string("café ☕") == "naïve")
        #expect(try f.stringArray("strings") == ["a", "", "Ġt"])
        #expect(
            f.metadata["nested"]
                == .array(
                    elementType: 9,
                    [
                        .array(elementType: 5, [.int32(1), .int32(2)]), .array(elementType: 5, []),
                    ]))
        #expect(f.alignment == 32)
        #expect(f.dataOffset % 32 == 0)
        // GGUF lists dims innermost first: [3, 2] is 2 rows of 3.
        let m = try f.tensor(named: "matrix")
        #expect(m.shape == [2, 3])
        #expect(m.scalars == [1, 2, 3, 4, 5, 6])
        #expect(try f.tensor(named: "vector").scalars == [0.5, -1, 2, -3, 4])
        #expect(throws: GGUFError.missingTensor("nope")) { try f.tensor(named: "nope") }
        #expect(
            throws: GGUFError.shapeMismatch(tensor: "matrix", expected: [3, 2], found: [2, 3])
        ) {
            try f.tensor(named: "matrix", shape: [3, 2])
        }
        #expect(throws: GGUFError.wrongKeyType(key: "f32", expected: "a string")) {
            try f.string("f32")
        }
        #expect(throws: GGUFError.missingKey("absent")) { try f.int("absent") }
    }

    @Test func readsVersion2AndCustomAlignment() throws {
        var b = Self.sampleBuilder()
        b.version = 2
        b.alignment = 64
        b.metadata.insert(("general.alignment", .uint32(64)), at: 0)
        let path = b.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let f = try GGUFFile(path: path)
        #expect(f.version == 2)
        #expect(f.alignment == 64)
        #expect(f.dataOffset % 64 == 0)
        #expect(try f.tensor(named: "vector").scalars == [0.5, -1, 2, -3, 4])
    }

    /// Opens bytes as a GGUF file and returns the error it raises (nil if it opened).
    func openError(_ bytes: [UInt8]) -> Error? {
        let path = GGUFBuilder.write(bytes, name: "broken")
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try GGUFFile(path: path)
            return nil
        } catch { return error }
    }

    @Test func rejectsBadMagicAndVersions() {
        var bytes = Self.sampleBuilder().bytes()
        bytes[0] = UInt8(ascii: "X")
        #expect(openError(bytes) as? GGUFError == .badMagic(found: 0x4655_4758))
        for v: UInt32 in [1, 4, 0xFFFF_FFFF] {
            var b = Self.sampleBuilder()
            b.version = v
            #expect(openError(b.bytes()) as? GGUFError == .unsupportedVersion(v))
        }
        #expect(openError([]) as? GGUFError == .truncated(offset: 0, needed: 4, fileSize: 0))
        var big = Self.sampleBuilder()
        big.version = UInt32(3).byteSwapped
        #expect(openError(big.bytes()) as? GGUFError == .bigEndian)
    }

    @Test func everyTruncationIsAClearError() {
        let bytes = Self.sampleBuilder().bytes()
        // Every cut inside the header and tensor infos fails cleanly; cuts in the data section
        // leave a tensor out of range.
        for cut in stride(from: 0, to: bytes.count - 1, by: 3) {
            let error = openError(Array(bytes[..<cut]))
            #expect(
                error is GGUFError,
                "cut at \(cut) of \(bytes.count) gave \(String(describing: error))")
        }
    }

    @Test func rejectsHugeCountsAndLengths() {
        // A metadata count far beyond the file.
        var bytes = Self.sampleBuilder().bytes()
        bytes.replaceSubrange(16..<24, with: le(UInt64(1) << 60))
        #expect(
            openError(bytes) as? GGUFError
                == .countTooLarge(what: "metadata", count: 1 << 60, offset: 16))
        // A tensor count far beyond the file.
        bytes = Self.sampleBuilder().bytes()
        bytes.replaceSubrange(8..<16, with: le(UInt64.max))
        #expect(
            openError(bytes) as? GGUFError
                == .countTooLarge(what: "tensor", count: UInt64.max, offset: 8))
        // A string length beyond the file (the first key's length).
        bytes = Self.sampleBuilder().bytes()
        bytes.replaceSubrange(24..<32, with: le(UInt64(1) << 62))
        #expect(
            openError(bytes) as? GGUFError
                == .countTooLarge(what: "string length", count: 1 << 62, offset: 24))
        // An array count beyond the file.
        var b = GGUFBuilder()
        b.add("a", .array(elementType: 4, [.uint32(1)]))
        bytes = b.bytes()
        let countOffset = 24 + 8 + 1 + 4 + 4
        bytes.replaceSubrange(countOffset..<(countOffset + 8), with: le(UInt64(1) << 40))
        #expect(
            openError(bytes) as? GGUFError
                == .countTooLarge(what: "array element", count: 1 << 40, offset: countOffset))
    }

    @Test func rejectsBadValueTypesAndDeepNesting() {
        var b = GGUFBuilder()
        b.add("x", .uint32(1))
        var bytes = b.bytes()
        bytes.replaceSubrange(33..<37, with: le(UInt32(13)))
        #expect(openError(bytes) as? GGUFError == .unknownValueType(13, offset: 33))
        var deep: GGUFValue = .array(elementType: 4, [.uint32(1)])
        for _ in 0..<6 { deep = .array(elementType: 9, [deep]) }
        b = GGUFBuilder()
        b.add("deep", deep)
        if case .nestingTooDeep = openError(b.bytes()) as? GGUFError {
        } else {
            Issue.record("deep nesting was not rejected")
        }
        b = GGUFBuilder()
        b.add("k", .uint8(1))
        b.add("k", .uint8(2))
        #expect(openError(b.bytes()) as? GGUFError == .duplicateKey("k"))
        b = GGUFBuilder()
        b.add("general.alignment", .uint32(48))
        #expect(openError(b.bytes()) as? GGUFError == .badAlignment("48"))
        b = GGUFBuilder()
        b.add("general.alignment", .string("32"))
        #expect(
            openError(b.bytes()) as? GGUFError
                == .wrongKeyType(key: "general.alignment", expected: "a u32"))
    }

    @Test func rejectsBadTensorInfos() {
        let data = [UInt8](repeating: 0, count: 16)
        func single(dims: [UInt64], type: UInt32 = 0, offset: Int? = nil, bytes: [UInt8] = data)
            -> Error?
        {
            var b = GGUFBuilder()
            b.addRaw("t", dims: dims, type: type, data: bytes)
            return openError(b.bytes(offsets: offset.map { [$0] }))
        }
        #expect(single(dims: [4]) == nil)
        #expect(
            single(dims: [1, 1, 1, 1, 4]) as? GGUFError == .tooManyDimensions(tensor: "t", count: 5)
        )
        #expect(
            single(dims: [0, 4]) as? GGUFError == .badDimension(tensor: "t", dimensions: [0, 4]))
        #expect(
            single(dims: [1 << 30, 1 << 30, 1 << 30]) as? GGUFError
                == .badDimension(tensor: "t", dimensions: [1 << 30, 1 << 30, 1 << 30]))
        #expect(
            single(dims: [4], type: 99) as? GGUFError == .unknownTensorType(tensor: "t", type: 99))
        #expect(
            single(dims: [16], type: 2) as? GGUFError
                == .rowNotBlockMultiple(tensor: "t", type: "Q4_0", row: 16, block: 32))
        #expect(
            single(dims: [4], offset: 8) as? GGUFError
                == .misalignedTensor(tensor: "t", offset: 8, alignment: 32))
        #expect(
            single(dims: [4], offset: 1 << 40) as? GGUFError
                == .tensorOutOfRange(tensor: "t", offset: 1 << 40, bytes: 16, dataBytes: 16))
        #expect(
            single(dims: [8]) as? GGUFError
                == .tensorOutOfRange(tensor: "t", offset: 0, bytes: 32, dataBytes: 16))
        var b = GGUFBuilder()
        b.addRaw("t", dims: [4], type: 0, data: data)
        b.addRaw("t", dims: [4], type: 0, data: data)
        #expect(openError(b.bytes()) as? GGUFError == .duplicateTensor("t"))
    }

    /// ggml lays tensors out back to back: shared bytes, or a declared type and dimensions that do
    /// not fill the tensor's extent, mean the file does not describe its data.
    @Test func rejectsOverlappingTensorsAndTypesThatDoNotFitTheirExtent() {
        let data = [UInt8](repeating: 0, count: 32)
        var b = GGUFBuilder()
        b.addRaw("a", dims: [8], type: 0, data: data)
        b.addRaw("b", dims: [8], type: 0, data: data)
        #expect(openError(b.bytes()) == nil)
        #expect(
            openError(b.bytes(offsets: [0, 0])) as? GGUFError
                == .tensorsOverlap(first: "a", second: "b"))
        // "a" claims F16 (16 bytes) but its data runs 32 bytes to "b"... (within one alignment: fine)
        var f16 = GGUFBuilder()
        f16.addRaw("a", dims: [8], type: 1, data: data)
        f16.addRaw("b", dims: [8], type: 0, data: data)
        #expect(openError(f16.bytes(offsets: [0, 32])) == nil)
        // ...but F16 over 64 bytes of data is not what the file holds.
        var wide = GGUFBuilder()
        wide.addRaw("a", dims: [8], type: 1, data: data + data)
        wide.addRaw("b", dims: [8], type: 0, data: data)
        #expect(
            openError(wide.bytes()) as? GGUFError
                == .tensorExtentMismatch(tensor: "a", type: "F16", bytes: 16, extent: 64))
        // The last tensor's extent runs to the end of the file.
        var last = GGUFBuilder()
        last.addRaw("a", dims: [8], type: 1, data: data + data)
        #expect(
            openError(last.bytes()) as? GGUFError
                == .tensorExtentMismatch(tensor: "a", type: "F16", bytes: 16, extent: 64))
    }

    @Test func nonFiniteValuesAreNamedWhenRead() throws {
        var b = GGUFBuilder()
        b.addF32("w", dims: [4], values: [1, 2, .infinity, 4])
        let path = b.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let f = try GGUFFile(path: path)
        #expect(throws: GGUFError.nonFiniteTensor(tensor: "w", element: 2)) {
            try f.tensor(named: "w")
        }
    }

    @Test func unsupportedTypeIsNamedWhenRead() throws {
        var b = GGUFBuilder()
        b.addRaw(
            "q5", dims: [256], type: GGMLType.q5_K.rawValue, data: [UInt8](repeating: 0, count: 176)
        )
        let path = b.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let f = try GGUFFile(path: path)
        #expect(throws: GGUFError.unsupportedTensorType(tensor: "q5", type: "Q5_K")) {
            try f.tensor(named: "q5")
        }
    }

    @Test func missingFileIsAnError() {
        #expect(throws: (any Error).self) { try GGUFFile(path: "/nonexistent/model.gguf") }
    }
}
