// The quantized products against the Float32 reference: every supported type, every instruction
// set this CPU runs, register-tile edges, accumulation, the thread pool, and the model built on them.
import Core
import Foundation
import LinearAlgebra
import QuantizedKernels
import Testing

@testable import TextModel

/// Random weight blocks of a type with finite, sane scales (as a quantizer would write them).
func randomBlocks(_ type: GGMLType, rows: Int, columns: Int, seed: UInt64) -> [UInt8] {
    var rng = SplitMix64(seed: seed)
    let blocks = rows * columns / type.blockSize
    var bytes = (0..<(blocks * type.blockBytes)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    func half(_ value: Float) -> (UInt8, UInt8) {
        let bits = Float16(value).bitPattern
        return (UInt8(bits & 0xFF), UInt8(bits >> 8))
    }
    func scale() -> Float { Float(rng.next() % 1000 + 1) / 40_000 }
    for b in 0..<blocks {
        let base = b * type.blockBytes
        let offsets: [(Int, Float)]
        switch type {
        case .q4_0, .q5_0, .q8_0: offsets = [(0, scale())]
        case .q4_1: offsets = [(0, scale()), (2, -8 * scale())]
        case .q4_K: offsets = [(0, scale() / 16), (2, scale() / 16)]
        case .q6_K: offsets = [(208, scale() / 32)]
        default: offsets = []
        }
        for (offset, value) in offsets {
            (bytes[base + offset], bytes[base + offset + 1]) = half(value)
        }
    }
    return bytes
}

/// The activations the kernels see, dequantized: qs · d per element.
func dequantizedActivations(_ raw: [UInt8], type: GGMLType, columns: Int, tokens: Int) -> [[Double]]
{
    raw.withUnsafeBytes { p in
        (0..<tokens).map { t in
            let row = p.baseAddress! + t * qk_activation_bytes(Int32(type.rawValue), Int32(columns))
            var out: [Double] = []
            if type.blockSize == 32 {
                let blocks = row.assumingMemoryBound(to: qk_block_q16.self)
                for b in 0..<(columns / 32) {
                    let block = blocks[b]
                    withUnsafeBytes(of: block.qs) { qs in
                        let values = qs.bindMemory(to: Int16.self)
                        for j in 0..<32 { out.append(Double(block.d) * Double(values[j])) }
                    }
                }
            } else {
                let blocks = row.assumingMemoryBound(to: qk_block_q8k.self)
                for b in 0..<(columns / 256) {
                    let block = blocks[b]
                    withUnsafeBytes(of: block.qs) { qs in
                        for j in 0..<256 {
                            out.append(Double(block.d) * Double(Int8(bitPattern: qs[j])))
                        }
                    }
                }
            }
            return out
        }
    }
}

@Suite(.serialized) struct QuantizedKernelTests {
    static let types: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q8_0, .q4_K, .q6_K]

    /// Every instruction set the CPU runs, scalar first.
    static var instructionSets: [QuantizedKernelISA] {
        QuantizedKernelISA.allCases.filter { $0.rawValue <= QuantizedKernelISA.best.rawValue }
    }

    @Test(arguments: types) func productsMatchTheDequantizedReference(type: GGMLType) throws {
        // 37 rows and 1, 3, 6 tokens (integer dot products), 13 and 131 tokens (dequantized panels
        // and Float32 FMAs on the vector paths, activations or weights transposed): full register
        // tiles and every kind of edge.
        let rows = 37
        let columns = 512
        let weights = randomBlocks(type, rows: rows, columns: columns, seed: UInt64(type.rawValue))
        var dense = [Float](repeating: 0, count: rows * columns)
        weights.withUnsafeBytes { w in
            dense.withUnsafeMutableBufferPointer { Dequantize.run(type: type, from: w, into: $0) }
        }
        let rowBytes = columns / type.blockSize * type.blockBytes
        // The kernels' own row dequantization agrees with the reference decoder.
        for r in [0, rows - 1] {
            var row = [Float](repeating: .nan, count: columns)
            weights.withUnsafeBytes {
                qk_dequantize_row(
                    Int32(type.rawValue), $0.baseAddress! + r * rowBytes, Int32(columns), &row)
            }
            for j in 0..<columns {
                let expected = dense[r * columns + j]
                #expect(abs(row[j] - expected) <= 1e-6 * max(1, abs(expected)))
            }
        }
        var rng = SplitMix64(seed: 99)
        for tokens in [1, 3, 6, 13, 131] {
            let x = (0..<(tokens * columns)).map { _ in Float(rng.nextUnit() * 2 - 1) }
            let perToken = qk_activation_bytes(Int32(type.rawValue), Int32(columns))
            var activations = [UInt8](repeating: 0, count: tokens * perToken)
            qk_quantize_activations(
                Int32(type.rawValue), x, Int32(columns), Int32(columns), Int32(tokens), &activations
            )
            let xq = dequantizedActivations(
                activations, type: type, columns: columns, tokens: tokens)
            // The quantized activations stay within half a step of x (and float rounding of x / d):
            // 16-bit for the 32-element formats, 8-bit for the K formats.
            let steps = type.blockSize == 32 ? 32767.0 : 127.0
            for t in 0..<tokens {
                for block in stride(from: 0, to: columns, by: type.blockSize) {
                    let span = block..<(block + type.blockSize)
                    let amax = span.map { abs(Double(x[t * columns + $0])) }.max()!
                    let worst = span.map { abs(xq[t][$0] - Double(x[t * columns + $0])) }.max()!
                    #expect(worst <= amax / steps * 0.51 + 1e-12)
                }
            }
            for isa in Self.instructionSets {
                // Each path named explicitly: the process-wide choice stays the best one, which
                // other suites running meanwhile rely on.
                let quantized = qk_isa_uses_quantized_activations(isa.rawValue, Int32(tokens)) != 0
                #expect(quantized == (tokens < 8 || isa == .scalar))
                for accumulate in [false, true] {
                    var y = [Float](repeating: 0.25, count: tokens * rows)
                    weights.withUnsafeBytes { w in
                        activations.withUnsafeBytes { a in
                            qk_matmul_isa(
                                isa.rawValue, Int32(type.rawValue), w.baseAddress, rowBytes,
                                Int32(columns), 0, Int32(rows), x, Int32(columns), a.baseAddress,
                                Int32(tokens), &y, Int32(rows), accumulate ? 1 : 0)
                        }
                    }
                    for t in 0..<tokens {
                        for r in 0..<rows {
                            var exact = 0.0
                            var scale = 0.0
                            for j in 0..<columns {
                                let input = quantized ? xq[t][j] : Double(x[t * columns + j])
                                let product = Double(dense[r * columns + j]) * input
                                exact += product
                                scale += abs(product)
                            }
                            let got = Double(y[t * rows + r]) - (accumulate ? 0.25 : 0)
                            #expect(
                                abs(got - exact) <= 2e-5 * scale + 1e-6,
                                "\(type.name) \(isa.name) token \(t) row \(r): \(got) vs \(exact)")
                        }
                    }
                }
            }
        }
    }

    /// 3 tokens: integer products; 13: Float32 panels with the activations transposed once by
    /// the pool for all its threads.
    @Test(arguments: [3, 13]) func theThreadPoolSplitsRowsLikeOneThread(tokens: Int) throws {
        let type = GGMLType.q4_1
        let columns = 64
        let shapes = [5, 16, 100, 333]
        let rowBytes = columns / 32 * type.blockBytes
        // All matrices in one buffer, all outputs in another.
        let weights = randomBlocks(type, rows: shapes.reduce(0, +), columns: columns, seed: 10)
        let starts = shapes.indices.map { shapes[..<$0].reduce(0, +) }
        var rng = SplitMix64(seed: 5)
        let x = (0..<(tokens * columns)).map { _ in Float(rng.nextUnit() - 0.5) }
        let perToken = qk_activation_bytes(Int32(type.rawValue), Int32(columns))
        var activations = [UInt8](repeating: 0, count: tokens * perToken)
        qk_quantize_activations(
            Int32(type.rawValue), x, Int32(columns), Int32(columns), Int32(tokens), &activations)
        func run(threads: Int, jobs: Int) -> [Float] {
            let pool = QuantizedThreadPool(threads: threads)
            #expect(pool.threads == threads)
            var outputs = [Float](repeating: 0, count: tokens * shapes.reduce(0, +))
            for _ in 0..<jobs {
                weights.withUnsafeBytes { w in
                    activations.withUnsafeBytes { a in
                        x.withUnsafeBufferPointer { xp in
                            outputs.withUnsafeMutableBufferPointer { y in
                                let tasks = shapes.indices.map { i in
                                    qk_matmul_task(
                                        type: Int32(type.rawValue),
                                        w: w.baseAddress! + starts[i] * rowBytes,
                                        row_bytes: rowBytes, rows: Int32(shapes[i]),
                                        columns: Int32(columns), x: xp.baseAddress,
                                        ldx: Int32(columns), xq: a.baseAddress,
                                        tokens: Int32(tokens),
                                        y: y.baseAddress! + tokens * starts[i],
                                        ldy: Int32(shapes[i]), accumulate: 1)
                                }
                                tasks.withUnsafeBufferPointer { pool.run($0) }
                            }
                        }
                    }
                }
            }
            return outputs
        }
        let one = run(threads: 1, jobs: 3)
        #expect(one.allSatisfy { $0 != 0 })
        for threads in [2, 3, 4] { #expect(run(threads: threads, jobs: 3) == one) }
        // Pools made and used at once, many times: a worker that starts late must still take
        // part in the first job (it once waited for the second, and the caller for it).
        for _ in 0..<200 { #expect(run(threads: 2, jobs: 1).count == one.count) }
    }

    @Test func nonFiniteScalesAreFound() {
        for type in Self.types {
            var bytes = randomBlocks(type, rows: 4, columns: 256, seed: 3)
            let blocks = Int64(4 * 256 / type.blockSize)
            #expect(qk_first_nonfinite_block(Int32(type.rawValue), bytes, blocks) == -1)
            let bad = Int(blocks) - 1
            let scaleOffset = type == .q6_K ? 208 : (type == .q4_1 || type == .q4_K ? 2 : 0)
            bytes[bad * type.blockBytes + scaleOffset + 1] = 0x7C  // exponent all ones: infinity
            bytes[bad * type.blockBytes + scaleOffset] = 0
            #expect(qk_first_nonfinite_block(Int32(type.rawValue), bytes, blocks) == Int64(bad))
        }
    }
}
