// Inputs and batched inference: wall padding, refusals, per-thread contexts sharing one model.
import Core
import Dispatch
import Foundation
import LinearAlgebra
import Synchronization
import Testing

@testable import Policy

@Suite struct InferenceTests {
    @Test func smallerBoardsArePaddedWithWall() throws {
        // A 2×3 board with 2 planes: plane 0 (wall) set at (0,0), plane 1 set elsewhere.
        // Plane 0, then plane 1.
        let planes: [Float] = [1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
        let out = try BoardInput.padded(planes: planes, planeCount: 2, height: 2, width: 3)
        #expect(out.count == 200)
        for y in 0..<10 {
            for x in 0..<10 {
                let inside = y < 2 && x < 3
                let wall = out[y * 10 + x]
                let other = out[100 + y * 10 + x]
                if inside {
                    #expect(wall == planes[y * 3 + x] && other == planes[6 + y * 3 + x])
                } else {
                    #expect(wall == 1 && other == 0)
                }
            }
        }
    }

    @Test func largerOrMalformedBoardsAreRefused() throws {
        #expect(throws: PolicyError.boardTooLarge(height: 11, width: 10, maximum: 10)) {
            try BoardInput.padded(
                planes: [Float](repeating: 0, count: 7 * 110), planeCount: 7, height: 11, width: 10)
        }
        #expect(
            PolicyError.boardTooLarge(height: 11, width: 10, maximum: 10).description
                == "board of 11×10 is larger than the networks' 10×10 input")
        #expect(throws: PolicyError.planeCountMismatch(expected: 7 * 12, got: 5)) {
            try BoardInput.padded(
                planes: [Float](repeating: 0, count: 5), planeCount: 7, height: 3, width: 4)
        }
        #expect(throws: PolicyError.invalidBoardSize(height: 0, width: 4)) {
            try BoardInput.padded(planes: [], planeCount: 7, height: 0, width: 4)
        }
        let model = try ConvPolicy(
            config: ConvPolicyConfig(planes: 7, channels: 4, blocks: 1), seed: 1)
        let context = model.makeContext(batchCapacity: 2)
        #expect(throws: PolicyError.self) {
            try context.setObservations([Float](repeating: 0, count: 700), batch: 3)
        }
        #expect(throws: PolicyError.self) {
            try context.setObservation(
                sample: 0, planes: [Float](repeating: 0, count: 7 * 121), height: 11, width: 11)
        }
    }

    @Test func contextInputEqualsPaddedInput() throws {
        let model = try ConvPolicy(
            config: ConvPolicyConfig(planes: 2, channels: 4, blocks: 1), seed: 1)
        var rng = SplitMix64(seed: 3)
        let small = randomValues(2 * 6 * 7, rng: &rng)
        let context = model.makeContext(batchCapacity: 1)
        try context.setObservation(sample: 0, planes: small, height: 6, width: 7)
        model.forward(context, batch: 1)
        let padded = try model.predict(
            observations: try BoardInput.padded(planes: small, planeCount: 2, height: 6, width: 7),
            batch: 1)
        #expect(context.logits(sample: 0) == padded.logits)
        #expect(context.value(sample: 0) == padded.values[0])
        let p = context.probabilities(sample: 0)
        #expect(abs(p.reduce(0, +) - 1) < 1e-5)
        #expect(context.greedyAction(sample: 0) == p.firstIndex(of: p.max()!)!)
    }

    /// Four threads, each with its own context, share one model and match a serial pass exactly.
    @Test(arguments: ["conv", "transformer"])
    func concurrentInferenceMatchesSerial(arch: String) throws {
        let model: any PolicyNetwork =
            arch == "conv"
            ? try ConvPolicy(config: ConvPolicyConfig(planes: 3, channels: 8, blocks: 2), seed: 1)
            : try TransformerPolicy(
                config: TransformerPolicyConfig(
                    planes: 3, dim: 16, layers: 2, heads: 2, mlpHidden: 32), seed: 1)
        var rng = SplitMix64(seed: 2)
        let batches = (0..<8).map { _ in randomObservations(batch: 5, planes: 3, rng: &rng) }
        let serial = try batches.map { try model.predict(observations: $0, batch: 5).logits }
        final class Results: @unchecked Sendable {
            var logits = [[Float]](repeating: [], count: 8)
            let lock = NSLock()
        }
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            let context = model.makeContext(batchCapacity: 5)
            for i in stride(from: worker, to: 8, by: 4) {
                try! context.setObservations(batches[i], batch: 5)
                model.forward(context, batch: 5)
                var logits: [Float] = []
                var values: [Float] = []
                context.copyOutputs(logits: &logits, values: &values)
                results.lock.lock()
                results.logits[i] = logits
                results.lock.unlock()
            }
        }
        #expect(results.logits == serial)
    }
}

