// Each layer's backward against central differences of its float64 reference (loss = Σ out·r).
import Core
import Foundation
import LinearAlgebra
import Testing

@testable import Policy

/// Runs `body` with mutable pointers to copies of the arrays.
private func withPointers<R>(
    _ arrays: inout [[Float]], _ body: ([UnsafeMutablePointer<Float>]) -> R
) -> R {
    var pointers: [UnsafeMutablePointer<Float>] = []
    for a in arrays {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, a.count))
        p.initialize(from: a, count: a.count)
        pointers.append(p)
    }
    let result = body(pointers)
    for (i, p) in pointers.enumerated() {
        arrays[i] = Array(UnsafeBufferPointer(start: p, count: arrays[i].count))
        p.deallocate()
    }
    return result
}

/// Checks analytic against numeric gradients for one input of a reference function.
private func expectGradient(
    _ name: String, analytic: [Float], input: [Float], upstream: [Float],
    reference: ([Double]) -> [Double], rng: inout SplitMix64
) {
    let r = upstream.map(Double.init)
    let indices =
        analytic.count <= 24
        ? Array(0..<analytic.count)
        : (0..<24).map { _ in Int(rng.next() % UInt64(analytic.count)) }
    let numeric = numericGradient(at: input.map(Double.init), indices: indices) {
        Reference.dot(reference($0), r)
    }
    let error = relativeError(indices.map { Double(analytic[$0]) }, numeric)
    #expect(error < 1e-3, "\(name): relative error \(error)")
}

@Suite struct KernelGradientTests {
    @Test func linear() {
        var rng = SplitMix64(seed: 1)
        let (n, ic, oc) = (5, 7, 3)
        let x = randomValues(n * ic, rng: &rng)
        let w = randomValues(oc * ic, rng: &rng)
        let b = randomValues(oc, rng: &rng)
        let r = randomValues(n * oc, rng: &rng)
        var arrays = [
            x, w, b, [Float](repeating: 0, count: n * oc), r,
            [Float](repeating: 0, count: n * ic), [Float](repeating: 0, count: oc * ic),
            [Float](repeating: 0, count: oc),
        ]
        withPointers(&arrays) { p in
            LinearKernels.forward(p[3], p[0], p[1], p[2], n: n, ic: ic, oc: oc)
            LinearKernels.backward(p[5], p[6], p[7], p[4], p[0], p[1], n: n, ic: ic, oc: oc)
        }
        let out = Reference.linear(
            x.map(Double.init), w.map(Double.init), b.map(Double.init), n: n, ic: ic, oc: oc)
        #expect(zip(arrays[3], out).allSatisfy { abs(Double($0) - $1) < 1e-5 })
        let dx = x.map(Double.init)
        let dw = w.map(Double.init)
        let db = b.map(Double.init)
        expectGradient(
            "linear dx", analytic: arrays[5], input: x, upstream: r,
            reference: { Reference.linear($0, dw, db, n: n, ic: ic, oc: oc) }, rng: &rng)
        expectGradient(
            "linear dw", analytic: arrays[6], input: w, upstream: r,
            reference: { Reference.linear(dx, $0, db, n: n, ic: ic, oc: oc) }, rng: &rng)
        expectGradient(
            "linear db", analytic: arrays[7], input: b, upstream: r,
            reference: { Reference.linear(dx, dw, $0, n: n, ic: ic, oc: oc) }, rng: &rng)
    }

