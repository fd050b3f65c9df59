// Distillation targets: a teacher policy's eight-view-averaged action probabilities on training
// samples. The average solves more levels than any single view of the same network (it averages
// out the orientation-dependent part of its errors); training a network towards it hands that
// gain to a policy that needs one forward pass per step.
import Foundation
import Policy

enum Distillation {
    /// Samples per teacher forward pass (each becomes eight views).
    static let chunk = 128

    /// The teacher's symmetry-averaged action probabilities of `samples` of `data`, four per
    /// sample in the sample's own orientation (augmentation maps them like its action set).
    static func probabilities(
        teacher: any PolicyNetwork, data: DemonstrationData, samples: Range<Int>
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
        var start = samples.lowerBound
        while start < samples.upperBound {
            let n = min(chunk, samples.upperBound - start)
            observations.withUnsafeMutableBufferPointer { o in
                for b in 0..<n {
                    _ = data.write(
                        sample: start + b, symmetry: BoardSymmetry.all[0],
                        into: o.baseAddress! + b * size)
                }
            }
            try SymmetryAveraging.forward(
                teacher, context: context, observations: observations, batch: n,
                planeCount: data.planeCount, scratch: &scratch, logits: &logProbabilities,
                values: &values)
            for i in 0..<n * PolicyGeometry.actionCount { out.append(expf(logProbabilities[i])) }
            start += n
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
