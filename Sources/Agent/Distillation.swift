// Distillation targets: a teacher policy's eight-view-averaged action probabilities on training
// samples. The average solves more levels than any single view of the same network (it averages
// out the orientation-dependent part of its errors); training a network towards it hands that
// gain to a policy that needs one forward pass per step.
import Core
import Foundation
import LinearAlgebra
import Policy

enum Distillation {
    /// Samples per teacher forward pass (each becomes eight views).
    static let chunk = 128
    /// Samples recomputed to check a cache file against the teacher and the data in hand.
    static let spotChecks = 64

    /// `probabilities(teacher:data:samples:)` of every sample, read from `cache` when that file
    /// holds them for this teacher and these samples (its count matches and evenly spaced samples,
    /// recomputed in one batch, agree), else computed and written there atomically: the eight views of every
    /// sample cost minutes, and a resumed run needs the same targets again.
    static func probabilities(
        teacher: any PolicyNetwork, data: DemonstrationData, cache: String?,
        progress: Progress? = nil
    ) throws -> [Float] {
        let a = PolicyGeometry.actionCount
        if let cache, let stored = try? readCache(cache), stored.count == data.count * a {
            let checked = Array(
                stride(from: 0, to: data.count, by: max(1, data.count / spotChecks)))
            let fresh = try probabilities(teacher: teacher, data: data, samples: checked)
            let matches = checked.enumerated().allSatisfy { i, s in
                (0..<a).allSatisfy { abs(fresh[i * a + $0] - stored[s * a + $0]) <= 1e-5 }
            }
            if matches { return stored }
        }
        let computed = try probabilities(
            teacher: teacher, data: data, samples: 0..<data.count, progress: progress)
        if let cache { try writeCache(computed, to: cache) }
        return computed
    }

    /// The cache file: the magic bytes, then the floats in little-endian order.
    static let magic = Array("LASER distillation targets v1\n".utf8)

    static func writeCache(_ values: [Float], to path: String) throws {
        var bytes = magic
        bytes.reserveCapacity(magic.count + values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        try AtomicFile.write(bytes, to: path)
    }

    /// The floats of a cache file, or nil when it is missing or not one.
    static func readCache(_ path: String) throws -> [Float]? {
        guard let data = FileManager.default.contents(atPath: path), data.count >= magic.count,
            Array(data.prefix(magic.count)) == magic, (data.count - magic.count) % 4 == 0
        else { return nil }
        let body = data.dropFirst(magic.count)
        return body.withUnsafeBytes { raw in
            (0..<(raw.count / 4)).map {
                Float(
                    bitPattern: UInt32(
                        littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
            }
        }
    }

    /// Called with (samples done, samples to do): with 0 first, then after every chunk.
    typealias Progress = (Int, Int) -> Void

    /// The teacher's symmetry-averaged action probabilities of `samples` of `data`, four per
    /// sample in the sample's own orientation (augmentation maps them like its action set).
    static func probabilities(
        teacher: any PolicyNetwork, data: DemonstrationData,
        samples: some RandomAccessCollection<Int>, progress: Progress? = nil
    ) throws -> [Float] {
        guard teacher.planeCount == data.planeCount else {
            throw AgentError.invalidSetting(
                "the teacher takes \(teacher.planeCount) observation planes, the student \(data.planeCount); distill between policies with the same input"
            )
        }
        let size = data.planeCount * AgentGeometry.cells
        let context = teacher.makeContext(batchCapacity: chunk * SymmetryAveraging.views)
        var observations = [Float](repeating: 0, count: chunk * size)
        var scratch = SymmetryAveraging.Scratch()
        var logProbabilities: [Float] = []
        var values: [Float] = []
        var out: [Float] = []
        out.reserveCapacity(samples.count * PolicyGeometry.actionCount)
        var start = samples.startIndex
        progress?(0, samples.count)
        while start != samples.endIndex {
            let end =
                samples.index(start, offsetBy: chunk, limitedBy: samples.endIndex)
                ?? samples.endIndex
            let n = samples.distance(from: start, to: end)
            observations.withUnsafeMutableBufferPointer { o in
                for (b, sample) in samples[start..<end].enumerated() {
                    _ = data.write(
                        sample: sample, symmetry: BoardSymmetry.all[0],
                        into: o.baseAddress! + b * size)
                }
            }
            try SymmetryAveraging.forward(
                teacher, context: context, observations: observations, batch: n,
                planeCount: data.planeCount, scratch: &scratch, logits: &logProbabilities,
                values: &values)
            for i in 0..<n * PolicyGeometry.actionCount { out.append(expf(logProbabilities[i])) }
            start = end
            progress?(out.count / PolicyGeometry.actionCount, samples.count)
        }
        return out
    }

    /// Writes sample probabilities `source` (four, original orientation) as seen on the board
    /// transformed by `symmetry` into `target`.
    static func write(
        _ source: UnsafePointer<Float>, symmetry: BoardSymmetry,
        into target: UnsafeMutablePointer<Float>
    ) {
        for a in 0..<PolicyGeometry.actionCount { target[symmetry.action[a]] = source[a] }
    }
}