@Suite struct BatchSplitTests {
    /// Every worker of a split, and the calling thread when the split has one, flushes subnormal
    /// floats (x86) while it runs the split's work, and only then.
    @Test(.enabled(if: FloatEnvironment.isSupported)) func workersFlushSubnormals() {
        for count in [1, 64] {
            let flushing = Mutex([Bool]())
            Parallel.split(count) { _, _ in
                flushing.withLock { $0.append(FloatEnvironment.flushesSubnormals) }
            }
            let seen = flushing.withLock { $0 }
            #expect(seen.count == Parallel.workerCount(count) && seen.allSatisfy { $0 })
        }
        // The calling thread's own mode is back as it was (pool threads serve other code too).
        FloatEnvironment.keepSubnormals()
        Parallel.split(1) { _, _ in }
        #expect(!FloatEnvironment.flushesSubnormals)
    }

    /// A batch large enough to be split across workers and chunks gives the same gradients as the samples
    /// one at a time (the per-worker gradient buffers are summed correctly).
    @Test(arguments: ["conv", "transformer"])
    func splitBackwardMatchesPerSample(arch: String) throws {
        let model: any PolicyNetwork =
            arch == "conv"
            ? try ConvPolicy(config: ConvPolicyConfig(planes: 3, channels: 4, blocks: 1), seed: 1)
            : try TransformerPolicy(
                config: TransformerPolicyConfig(
                    planes: 3, dim: 8, layers: 1, heads: 2, mlpHidden: 8), seed: 1)
        let batch = 37  // two workers, each cut into chunks
        #expect(Parallel.workerCount(batch) > 1)
        #expect(Parallel.chunks(0..<(batch / 2)).count > 1)
        var rng = SplitMix64(seed: 2)
        let obs = randomObservations(batch: batch, planes: 3, rng: &rng)
        let r1 = randomValues(batch * 4, rng: &rng)
        let r2 = randomValues(batch, rng: &rng)
        let context = model.makeContext(batchCapacity: batch)
        try context.setObservations(obs, batch: batch)
        model.forward(context, batch: batch)
        try context.setOutputGradients(logits: r1, values: r2)
        let together = model.makeGradients()
        model.backward(context, gradients: together)

        let one = model.makeContext(batchCapacity: 1)
        let separate = model.makeGradients()
        let count = 3 * 100
        for b in 0..<batch {
            try one.setObservations(Array(obs[(b * count)..<((b + 1) * count)]), batch: 1)
            model.forward(one, batch: 1)
            let difference = zip(one.logits(sample: 0), context.logits(sample: b)).map {
                abs($0 - $1)
            }.max()!
            #expect(difference < 1e-5)
            try one.setOutputGradients(logits: Array(r1[(b * 4)..<(b * 4 + 4)]), values: [r2[b]])
            model.backward(one, gradients: separate)
        }
        for info in model.parameters.infos {
            let a = try together.tensor(named: info.name)
            let s = try separate.tensor(named: info.name)
            let scale = max(1e-3, Double(s.scalars.map(abs).max()!))
            #expect(Double(a.maxAbsDifference(s)) < 1e-5 * scale * 10, "\(info.name)")
        }
    }

    @Test func singleWorkerContextMatchesSplit() throws {
        let model = try ConvPolicy(
            config: ConvPolicyConfig(planes: 3, channels: 4, blocks: 1), seed: 1)
        var rng = SplitMix64(seed: 3)
        let obs = randomObservations(batch: 16, planes: 3, rng: &rng)
        let split = model.makeContext(batchCapacity: 16)
        let single = model.makeContext(batchCapacity: 16)
        single.maximumWorkers = 1
        for context in [split, single] {
            try context.setObservations(obs, batch: 16)
            model.forward(context, batch: 16)
        }
        for b in 0..<16 {
            let difference = zip(split.logits(sample: b), single.logits(sample: b)).map {
                abs($0 - $1)
            }.max()!
            #expect(difference < 1e-5)
        }
        single.maximumWorkers = 0
        #expect(single.maximumWorkers == 1)
    }
}
