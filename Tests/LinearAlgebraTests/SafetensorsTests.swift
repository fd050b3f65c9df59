// safetensors round trips, and one malformed file per kind of header violation.
import Core
import Foundation
import Testing

@testable import LinearAlgebra

@Suite struct SafetensorsTests {
    let dir: String = {
        let d = NSTemporaryDirectory() + "safetensors-tests-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }()

    /// Writes a file from a raw header string and data bytes, as a broken writer might.
    func rawFile(_ header: String, data: [UInt8] = [], lengthOverride: UInt64? = nil) -> String {
        let path = dir + "/\(UUID().uuidString).safetensors"
        var bytes: [UInt8] = []
        let h = Array(header.utf8)
        withUnsafeBytes(of: (lengthOverride ?? UInt64(h.count)).littleEndian) { bytes += $0 }
        bytes += h + data
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    @Test func roundTripF32AndF16WithMetadata() throws {
        var rng = SplitMix64(seed: 1)
        let a = Tensor(randomNormal: [3, 4], using: &rng)
        let b = Tensor(randomNormal: [2, 2, 3], using: &rng)
        let path = dir + "/rt.safetensors"
        try SafetensorsWriter.write(
            [
                SafetensorsEntry(name: "a.weight", tensor: a),
                SafetensorsEntry(name: "b \"q\"", tensor: b, dtype: .f16),
            ],
            metadata: ["arch": "conv", "step": "12"], to: path)
        let file = try SafetensorsFile(path: path)
        #expect(file.metadata == ["arch": "conv", "step": "12"])
        #expect(file.tensors.map(\.name) == ["a.weight", "b \"q\""])
        #expect(try file.tensor(named: "a.weight") == a)
        let b16 = try file.tensor(named: "b \"q\"")
        #expect(b16.shape == [2, 2, 3])
        #expect(b16.maxAbsDifference(b) < 2e-3)
        #expect(file.info(named: "b \"q\"")?.dtype == .f16)
    }

    @Test func readsBF16() throws {
        let values: [Float] = [1.5, -2.25, 0.0078125]
        var data: [UInt8] = []
        for v in values {
            withUnsafeBytes(of: UInt16(v.bitPattern >> 16).littleEndian) { data += $0 }
        }
        let path = rawFile(#"{"x":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]}}"#, data: data)
        #expect(try SafetensorsFile(path: path).tensor(named: "x").scalars == values)
    }

    @Test func emptyTensorsAndScalarsAreFine() throws {
        let path = dir + "/empty.safetensors"
        try SafetensorsWriter.write(
            [
                SafetensorsEntry(name: "e", tensor: Tensor(zeros: [0, 4])),
                SafetensorsEntry(name: "s", tensor: Tensor(shape: [], scalars: [3])),
            ], to: path)
        let f = try SafetensorsFile(path: path)
        #expect(try f.tensor(named: "e").shape == [0, 4])
        #expect(try f.tensor(named: "s").scalars == [3])
    }

    func expectError(_ path: String, _ check: (SafetensorsError) -> Bool) {
        do {
            _ = try SafetensorsFile(path: path)
            Issue.record("expected an error for \(path)")
        } catch let e as SafetensorsError {
            #expect(check(e), "unexpected error: \(e)")
            #expect(!e.description.contains("\n"))
        } catch {
            Issue.record("unexpected error type: \(error)")
        }
    }

    @Test func truncatedFile() {
        let path = dir + "/short.safetensors"
        FileManager.default.createFile(atPath: path, contents: Data([1, 2, 3]))
        expectError(path) {
            if case .truncated = $0 { return true }
            return false
        }
    }

    @Test func headerLongerThanFile() {
        expectError(rawFile("{}", lengthOverride: 1000)) {
            if case .headerBeyondFile = $0 { return true }
            return false
        }
    }

    @Test func headerOverTheLimit() {
        expectError(rawFile("{}", lengthOverride: UInt64(1) << 40)) {
            if case .headerTooLarge = $0 { return true }
            return false
        }
    }

    @Test func invalidJSON() {
        expectError(rawFile("{not json")) {
            if case .invalidJSON = $0 { return true }
            return false
        }
    }

    @Test func unknownDType() {
        expectError(
            rawFile(#"{"x":{"dtype":"F7","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        ) {
            if case .unknownDType(_, "x", "F7") = $0 { return true }
            return false
        }
    }

    @Test func sizeNotMatchingShape() {
        expectError(
            rawFile(#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        ) {
            if case .sizeMismatch(_, "x", 8, 4) = $0 { return true }
            return false
        }
    }

    @Test func offsetsPastTheData() {
        expectError(
            rawFile(#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0])
        ) {
            if case .offsetsOutOfRange = $0 { return true }
            return false
        }
    }

    @Test func overlappingTensors() {
        let header =
            #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        expectError(rawFile(header, data: [UInt8](repeating: 0, count: 12))) {
            if case .overlap = $0 { return true }
            return false
        }
    }

    /// Foundation's decoder keeps one of two equal keys and Python's reader the other: refused.
    @Test func duplicateKeysAreRefused() {
        let tensor = #"{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#
        expectError(rawFile(#"{"x":\#(tensor),"x":\#(tensor)}"#, data: [0, 0, 0, 0])) {
            if case .invalidJSON(_, let reason) = $0 {
                return reason.contains("\"x\" appears twice")
            }
            return false
        }
        expectError(rawFile(#"{"__metadata__":{"a":"1","a":"2"}}"#)) {
            if case .invalidJSON(_, let reason) = $0 { return reason.contains("appears twice") }
            return false
        }
    }

    @Test func strictJSON() throws {
        #expect(
            try JSONValue.parse(Data(#" {"a":[1,-2.5e3,true,null,"\u00e9\ud83d\ude00\n"]} "#.utf8))
                == .object([
                    "a": .array([.integer(1), .number(-2500), .bool(true), .null, .string("é😀\n")])
                ]))
        for bad in [
            #"{"a":1,}"#, #"[1 2]"#, #"{"a":1} x"#, #""\ud800""#, "\"a\u{1}\"", #"01"#, #"1."#,
            #"-"#, #"[1e999]"#, "",
        ] {
            #expect(throws: JSONError.self, "\(bad)") { try JSONValue.parse(Data(bad.utf8)) }
        }
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: JSONError.self) { try JSONValue.parse(Data(deep.utf8)) }
        #expect(throws: JSONError.self) { try JSONValue.parse(Data([0x22, 0xFF, 0x22])) }
    }

    @Test func negativeOrFractionalShape() {
        expectError(
            rawFile(
                #"{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        ) {
            if case .invalidEntry = $0 { return true }
            return false
        }
        expectError(
            rawFile(
                #"{"x":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        ) {
            if case .invalidEntry = $0 { return true }
            return false
        }
    }

    @Test func shapeProductOverflows() {
        let header =
            #"{"x":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}}"#
        expectError(rawFile(header, data: [0, 0, 0, 0])) {
            if case .invalidEntry = $0 { return true }
            return false
        }
    }

    @Test func badMetadata() {
        expectError(rawFile(#"{"__metadata__":{"a":1}}"#)) {
            if case .invalidMetadata = $0 { return true }
            return false
        }
    }

    @Test func missingTensorIsAnError() throws {
        let path = dir + "/one.safetensors"
        try SafetensorsWriter.write(
            [SafetensorsEntry(name: "a", tensor: Tensor(zeros: [2]))], to: path)
        #expect(throws: SafetensorsError.self) {
            try SafetensorsFile(path: path).tensor(named: "b")
        }
    }

    @Test func atomicWriteLeavesNoTemporaryFiles() throws {
        let sub = dir + "/atomic"
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        try AtomicFile.write(string: "one", to: sub + "/f.txt")
        try AtomicFile.write(string: "two", to: sub + "/f.txt")
        #expect(try String(contentsOfFile: sub + "/f.txt", encoding: .utf8) == "two")
        #expect(try FileManager.default.contentsOfDirectory(atPath: sub) == ["f.txt"])
    }
}
