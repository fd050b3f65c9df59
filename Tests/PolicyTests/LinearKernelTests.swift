// The fully connected layer's direct kernels (PointwiseKernels, 10-row blocks with an sgemm tail)
// against float64 products, at the transformer's shapes (101 tokens per sample) and at shapes
// that leave part or all of the work to sgemm.
import Core
import Foundation
import LinearAlgebra
import Testing

@testable import Policy

@Suite struct LinearKernelTests {
    /// (rows, inputs, outputs): 3 samples of 101 tokens at widths 64 → 64 / 256 → 64 / 64 → 256; a
    /// width the kernels take only generically (48); outputs no multiple of 16 (24, 5); fewer than
    /// 10 rows.
    static let shapes = [
        (303, 64, 64), (303, 256, 64), (303, 64, 256), (130, 48, 48), (25, 48, 24), (40, 7, 32),
        (7, 64, 64), (20, 16, 5),
    ]

    @Test(arguments: shapes) func forwardAndBackwardMatchFloat64(n: Int, ic: Int, oc: Int) {
        var rng = SplitMix64(seed: UInt64(n * 1000 + ic * 10 + oc))
        let x = randomValues(n * ic, rng: &rng)
        let w = randomValues(oc * ic, rng: &rng)
        let bias = randomValues(oc, rng: &rng)
        let dout = randomValues(n * oc, rng: &rng)
        let dxStart = randomValues(n * ic, rng: &rng)
        let dwStart = randomValues(oc * ic, rng: &rng)
        var out = [Float](repeating: .nan, count: n * oc)
        var dx = [Float](repeating: .nan, count: n * ic)
        var dxAccumulated = dxStart
        var dw = dwStart
        var db = [Float](repeating: 0, count: oc)
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                LinearKernels.forward(
                    &out, xp.baseAddress!, wp.baseAddress!, bias, n: n, ic: ic, oc: oc)
                LinearKernels.backward(
                    &dx, &dw, &db, dout, xp.baseAddress!, wp.baseAddress!, n: n, ic: ic, oc: oc)
                var unused = [Float](repeating: 0, count: oc * ic)
                LinearKernels.backward(
                    &dxAccumulated, &unused, nil, dout, xp.baseAddress!, wp.baseAddress!, n: n,
                    ic: ic, oc: oc, accumulate: true)
            }
        }
        func close(_ a: Float, _ b: Double, _ what: String) {
            #expect(abs(Double(a) - b) <= 1e-4 * max(1, abs(b)), "\(what): \(a) vs \(b)")
        }
        for r in 0..<n {
            for o in 0..<oc {
                var sum = Double(bias[o])
                for i in 0..<ic { sum += Double(x[r * ic + i]) * Double(w[o * ic + i]) }
                close(out[r * oc + o], sum, "out[\(r), \(o)]")
            }
            for i in 0..<ic {
                var sum = 0.0
                for o in 0..<oc { sum += Double(dout[r * oc + o]) * Double(w[o * ic + i]) }
                close(dx[r * ic + i], sum, "dx[\(r), \(i)]")
                close(dxAccumulated[r * ic + i], Double(dxStart[r * ic + i]) + sum, "dx +=")
            }
        }
        for o in 0..<oc {
            var biasSum = 0.0
            for r in 0..<n { biasSum += Double(dout[r * oc + o]) }
            close(db[o], biasSum, "db[\(o)]")
            for i in 0..<ic {
                var sum = Double(dwStart[o * ic + i])
                for r in 0..<n { sum += Double(dout[r * oc + o]) * Double(x[r * ic + i]) }
                close(dw[o * ic + i], sum, "dw[\(o), \(i)]")
            }
        }
    }

    @Test func theDirectPathCoversTheTransformersShapes() {
        // Blocks of 10 rows take 300 of 303 rows; the gradient kernel takes every width pair here.
        #expect(PointwiseKernels.handles(rows: 300, outputs: 64))
        #expect(PointwiseKernels.handles(rows: 300, outputs: 256))
        #expect(!PointwiseKernels.handles(rows: 303, outputs: 64))
        #expect(!PointwiseKernels.handles(rows: 300, outputs: 24))
        #expect(PointwiseKernels.handlesWeightGradient(inputs: 256, outputs: 64))
        #expect(!PointwiseKernels.handlesWeightGradient(inputs: 7, outputs: 64))
    }
}
