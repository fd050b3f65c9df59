// Optimizer, schedule, clipping, and that supervised training actually fits a small task.
import Core
import Foundation
import LinearAlgebra
import Testing

@testable import Policy

/// A small learnable task: every cell holds one of the planes, one plane (the action, among the
/// first four) is much more frequent than the others; the value is the fraction of plane-0 cells.
func toyBatch(_ batch: Int, planes: Int, rng: inout SplitMix64) -> (
    obs: [Float], actions: [Int], values: [Float]
) {
    var obs = [Float](repeating: 0, count: batch * planes * 100)
    var actions: [Int] = []
    var values: [Float] = []
    for b in 0..<batch {
        let dominant = Int(rng.next() % UInt64(min(4, planes)))
        var zeros = 0
        for cell in 0..<100 {
            let p = rng.nextUnit() < 0.6 ? dominant : Int(rng.next() % UInt64(planes))
            obs[(b * planes + p) * 100 + cell] = 1
            if p == 0 { zeros += 1 }
        }
        actions.append(dominant)
        values.append(Float(zeros) / 100)
    }
    return (obs, actions, values)
}

@Suite struct TrainingTests {
    @Test func scheduleWarmsUpThenFollowsCosine() {
        var c = OptimizerConfig()
        c.learningRate = 1
        c.warmupSteps = 10
        c.totalSteps = 110
        c.minimumLearningRateRatio = 0.1
        #expect(abs(c.learningRate(atStep: 0) - 0.1) < 1e-6)
        #expect(abs(c.learningRate(atStep: 9) - 1) < 1e-6)
        #expect(abs(c.learningRate(atStep: 10) - 1) < 1e-6)
        #expect(abs(c.learningRate(atStep: 60) - 0.55) < 1e-5)  // halfway: floor + (1 − floor)/2
        #expect(abs(c.learningRate(atStep: 110) - 0.1) < 1e-6)
        #expect(abs(c.learningRate(atStep: 500) - 0.1) < 1e-6)
    }

    @Test func invalidOptimizerConfigIsRefused() {
        var c = OptimizerConfig()
        c.learningRate = -1
        #expect(throws: PolicyError.self) { try c.validate() }
        c = OptimizerConfig()
        c.beta2 = 1
        #expect(throws: PolicyError.self) { try c.validate() }
    }

    /// One Adam(W) step on known gradients equals the formula, with decay on weights only.
    @Test func adamStepMatchesFormula() throws {
        for decoupled in [true, false] {
            var layout = ParameterLayout()
            layout.add("w", [2, 2], decays: true)
            layout.add("b", [3])
            let store = ParameterStore(layout: layout)
            try store.setTensor(named: "w", to: Tensor(shape: [2, 2], scalars: [1, -2, 3, 0.5]))
            try store.setTensor(named: "b", to: Tensor(shape: [3], scalars: [0.1, 0.2, 0.3]))
            let grads = ParameterGradients(like: store)
            let g: [Float] = [0.5, -1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, -1]
            for (i, v) in g.enumerated() { grads.buffer.pointer[i] = v }
            var config = OptimizerConfig()
            config.weightDecay = 0.1
            config.decoupledWeightDecay = decoupled
            let adam = AdamState(count: store.allocatedCount)
            adam.update(
                parameters: store, gradients: grads.buffer, config: config, learningRate: 0.01,
                gradientScale: 0.5, step: 1)
            func expected(_ p: Float, _ grad: Float, decays: Bool) -> Float {
                let wd: Float = decays ? 0.1 : 0
                let gg = grad * 0.5 + (decoupled ? 0 : wd * p)
                // After one step m̂ = g and v̂ = g², so the step is lr·g/(|g| + ε).
                return p - 0.01 * (gg / (abs(gg) + 1e-8) + (decoupled ? wd * p : 0))
            }
            let w = try store.tensor(named: "w").scalars
            let b = try store.tensor(named: "b").scalars
            for (i, p) in [Float(1), -2, 3, 0.5].enumerated() {
                #expect(abs(w[i] - expected(p, g[i], decays: true)) < 1e-6)
            }
            for (i, p) in [Float(0.1), 0.2, 0.3].enumerated() {
                #expect(abs(b[i] - expected(p, g[16 + i], decays: false)) < 1e-6)
            }
        }
    }