    /// 3×3 convolution as the models run it: channels-last, im2col + linear; dx as the
    /// convolution of the output gradient with the reversed, transposed kernel.
    @Test func conv3x3() throws {
        var rng = SplitMix64(seed: 2)
        let (batch, cin, cout, side) = (2, 3, 4, 10)
        let rows = batch * side * side
        let xNCHW = randomValues(batch * cin * side * side, rng: &rng)
        let wExported = randomValues(cout * cin * 9, rng: &rng)
        let bias = randomValues(cout, rng: &rng)
        let rNCHW = randomValues(batch * cout * side * side, rng: &rng)
        // Stored kernel order out × kh × kw × in, as ParameterStore keeps it.
        var layout = ParameterLayout()
        layout.add("w", [cout, cin, 3, 3], convKernel: true)
        let store = ParameterStore(layout: layout)
        try store.setTensor(named: "w", to: Tensor(shape: [cout, cin, 3, 3], scalars: wExported))
        let wStored = Array(UnsafeBufferPointer(start: store.values.pointer, count: cout * cin * 9))
        var arrays = [
            xNCHW, [Float](repeating: 0, count: rows * cin), wStored, bias,
            [Float](repeating: 0, count: rows * 9 * cin), [Float](repeating: 0, count: rows * cout),
            rNCHW, [Float](repeating: 0, count: rows * cout),
            [Float](repeating: 0, count: rows * 9 * cin),
            [Float](repeating: 0, count: rows * cin), [Float](repeating: 0, count: cout * cin * 9),
            [Float](repeating: 0, count: cout),
            [Float](repeating: 0, count: batch * cin * side * side),
            [Float](repeating: 0, count: batch * cout * side * side),
            // The input gradient's kernel and im2col of dout.
            [Float](repeating: 0, count: 9 * cin * cout),
            [Float](repeating: 0, count: rows * 9 * cout),
        ]
        withPointers(&arrays) { p in
            ConvKernels.channelsLast(p[1], p[0], batch: batch, channels: cin, pixels: side * side)
            ConvKernels.im2col3x3(
                p[4], p[1], batch: batch, height: side, width: side, channels: cin)
            LinearKernels.forward(p[5], p[4], p[2], p[3], n: rows, ic: 9 * cin, oc: cout)
            ConvKernels.channelsFirst(
                p[13], p[5], batch: batch, channels: cout, pixels: side * side)
            ConvKernels.channelsLast(p[7], p[6], batch: batch, channels: cout, pixels: side * side)
            LinearKernels.backward(
                nil, p[10], p[11], p[7], p[4], p[2], n: rows, ic: 9 * cin, oc: cout)
            ConvKernels.inputGradient3x3(
                p[9], of: p[7], weight: p[2], cin: cin, cout: cout, batch: batch, height: side,
                width: side, kernel: p[14], dcol: p[15], accumulate: false)
            ConvKernels.channelsFirst(p[12], p[9], batch: batch, channels: cin, pixels: side * side)
        }
        let x64 = xNCHW.map(Double.init)
        let w64 = wExported.map(Double.init)
        let b64 = bias.map(Double.init)
        func conv(_ x: [Double], _ w: [Double], _ b: [Double]) -> [Double] {
            Reference.conv2d(x, w, b, batch: batch, cin: cin, cout: cout, side: side, kernel: 3)
        }
        #expect(zip(arrays[13], conv(x64, w64, b64)).allSatisfy { abs(Double($0) - $1) < 1e-4 })
        let dwStored = arrays[10]
        let gradStore = FloatBuffer(count: dwStored.count)
        dwStored.withUnsafeBufferPointer {
            gradStore.pointer.update(from: $0.baseAddress!, count: $0.count)
        }
        let dwExported = ParameterStore.export(try store.info(named: "w"), from: gradStore)
        expectGradient(
            "conv dx", analytic: arrays[12], input: xNCHW, upstream: rNCHW,
            reference: { conv($0, w64, b64) }, rng: &rng)
        expectGradient(
            "conv dw", analytic: dwExported, input: wExported, upstream: rNCHW,
            reference: { conv(x64, $0, b64) }, rng: &rng)
        expectGradient(
            "conv db", analytic: arrays[11], input: bias, upstream: rNCHW,
            reference: { conv(x64, w64, $0) }, rng: &rng)
    }

