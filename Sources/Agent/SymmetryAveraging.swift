// Test-time symmetry averaging: the policy looks at a position in all eight orientations of the
// board and its action probabilities, mapped back to the original board's directions, are
// averaged. Sokoban's rules do not change under rotation or reflection, and the networks were
// trained on all eight (see `BoardSymmetry`), so the average is the same policy with the
// orientation-dependent part of its errors averaged out; it costs eight forward passes per step.
import Foundation
import Policy

enum SymmetryAveraging {
    static let views = BoardSymmetry.all.count

    /// Writes the eight views of each of `batch` observations (planes × 10 × 10 floats, cells
    /// row-major) into `out`: view v of sample s is sample s·8 + v.
    static func expand(
        _ observations: [Float], batch: Int, planeCount: Int, into out: inout [Float]
    ) {
        let cells = AgentGeometry.cells
        let size = planeCount * cells
        if out.count != batch * views * size {
            out = [Float](repeating: 0, count: batch * views * size)
        }
        observations.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for s in 0..<batch {
                    for (v, symmetry) in BoardSymmetry.all.enumerated() {
                        symmetry.transformPlanes(
                            source.baseAddress! + s * size, planeCount: planeCount,
                            into: target.baseAddress! + (s * views + v) * size)
                    }
                }
            }
        }
    }

    /// Buffers of the eight views, kept by the caller and reused across forward passes.
    struct Scratch {
        var inputs: [Float] = [], logits: [Float] = [], values: [Float] = []
    }

    /// One forward pass of `batch` observations' eight views: writes the averaged action
    /// log-probabilities (batch × 4) to `logits` and the views' mean value to `values` (batch).
    static func forward(
        _ model: any PolicyNetwork, context: PolicyContext, observations: [Float], batch: Int,
        planeCount: Int,
        scratch: inout Scratch, logits: inout [Float], values: inout [Float]
    ) throws {
        expand(observations, batch: batch, planeCount: planeCount, into: &scratch.inputs)
        try context.setObservations(scratch.inputs, batch: batch * views)
        model.forward(context, batch: batch * views)
        context.copyOutputs(logits: &scratch.logits, values: &scratch.values)
        combine(viewLogits: scratch.logits, batch: batch, into: &logits)
        // The value does not depend on the orientation: average it too.
        if values.count < batch { values = [Float](repeating: 0, count: batch) }
        for s in 0..<batch {
            var total: Float = 0
            for v in 0..<views { total += scratch.values[s * views + v] }
            values[s] = total / Float(views)
        }
    }

    /// Averages the views' softmax probabilities per sample, each mapped back to the original
    /// board's actions, and writes their logarithms (batch × 4) to `out`, so argmax and sampling
    /// work on them as on logits.
    static func combine(viewLogits: [Float], batch: Int, into out: inout [Float]) {
        let a = PolicyGeometry.actionCount
        if out.count != batch * a { out = [Float](repeating: 0, count: batch * a) }
        for s in 0..<batch {
            var mean = (Float(0), Float(0), Float(0), Float(0))
            for (v, symmetry) in BoardSymmetry.all.enumerated() {
                let view = ActionDistribution(viewLogits, sample: s * views + v)
                // Action i on the original board is action symmetry.action[i] in this view.
                func p(_ i: Int) -> Float { view.probability(of: symmetry.action[i]) }
                mean.0 += p(0)
                mean.1 += p(1)
                mean.2 += p(2)
                mean.3 += p(3)
            }
            let n = Float(views)
            out[s * a] = logf(mean.0 / n)
            out[s * a + 1] = logf(mean.1 / n)
            out[s * a + 2] = logf(mean.2 / n)
            out[s * a + 3] = logf(mean.3 / n)
        }
    }
}
