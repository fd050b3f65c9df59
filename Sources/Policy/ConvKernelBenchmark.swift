// GFLOP/s of the direct 3×3 convolution kernels alone, one core, at a residual block's shape
// (`laser bench policy --kernels`): a kernel change is measured without the rest of a training
// step around it, and against the core's FMA peak (OpenBLAS sgemm's, in `laser bench linalg`).
import Core
import Foundation
import LinearAlgebra

/// One kernel at one shape.
public struct ConvKernelBenchmarkRow: Codable, Sendable {
    /// `forward`, `input-gradient` or `weight-gradient`.
    public let kernel: String
    /// Input and output channels (a residual block's conv keeps its width).
    public let channels: Int
    /// Boards per call.
    public let batch: Int
    /// The dense 3×3 convolution's multiply-adds × 2 per second (the off-board taps the kernels skip
    /// count too, as in the usual convention), best of several timed slices.
    public let gflops: Double
    public let calls: Int
}

public enum ConvKernelBenchmark {
    /// The channel counts the kernels take directly.
    public static func handles(channels: Int) -> Bool {
        channels >= 16 && channels % DirectConvKernels.lanes == 0
    }

    /// Times each kernel on random boards for about `seconds` in all; `batch` boards per call (nil:
    /// a worker's chunk, as in training).
    public static func run(
        channels c: Int, batch: Int? = nil, seconds: Double, seed: UInt64 = 1
    ) throws -> [ConvKernelBenchmarkRow] {
        let batch = batch ?? Parallel.chunkSize
        guard handles(channels: c) else {
            throw PolicyError.invalidConfiguration(
                "the direct conv kernels take channel counts that are multiples of 16, not \(c)")
        }
        guard (1...4096).contains(batch) else {
            throw PolicyError.invalidConfiguration(
                "kernel benchmark batch \(batch) outside 1...4096")
        }
        let side = PolicyGeometry.boardSize
        let pixels = batch * side * side
        var rng = SplitMix64(seed: seed)
        func random(_ count: Int) -> FloatBuffer {
            let buffer = FloatBuffer(count: count)
            for i in 0..<count { buffer.pointer[i] = Float(rng.nextUnit()) - 0.5 }
            return buffer
        }
        let weight = random(9 * c * c)
        let transposed = FloatBuffer(count: 9 * c * c)
        DirectConvKernels.transpose(transposed.pointer, weight.pointer, cin: c, cout: c)
        let input = random(pixels * c)
        let gradient = random(pixels * c)
        let out = FloatBuffer(count: pixels * c)
        let dw = FloatBuffer(count: 9 * c * c)
        let kernels: [(String, () -> Void)] = [
            (
                "forward",
                {
                    DirectConvKernels.convolve(
                        out.pointer, input.pointer,
                        rows: .forward(transposed.pointer, cin: c, cout: c), bias: nil, cin: c,
                        cout: c, batch: batch, height: side, width: side, accumulate: false)
                }
            ),
            (
                "input-gradient",
                {
                    DirectConvKernels.convolve(
                        out.pointer, gradient.pointer,
                        rows: .inputGradient(of: weight.pointer, cin: c), bias: nil, cin: c,
                        cout: c, batch: batch, height: side, width: side, accumulate: false)
                }
            ),
            (
                "weight-gradient",
                {
                    DirectConvKernels.weightGradient(
                        dw.pointer, input.pointer, dout: gradient.pointer, cin: c,
                        cout: c, batch: batch, height: side, width: side)
                }
            ),
        ]
        let flops = 2.0 * Double(pixels) * 9 * Double(c * c)
        let slices = 5
        let perSlice = seconds / Double(kernels.count * slices)
        return kernels.map { name, body in
            var best = Double.infinity
            var calls = 0
            for _ in 0..<slices {
                let timed = FloatEnvironment.withSubnormalsFlushed {
                    PolicyBenchmark.measure(seconds: perSlice, body)
                }
                best = min(best, timed.seconds)
                calls += timed.iterations
            }
            return ConvKernelBenchmarkRow(
                kernel: name, channels: c, batch: batch, gflops: flops / best / 1e9, calls: calls)
        }
    }
}