    /// The direct 3×3 kernels against the float64 convolution (forward, with bias) and against
    /// the im2col + GEMM gradients checked above (input gradient plain and accumulating, kernel
    /// gradient accumulating; where cin is a multiple of 16, as those kernels need), at widths that take its 16- and 32-channel blocks.
    @Test(arguments: [(3, 16), (5, 48), (16, 48), (32, 32)]) func directConv3x3(cin: Int, cout: Int)
    {
        var rng = SplitMix64(seed: UInt64(cin * 100 + cout))
        let (batch, side) = (3, 10)
        let rows = batch * side * side
        let x = randomValues(rows * cin, rng: &rng)  // channels-last
        let w = randomValues(cout * 9 * cin, rng: &rng)  // stored order: out × kh × kw × in
        let bias = randomValues(cout, rng: &rng)
        let dout = randomValues(rows * cout, rng: &rng)
        let start = randomValues(rows * cin, rng: &rng)
        let gradientStart = randomValues(cout * 9 * cin, rng: &rng)
        #expect(
            DirectConvKernels.handles(cout: cout, width: side))
        var arrays = [
            x, w, bias, dout, start,
            [Float](repeating: 0, count: 9 * cin * cout),  // transposed kernel
            [Float](repeating: 0, count: rows * cout),  // direct forward
            [Float](repeating: 0, count: rows * cin),  // direct dx
            start,  // direct dx accumulated onto `start`
            [Float](repeating: 0, count: rows * cin),  // im2col dx
            start,  // im2col dx accumulated
            [Float](repeating: 0, count: 9 * cin * cout),
            [Float](repeating: 0, count: rows * 9 * cout),
            // Kernel gradients added onto one random start: direct, and im2col + GEMM.
            gradientStart, gradientStart,
            [Float](repeating: 0, count: rows * 9 * cin),
        ]
        withPointers(&arrays) { p in
            DirectConvKernels.transpose(p[5], p[1], cin: cin, cout: cout)
            DirectConvKernels.convolve(
                p[6], p[0], rows: .forward(p[5], cin: cin, cout: cout), bias: p[2], cin: cin,
                cout: cout, batch: batch, height: side, width: side, accumulate: false)
            guard cin % 16 == 0 else { return }
            DirectConvKernels.weightGradient(
                p[13], p[0], dout: p[3], cin: cin, cout: cout, batch: batch, height: side,
                width: side)
            ConvKernels.im2col3x3(
                p[15], p[0], batch: batch, height: side, width: side, channels: cin)
            LinearKernels.backward(
                nil, p[14], nil, p[3], p[15], p[1], n: rows, ic: 9 * cin, oc: cout)
            for (target, accumulate) in [(7, false), (8, true)] {
                DirectConvKernels.convolve(
                    p[target], p[3], rows: .inputGradient(of: p[1], cin: cin), bias: nil,
                    cin: cout, cout: cin, batch: batch, height: side, width: side,
                    accumulate: accumulate)
            }
            for (target, accumulate) in [(9, false), (10, true)] {
                ConvKernels.inputGradient3x3(
                    p[target], of: p[3], weight: p[1], cin: cin, cout: cout, batch: batch,
                    height: side, width: side, kernel: p[11], dcol: p[12], accumulate: accumulate)
            }
        }
        // The float64 reference works in NCHW with the exported kernel order out × in × kh × kw.
        func nchw(_ v: [Float], _ c: Int) -> [Double] {
            var out = [Double](repeating: 0, count: v.count)
            for b in 0..<batch {
                for p in 0..<side * side {
                    for i in 0..<c {
                        out[(b * c + i) * side * side + p] = Double(v[(b * 100 + p) * c + i])
                    }
                }
            }
            return out
        }
        var exported = [Double](repeating: 0, count: w.count)
        for co in 0..<cout {
            for t in 0..<9 {
                for ci in 0..<cin {
                    exported[(co * cin + ci) * 9 + t] = Double(w[(co * 9 + t) * cin + ci])
                }
            }
        }
        let reference = Reference.conv2d(
            nchw(x, cin), exported, bias.map(Double.init), batch: batch, cin: cin, cout: cout,
            side: side, kernel: 3)
        let forward = nchw(arrays[6], cout)
        #expect(zip(forward, reference).allSatisfy { abs($0 - $1) < 1e-4 * max(1, abs($1)) })
        for (direct, im2col) in [(7, 9), (8, 10)] where cin % 16 == 0 {
            let worst = zip(arrays[direct], arrays[im2col]).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-4, "direct and im2col input gradients differ by \(worst)")
        }
        if cin % 16 == 0 {
            #expect(arrays[13] != gradientStart)
            let worst = zip(arrays[13], arrays[14]).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-3, "direct and GEMM kernel gradients differ by \(worst)")
        }
    }

    @Test func reluAndGelu() {
        var rng = SplitMix64(seed: 3)
        let n = 50
        let x = randomValues(n, rng: &rng)
        let r = randomValues(n, rng: &rng)
        var arrays = [
            x, [Float](repeating: 0, count: n), r, [Float](repeating: 0, count: n),
            [Float](repeating: 0, count: n), [Float](repeating: 0, count: n),
        ]
        withPointers(&arrays) { p in
            ActivationKernels.reluForward(p[1], p[0], count: n)
            ActivationKernels.reluBackward(p[3], p[2], p[1], count: n)
            ActivationKernels.geluForward(p[4], p[0], count: n)
            ActivationKernels.geluBackward(p[5], p[0], p[2], count: n)
        }
        #expect(
            zip(arrays[4], Reference.gelu(x.map(Double.init))).allSatisfy {
                abs(Double($0) - $1) < 1e-6
            })
        expectGradient(
            "relu", analytic: arrays[3], input: x, upstream: r, reference: Reference.relu, rng: &rng
        )
        expectGradient(
            "gelu", analytic: arrays[5], input: x, upstream: r, reference: Reference.gelu, rng: &rng
        )
    }

    @Test func layerNorm() {
        var rng = SplitMix64(seed: 4)
        let (n, c) = (4, 9)
        let x = randomValues(n * c, scale: 2, rng: &rng)
        let w = randomValues(c, rng: &rng)
        let b = randomValues(c, rng: &rng)
        let r = randomValues(n * c, rng: &rng)
        var arrays = [
            x, w, b, [Float](repeating: 0, count: n * c), [Float](repeating: 0, count: n),
            [Float](repeating: 0, count: n), r, [Float](repeating: 0, count: n * c),
            [Float](repeating: 0, count: c), [Float](repeating: 0, count: c),
        ]
        withPointers(&arrays) { p in
            LayerNormKernels.forward(p[3], p[4], p[5], p[0], p[1], p[2], n: n, c: c)
            LayerNormKernels.backward(p[7], p[8], p[9], p[6], p[0], p[1], p[4], p[5], n: n, c: c)
        }
        let x64 = x.map(Double.init)
        let w64 = w.map(Double.init)
        let b64 = b.map(Double.init)
        #expect(
            zip(arrays[3], Reference.layerNorm(x64, w64, b64, n: n, c: c)).allSatisfy {
                abs(Double($0) - $1) < 1e-5
            })
        expectGradient(
            "layernorm dx", analytic: arrays[7], input: x, upstream: r,
            reference: { Reference.layerNorm($0, w64, b64, n: n, c: c) }, rng: &rng)
        expectGradient(
            "layernorm dw", analytic: arrays[8], input: w, upstream: r,
            reference: { Reference.layerNorm(x64, $0, b64, n: n, c: c) }, rng: &rng)
        expectGradient(
            "layernorm db", analytic: arrays[9], input: b, upstream: r,
            reference: { Reference.layerNorm(x64, w64, $0, n: n, c: c) }, rng: &rng)
    }

    @Test func attention() {
        var rng = SplitMix64(seed: 5)
        let (batch, t, d, h) = (2, 5, 6, 2)
        let count = batch * t * d
        let q = randomValues(count, rng: &rng)
        let k = randomValues(count, rng: &rng)
        let v = randomValues(count, rng: &rng)
        let r = randomValues(count, rng: &rng)
        let zeros = [Float](repeating: 0, count: count)
        var arrays = [
            q, k, v, zeros, [Float](repeating: 0, count: batch * h * t * t), r, zeros, zeros, zeros,
            [Float](repeating: 0, count: t * t),
        ]
        withPointers(&arrays) { p in
            AttentionKernels.forward(
                p[3], p[4], p[0], p[1], p[2], samples: 0..<batch, tokens: t, dim: d, heads: h)
            AttentionKernels.backward(
                p[6], p[7], p[8], p[5], p[4], p[0], p[1], p[2], scratch: p[9],
                samples: 0..<batch, tokens: t, dim: d, heads: h)
        }
        let q64 = q.map(Double.init)
        let k64 = k.map(Double.init)
        let v64 = v.map(Double.init)
        func att(_ q: [Double], _ k: [Double], _ v: [Double]) -> [Double] {
            Reference.attention(q, k, v, batch: batch, tokens: t, dim: d, heads: h)
        }
        #expect(zip(arrays[3], att(q64, k64, v64)).allSatisfy { abs(Double($0) - $1) < 1e-5 })
        expectGradient(
            "attention dq", analytic: arrays[6], input: q, upstream: r,
            reference: { att($0, k64, v64) }, rng: &rng)
        expectGradient(
            "attention dk", analytic: arrays[7], input: k, upstream: r,
            reference: { att(q64, $0, v64) }, rng: &rng)
        expectGradient(
            "attention dv", analytic: arrays[8], input: v, upstream: r,
            reference: { att(q64, k64, $0) }, rng: &rng)
    }

    /// Distillation's cross-entropy against soft targets: its value against a float64 reference,
    /// its gradient against finite differences, and that it adds to the gradient already there.
    @Test func softTargetCrossEntropyAddsItsGradient() {
        var rng = SplitMix64(seed: 17)
        let (batch, a) = (5, 4)
        let weight: Float = 0.3
        let logits = randomValues(batch * a, scale: 2, rng: &rng)
        var targets = [Float](repeating: 0, count: batch * a)
        for b in 0..<batch {
            let raw = (0..<a).map { _ in Float.random(in: 0.01...1, using: &rng) }
            let sum = raw.reduce(0, +)
            for i in 0..<a { targets[b * a + i] = raw[i] / sum }
        }
        let existing = randomValues(batch * a, rng: &rng)
        var dlogits = existing
        let loss = logits.withUnsafeBufferPointer { l in
            targets.withUnsafeBufferPointer { t in
                dlogits.withUnsafeMutableBufferPointer { d in
                    LossKernels.addSoftCrossEntropy(
                        d.baseAddress!, l.baseAddress!, t.baseAddress!, batch: batch,
                        weight: weight, scale: 1 / Float(batch))
                }
            }
        }
        func reference(_ x: [Double]) -> Double {
            var total = 0.0
            for b in 0..<batch {
                let row = x[(b * a)..<((b + 1) * a)]
                let logTotal = log(row.map { exp($0) }.reduce(0, +))
                for (i, value) in row.enumerated() {
                    total -= Double(targets[b * a + i]) * (value - logTotal)
                }
            }
            return total / Double(batch)
        }
        #expect(abs(loss / Double(batch) - reference(logits.map(Double.init))) < 1e-5)
        let added = zip(dlogits, existing).map { Double($0 - $1) / Double(weight) }
        let numeric = numericGradient(
            at: logits.map(Double.init), indices: Array(0..<(batch * a)), loss: reference)
        #expect(relativeError(added, numeric) < 1e-4)
    }

    /// The action-set loss −log Σ_{i∈S} softmax_i against a float64 reference and its numeric
    /// gradient, on sets of one to four actions.
    @Test func actionSetCrossEntropy() {
        var rng = SplitMix64(seed: 16)
        let (batch, a) = (6, 4)
        let logits = randomValues(batch * a, scale: 2, rng: &rng)
        let sets: [UInt8] = [0b0001, 0b0110, 0b1011, 0b1111, 0b1000, 0b0101]
        var dlogits = [Float](repeating: 0, count: batch * a)
        let (loss, correct) = logits.withUnsafeBufferPointer { l in
            sets.withUnsafeBufferPointer { t in
                dlogits.withUnsafeMutableBufferPointer { d in
                    LossKernels.softmaxCrossEntropy(
                        d.baseAddress!, l.baseAddress!, t.baseAddress!, batch: batch,
                        scale: 1 / Float(batch))
                }
            }
        }
        func reference(_ x: [Double]) -> Double {
            var total = 0.0
            for b in 0..<batch {
                let row = x[(b * a)..<((b + 1) * a)]
                let all = row.map { exp($0) }.reduce(0, +)
                let inSet = row.enumerated().filter { sets[b] & (1 << $0.offset) != 0 }.map {
                    exp($0.element)
                }.reduce(0, +)
                total += -log(inSet / all)
            }
            return total / Double(batch)
        }
        #expect(abs(loss / Double(batch) - reference(logits.map(Double.init))) < 1e-5)
        // The full set costs nothing and has no gradient.
        #expect(dlogits[12..<16].allSatisfy { abs($0) < 1e-7 })
        let hits = (0..<batch).filter { b in
            let row = Array(logits[(b * a)..<((b + 1) * a)])
            return sets[b] & (1 << row.firstIndex(of: row.max()!)!) != 0
        }.count
        #expect(correct == hits)
        let numeric = numericGradient(
            at: logits.map(Double.init), indices: Array(0..<(batch * a)), loss: reference)
        #expect(relativeError(dlogits.map(Double.init), numeric) < 1e-4)
    }

    @Test func crossEntropyAndMeanSquaredError() {
        var rng = SplitMix64(seed: 6)
        let (batch, a) = (5, 4)
        let logits = randomValues(batch * a, scale: 2, rng: &rng)
        let targets = (0..<batch).map { _ in Int(rng.next() % 4) }
        var dlogits = [Float](repeating: 0, count: batch * a)
        let sets = targets.map { UInt8(1 << $0) }
        let (loss, correct) = logits.withUnsafeBufferPointer { l in
            sets.withUnsafeBufferPointer { t in
                dlogits.withUnsafeMutableBufferPointer { d in
                    LossKernels.softmaxCrossEntropy(
                        d.baseAddress!, l.baseAddress!, t.baseAddress!, batch: batch,
                        scale: 1 / Float(batch))
                }
            }
        }
        #expect(
            abs(
                loss / Double(batch)
                    - Reference.crossEntropy(logits.map(Double.init), targets, classes: a)) < 1e-5)
        let argmaxHits = (0..<batch).filter { b in
            let row = logits[(b * a)..<((b + 1) * a)]
            return row.firstIndex(of: row.max()!)! - b * a == targets[b]
        }.count
        #expect(correct == argmaxHits)
        let numeric = numericGradient(at: logits.map(Double.init), indices: Array(0..<(batch * a)))
        {
            Reference.crossEntropy($0, targets, classes: a)
        }
        #expect(relativeError(dlogits.map(Double.init), numeric) < 1e-4)

        let values = randomValues(batch, rng: &rng)
        let valueTargets = randomValues(batch, rng: &rng)
        var dvalues = [Float](repeating: 0, count: batch)
        let mse = values.withUnsafeBufferPointer { v in
            valueTargets.withUnsafeBufferPointer { t in
                dvalues.withUnsafeMutableBufferPointer { d in
                    LossKernels.meanSquaredError(
                        d.baseAddress!, v.baseAddress!, t.baseAddress!, batch: batch,
                        scale: 1 / Float(batch))
                }
            }
        }
        func mseReference(_ v: [Double]) -> Double {
            zip(v, valueTargets).map { ($0 - Double($1)) * ($0 - Double($1)) }.reduce(0, +)
                / Double(batch)
        }
        #expect(abs(mse / Double(batch) - mseReference(values.map(Double.init))) < 1e-5)
        let numericValues = numericGradient(
            at: values.map(Double.init), indices: Array(0..<batch), loss: mseReference)
        #expect(relativeError(dvalues.map(Double.init), numericValues) < 1e-4)
    }
}