    @Test func clippingReportsTheNormAndBoundsTheUpdate() throws {
        let model = try ConvPolicy(
            config: ConvPolicyConfig(planes: 2, channels: 4, blocks: 1), seed: 1)
        var config = OptimizerConfig()
        config.maxGradientNorm = 1e-3
        config.warmupSteps = 0
        config.weightDecay = 0
        let trainer = try PolicyTrainer(model: model, config: config, batchCapacity: 4)
        var rng = SplitMix64(seed: 2)
        let batch = toyBatch(4, planes: 2, rng: &rng)
        let result = try trainer.supervisedStep(
            observations: batch.obs, actions: batch.actions, valueTargets: batch.values)
        #expect(result.gradientNorm > 1e-3)
        #expect(trainer.step == 1)
        #expect(trainer.gradients.norm == 0)
    }

    @Test(arguments: ["conv", "transformer"])
    func supervisedTrainingFitsAToyTask(arch: String) throws {
        let model: any PolicyNetwork =
            arch == "conv"
            ? try ConvPolicy(
                config: ConvPolicyConfig(planes: 4, channels: 8, blocks: 1, valueHidden: 16),
                seed: 3)
            : try TransformerPolicy(
                config: TransformerPolicyConfig(
                    planes: 4, dim: 16, layers: 1, heads: 2, mlpHidden: 32), seed: 3)
        var config = OptimizerConfig()
        config.learningRate = 3e-3
        config.warmupSteps = 5
        config.totalSteps = 60
        let trainer = try PolicyTrainer(model: model, config: config, batchCapacity: 32)
        var rng = SplitMix64(seed: 4)
        let held = toyBatch(32, planes: 4, rng: &rng)
        let before = try trainer.evaluate(
            observations: held.obs, actions: held.actions, valueTargets: held.values)
        for _ in 0..<60 {
            let b = toyBatch(16, planes: 4, rng: &rng)
            _ = try trainer.supervisedStep(
                observations: b.obs, actions: b.actions, valueTargets: b.values)
        }
        let after = try trainer.evaluate(
            observations: held.obs, actions: held.actions, valueTargets: held.values)
        #expect(
            after.policyLoss < 0.5 * before.policyLoss,
            "\(arch): loss \(before.policyLoss) → \(after.policyLoss)")
        #expect(after.accuracy >= 0.8, "\(arch): held-out accuracy \(after.accuracy)")
        #expect(after.valueLoss < before.valueLoss)
    }

    @Test func badBatchesAreRefused() throws {
        let model = try ConvPolicy(
            config: ConvPolicyConfig(planes: 2, channels: 4, blocks: 1), seed: 1)
        let trainer = try PolicyTrainer(model: model, config: OptimizerConfig(), batchCapacity: 2)
        var rng = SplitMix64(seed: 2)
        let b = toyBatch(3, planes: 2, rng: &rng)
        #expect(throws: PolicyError.self) {
            try trainer.supervisedStep(
                observations: b.obs, actions: b.actions, valueTargets: b.values)
        }
        let two = toyBatch(2, planes: 2, rng: &rng)
        #expect(throws: PolicyError.self) {
            try trainer.supervisedStep(
                observations: two.obs, actions: [0, 7], valueTargets: two.values)
        }
        #expect(throws: PolicyError.self) {
            try trainer.supervisedStep(
                observations: Array(two.obs.dropLast()), actions: two.actions,
                valueTargets: two.values)
        }
    }
}
