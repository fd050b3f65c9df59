// Growing a trained policy: the larger network computes the same outputs and still learns.
import Core
import LinearAlgebra
import Testing

@testable import Policy

@Suite struct GrowthTests {
    let small = ConvPolicyConfig(
        planes: 3, channels: 4, blocks: 2, policyChannels: 2, valueChannels: 1, valueHidden: 5)
    let large = ConvPolicyConfig(
        planes: 3, channels: 6, blocks: 4, policyChannels: 3, valueChannels: 2, valueHidden: 7)

    /// Logits and values of `model` on `observations` (batch `batch`).
    func outputs(_ model: any PolicyNetwork, _ observations: [Float], batch: Int) throws -> (
        logits: [Float], values: [Float]
    ) {
        let context = model.makeContext(batchCapacity: batch)
        try context.setObservations(observations, batch: batch)
        model.forward(context, batch: batch)
        var logits: [Float] = []
        var values: [Float] = []
        context.copyOutputs(logits: &logits, values: &values)
        return (logits, values)
    }

    @Test func grownNetworkComputesTheSameOutputs() throws {
        let source = try ConvPolicy(config: small, seed: 1)
        // Weights far from their initialisation, like a trained net.
        try perturbAll(source, seed: 2)
        let grown = try ConvPolicy.grown(from: source, to: large, seed: 3)
        #expect(grown.config == large)
        #expect(grown.parameters.parameterCount > source.parameters.parameterCount)
        var rng = SplitMix64(seed: 4)
        let batch = 3
        let observations = randomValues(batch * 3 * 100, scale: 1, rng: &rng)
        let before = try outputs(source, observations, batch: batch)
        let after = try outputs(grown, observations, batch: batch)
        #expect(
            before.values.contains { abs($0) > 1e-3 } && before.logits.contains { abs($0) > 1e-3 })
        for (a, b) in zip(before.logits + before.values, after.logits + after.values) {
            #expect(abs(a - b) <= 1e-4 * max(1, abs(a)))
        }
        // The old weights are kept in place; the new ones are not all zero (they carry signal).
        let oldStem = try source.parameters.tensor(named: "stem.weight")
        let newStem = try grown.parameters.tensor(named: "stem.weight")
        #expect(Array(newStem.scalars.prefix(oldStem.count)) == oldStem.scalars)
        #expect(newStem.scalars.suffix(newStem.count - oldStem.count).contains { $0 != 0 })
        #expect(
            try grown.parameters.tensor(named: "blocks.3.conv1.weight").scalars.contains { $0 != 0 }
        )
        #expect(
            try grown.parameters.tensor(named: "blocks.3.conv2.weight").scalars.allSatisfy {
                $0 == 0
            })
    }

    @Test func grownNetworkTrainsItsNewParameters() throws {
        let source = try ConvPolicy(config: small, seed: 1)
        try perturbAll(source, seed: 2)
        let grown = try ConvPolicy.grown(from: source, to: large, seed: 3)
        let names = [
            "blocks.3.conv2.weight", "blocks.0.conv1.weight", "policy_head.weight",
            "value_fc.weight",
        ]
        let before = try names.map { try grown.parameters.tensor(named: $0).scalars }
        var config = OptimizerConfig()
        config.warmupSteps = 0
        let trainer = try PolicyTrainer(model: grown, config: config, batchCapacity: 4)
        var rng = SplitMix64(seed: 5)
        let observations = randomValues(4 * 3 * 100, scale: 1, rng: &rng)
        for _ in 0..<2 {
            _ = try trainer.supervisedStep(
                observations: observations, actionSets: (0..<4).map { ActionSet(action: $0) },
                valueTargets: [1, -1, 0.5, 0], valueWeight: 1)
        }
        // The identity block's second conv and the zeroed weights reading new inputs all move.
        for (name, old) in zip(names, before) {
            let new = try grown.parameters.tensor(named: name)
            let info = try grown.parameters.info(named: name)
            let newInputs = (0..<new.count).filter { i in
                let columns = info.count / info.shape[0]
                let perInput = columns / info.shape[1]
                return (i % columns) / perInput
                    >= (name == "blocks.3.conv2.weight" ? 0 : Self.oldInputs(name, small))
            }
            #expect(newInputs.contains { new.scalars[$0] != old[$0] }, "\(name) did not learn")
        }
    }

    /// Inputs of `name` in the source network (dimension 1 of its PyTorch shape).
    static func oldInputs(_ name: String, _ c: ConvPolicyConfig) -> Int {
        switch name {
        case "policy_head.weight": return c.policyChannels * 100
        case "value_fc.weight": return c.valueChannels * 100
        default: return c.channels
        }
    }

    /// Growing copies dense parameters: a network held partly as LASER factors is refused
    /// rather than silently made dense (conv growth and a transformer's new planes alike).
    @Test func aReducedNetworkIsNotGrown() throws {
        let conv = try ConvPolicy(
            config: ConvPolicyConfig(planes: 3, channels: 4, blocks: 1), seed: 1)
        let info = conv.reducibleMatrices[1]
        var rng = SplitMix64(seed: 2)
        try conv.setWeightMatrix(
            named: info.name,
            to: .factored(
                .init(
                    left: Tensor(randomNormal: [info.rows, 1], using: &rng),
                    right: Tensor(randomNormal: [1, info.columns], using: &rng))))
        var bigger = conv.config
        bigger.blocks = 2
        #expect(throws: PolicyError.self) { try ConvPolicy.grown(from: conv, to: bigger, seed: 3) }
        let transformer = try TransformerPolicy(
            config: TransformerPolicyConfig(planes: 3, dim: 8, layers: 1, heads: 2, mlpHidden: 8),
            seed: 1)
        let t = transformer.reducibleMatrices[0]
        try transformer.setWeightMatrix(
            named: t.name,
            to: .factored(
                .init(
                    left: Tensor(randomNormal: [t.rows, 1], using: &rng),
                    right: Tensor(randomNormal: [1, t.columns], using: &rng))))
        #expect(throws: PolicyError.self) {
            try TransformerPolicy.withPlanes(4, from: transformer, seed: 3)
        }
    }

    @Test func shrinkingOrChangingPlanesIsRefused() throws {
        let source = try ConvPolicy(config: small, seed: 1)
        var fewer = small
        fewer.blocks = 1
        #expect(throws: PolicyError.invalidConfiguration("cannot grow blocks from 2 down to 1")) {
            try ConvPolicy.grown(from: source, to: fewer, seed: 1)
        }
        var planes = small
        planes.planes = 2
        #expect(throws: PolicyError.invalidConfiguration("cannot grow planes from 3 down to 2")) {
            try ConvPolicy.grown(from: source, to: planes, seed: 1)
        }
        let transformer = try TransformerPolicy(
            config: TransformerPolicyConfig(planes: 3, dim: 8, layers: 1, heads: 2, mlpHidden: 8),
            seed: 1)
        #expect(throws: PolicyError.invalidConfiguration("cannot grow planes from 3 down to 2")) {
            try TransformerPolicy.withPlanes(2, from: transformer, seed: 1)
        }
    }

    /// `observations` (batch × planes × 100) with `extra` more planes of random values per sample.
    static func addingPlanes(
        _ observations: [Float], batch: Int, planes: Int, extra: Int, rng: inout SplitMix64
    ) -> [Float] {
        var out: [Float] = []
        for b in 0..<batch {
            let size = planes * 100
            out += observations[(b * size)..<((b + 1) * size)]
            out += randomValues(extra * 100, scale: 1, rng: &rng)
        }
        return out
    }

    @Test func anAddedPlaneIsUnreadUntilTrainingMovesItsWeights() throws {
        // A conv network and transformers with and without a conv trunk gain one observation
        // plane; whatever the plane holds, the outputs are those of the source network.
        let conv = try ConvPolicy(config: small, seed: 1)
        var convConfig = small
        convConfig.planes = 4
        let plain = try TransformerPolicy(
            config: TransformerPolicyConfig(planes: 3, dim: 8, layers: 1, heads: 2, mlpHidden: 8),
            seed: 1)
        let trunk = try TransformerPolicy(
            config: TransformerPolicyConfig(
                planes: 3, dim: 8, layers: 1, heads: 2, mlpHidden: 8, convChannels: 4,
                convBlocks: 1), seed: 1)
        for source in [conv as any PolicyNetwork, plain, trunk] {
            try perturbAll(source, seed: 2)
            let grown: any PolicyNetwork =
                if let c = source as? ConvPolicy {
                    try ConvPolicy.grown(from: c, to: convConfig, seed: 3)
                } else {
                    try TransformerPolicy.withPlanes(4, from: source as! TransformerPolicy, seed: 3)
                }
            #expect(grown.planeCount == 4)
            var rng = SplitMix64(seed: 4)
            let batch = 3
            let observations = randomValues(batch * 3 * 100, scale: 1, rng: &rng)
            let wider = Self.addingPlanes(
                observations, batch: batch, planes: 3, extra: 1, rng: &rng)
            let before = try outputs(source, observations, batch: batch)
            let after = try outputs(grown, wider, batch: batch)
            #expect(before.logits.contains { abs($0) > 1e-3 })
            for (a, b) in zip(before.logits + before.values, after.logits + after.values) {
                #expect(abs(a - b) <= 1e-4 * max(1, abs(a)), "\(source.architectureName)")
            }
        }
    }
}
