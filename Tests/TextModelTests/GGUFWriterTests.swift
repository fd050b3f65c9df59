// Writing a reduced model back as GGUF: metadata and untouched tensors copied byte for byte, the
// replaced ones stored as F16 or Q8_0, and the written model computing what the reduced one does.
import Core
import Foundation
import Laser
import LinearAlgebra
import Testing

@testable import TextModel

@Suite struct GGUFWriterTests {
    let tiny = TinyLlama(seed: 21)

    func temporary(_ name: String) -> String {
        NSTemporaryDirectory() + "gguf-writer-\(UUID().uuidString)-\(name).gguf"
    }

    /// `laser reduce MODEL.gguf --intervene` in the library: the exported file loads, holds every key
    /// and tensor of the source, and its forward pass equals the intervened model's up to F16 rounding.
    @Test func exportedModelComputesTheReducedOne() throws {
        let sourcePath = tiny.builder().write(name: "writer-source")
        defer { try? FileManager.default.removeItem(atPath: sourcePath) }
        let source = try GGUFFile(path: sourcePath)
        let model = try LlamaModel(path: sourcePath)
        let reducer = Reducer(model: model, storage: .factored)
        try reducer.apply([
            try Intervention(parsing: "1:fc_out:0.5"), try Intervention(parsing: "0:q_proj:0.25"),
        ])
        let names = ["blk.1.ffn_down.weight", "blk.0.attn_q.weight"]
        var replacements: [String: Tensor] = [:]
        for name in names { replacements[name] = try model.weightMatrix(named: name) }
        let out = temporary("f16")
        defer { try? FileManager.default.removeItem(atPath: out) }
        try GGUFWriter.write(copying: source, replacing: replacements, storage: .f16, to: out)

        let written = try GGUFFile(path: out)
        #expect(written.metadataKeys == source.metadataKeys)
        #expect(written.metadata == source.metadata)
        #expect(written.tensors.map(\.name) == source.tensors.map(\.name))
        for info in source.tensors {
            let copy = try written.tensorInfo(named: info.name)
            #expect(copy.shape == info.shape)
            if names.contains(info.name) {
                #expect(copy.type == .f16)
            } else {
                #expect(
                    copy.type == info.type
                        && Array(written.rawBytes(of: copy)) == Array(source.rawBytes(of: info)))
            }
        }
        let reloaded = try LlamaModel(path: out)
        let tokens = [0, 1, 2, 3, 4, 5, 6, 7, 2, 1]
        let expected = try model.forward(tokens, state: model.makeState(capacity: 16))
        let actual = try reloaded.forward(tokens, state: reloaded.makeState(capacity: 16))
        let scale = expected.scalars.map(abs).max()!
        let worst = zip(expected.scalars, actual.scalars).map { abs($0 - $1) }.max()!
        #expect(worst <= 2e-3 * scale, "worst \(worst) of \(scale)")
        // The unreduced model differs from it by far more: the comparison can fail.
        let unreduced = try LlamaModel(path: sourcePath).forward(
            tokens, state: model.makeState(capacity: 16))
        #expect(zip(expected.scalars, unreduced.scalars).map { abs($0 - $1) }.max()! > 50 * worst)
    }

    /// Q8_0 as ggml's reference quantizer writes it: each value within half a step of its block's
    /// scale (plus the scale's F16 rounding), read back by our dequantizer; rows that are not whole
    /// blocks are refused.
    @Test func q8_0StoresBlocksOf32() throws {
        var rng = SplitMix64(seed: 4)
        let values = (0..<(64 * 32)).map { _ in Float(rng.nextNormal()) * 3 }
        var b = GGUFBuilder()
        b.addF32("m", dims: [64, 32], values: [Float](repeating: 0, count: 64 * 32))
        b.addF32("odd", dims: [8, 2], values: [Float](repeating: 1, count: 16))
        let path = b.write(name: "q8")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let source = try GGUFFile(path: path)
        let out = temporary("q8")
        defer { try? FileManager.default.removeItem(atPath: out) }
        try GGUFWriter.write(
            copying: source, replacing: ["m": Tensor(shape: [32, 64], scalars: values)],
            storage: .q8_0, to: out)
        let written = try GGUFFile(path: out)
        #expect(try written.tensorInfo(named: "m").type == .q8_0)
        #expect(try written.tensorInfo(named: "m").byteCount == 64 * 32 / 32 * 34)
        let back = try written.tensor(named: "m").scalars
        for block in 0..<(values.count / 32) {
            let slice = values[(block * 32)..<(block * 32 + 32)]
            let step = slice.map(abs).max()! / 127
            // Half a step of rounding, plus the F16 rounding of the scale (2⁻¹¹ relative) times 127.
            let bound = 0.5 * step + 127 * step / 2048 + 1e-6
            for i in slice.indices { #expect(abs(back[i] - values[i]) <= bound) }
        }
        #expect(try written.tensor(named: "odd").scalars == [Float](repeating: 1, count: 16))
        #expect(
            throws: GGUFError.rowNotBlockMultiple(tensor: "odd", type: "Q8_0", row: 8, block: 32)
        ) {
            try GGUFWriter.write(
                copying: source,
                replacing: [
                    "odd": Tensor(shape: [2, 8], scalars: [Float](repeating: 0, count: 16))
                ],
                storage: .q8_0, to: out)
        }
        #expect(throws: GGUFError.self) {
            try GGUFWriter.write(
                copying: source, replacing: ["m": Tensor(shape: [64, 32], scalars: values)],
                storage: .f16, to: out)
        }
    }
}
