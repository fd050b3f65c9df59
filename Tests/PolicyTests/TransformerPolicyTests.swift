// TransformerPolicy: forward against a float64 reference, gradients, LASER addresses.
import Core
import Foundation
import Laser
import LinearAlgebra
import Testing

@testable import Policy

/// The TransformerPolicy forward in float64.
func transformerReference(_ config: TransformerPolicyConfig, batch: Int) -> ReferenceForward {
    { p, obs in
        let d = config.dim
        let cells = 100
        let t = 101
        let rows = batch * t
        // The embedding's input (the planes, or the conv trunk's features) channels-last, embedded,
        // plus positions; the summary token first.
        let features =
            config.convChannels > 0
            ? convTrunkReference(
                p, obs, planes: config.planes, channels: config.convChannels,
                blocks: config.convBlocks, batch: batch) : obs
        let width = config.embeddingInputs
        let cellsLast = Reference.channelsLast(features, batch: batch, channels: width)
        let embedded = Reference.linear(
            cellsLast, p["embed.weight"]!, p["embed.bias"]!, n: batch * cells, ic: width, oc: d)
        var x = [Double](repeating: 0, count: rows * d)
        for b in 0..<batch {
            for i in 0..<d { x[b * t * d + i] = p["summary_token"]![i] }
            for cell in 0..<cells {
                for i in 0..<d {
                    x[(b * t + 1 + cell) * d + i] =
                        embedded[(b * cells + cell) * d + i]
                        + p["pos_row"]![(cell / 10) * d + i] + p["pos_col"]![(cell % 10) * d + i]
                }
            }
        }
        x = Reference.transformerStack(
            x, p, layers: config.layers, batch: batch, tokens: t, dim: d, heads: config.heads,
            mlpHidden: config.mlpHidden)
        var summary = [Double]()
        for b in 0..<batch { summary += x[(b * t * d)..<(b * t * d + d)] }
        return Reference.policyHeads(summary, p, batch: batch, dim: d)
    }
}

@Suite struct TransformerPolicyTests {
    let config = TransformerPolicyConfig(planes: 3, dim: 8, layers: 2, heads: 2, mlpHidden: 12)

    @Test func forwardAndGradientsMatchFloat64Reference() throws {
        let model = try TransformerPolicy(config: config, seed: 1)
        try perturbAll(model, seed: 2, scale: 0.5)
        try checkModel(
            model, batch: 2, reference: transformerReference(config, batch: 2), seed: 3,
            samplesPerTensor: 4)
    }

    /// With a conv trunk the tokens embed its features; its gradients flow through the embedding.
    /// A 4-channel trunk runs through im2col, a 16-channel one through the direct kernels.
    @Test(arguments: [4, 16]) func convTrunkForwardAndGradientsMatchFloat64Reference(
        channels: Int
    ) throws {
        let config = TransformerPolicyConfig(
            planes: 3, dim: 8, layers: 1, heads: 2, mlpHidden: 12, convChannels: channels,
            convBlocks: 2)
        let model = try TransformerPolicy(config: config, seed: 1)
        #expect(try model.parameters.info(named: "embed.weight").shape == [8, channels])
        try perturbAll(model, seed: 2, scale: 0.5)
        try checkModel(
            model, batch: 2, reference: transformerReference(config, batch: 2), seed: 3,
            samplesPerTensor: 4)
    }

    /// The trunk's matrices join LASER's under type `conv`, numbered as in ConvPolicy; a
    /// checkpoint of a transformer without trunk keys reads as one without a trunk.
    @Test func convTrunkAddressesAndOlderConfigs() throws {
        let model = try TransformerPolicy(
            config: TransformerPolicyConfig(layers: 2, convChannels: 16, convBlocks: 2), seed: 1)
        let conv = model.reducibleMatrices.filter { $0.type == "conv" }
        #expect(conv.map(\.layer) == [-1, 0, 0, 1, 1])
        #expect(try model.matrixInfo(named: "blocks.1.conv2.weight").columns == 16 * 9)
        #expect(try model.matrixInfo(named: "embed.weight").columns == 16)
        var keys = model.hyperparameters
        #expect(keys["conv_channels"] == "16" && keys["conv_blocks"] == "2")
        keys["conv_channels"] = nil
        keys["conv_blocks"] = nil
        let older = try TransformerPolicyConfig(hyperparameters: keys)
        #expect(older.convChannels == 0 && older.convBlocks == 0 && older.layers == 2)
        #expect(throws: PolicyError.self) {
            try TransformerPolicyConfig(convBlocks: 2).validate()
        }
    }

    /// A batch large enough that attention is split across both cores gives the same numbers.
    @Test func parallelAttentionMatchesSerial() throws {
        let model = try TransformerPolicy(config: config, seed: 7)
        var rng = SplitMix64(seed: 8)
        let obs = randomObservations(batch: 9, planes: 3, rng: &rng)
        let all = try model.predict(observations: obs, batch: 9)
        let count = 3 * 100
        for b in 0..<9 {
            let one = try model.predict(
                observations: Array(obs[(b * count)..<((b + 1) * count)]), batch: 1)
            for a in 0..<4 { #expect(abs(one.logits[a] - all.logits[b * 4 + a]) < 1e-5) }
        }
    }

    @Test func laserAddressesAreStable() throws {
        let model = try TransformerPolicy(config: TransformerPolicyConfig(layers: 3), seed: 1)
        let q = try model.matrixInfo(named: "layers.2.attn.q_proj.weight")
        #expect(q.layer == 2 && q.type == "q_proj" && q.rows == 64 && q.columns == 64)
        let fc = try model.matrixInfo(named: "layers.2.mlp.fc_in.weight")
        #expect(fc.type == "fc_in" && fc.rows == 256 && fc.columns == 64)
        #expect(try model.matrixInfo(named: "layers.0.mlp.fc_out.weight").type == "fc_out")
        #expect(try model.matrixInfo(named: "policy_head.weight").layer == 3)
        #expect(
            Set(model.matrixTypes) == [
                "embed", "q_proj", "k_proj", "v_proj", "out_proj", "fc_in", "fc_out", "head",
            ])
    }

    @Test(arguments: [0, 4])
    func factoredForwardEqualsDenseReconstruction(convChannels: Int) throws {
        var config = config
        config.convChannels = convChannels
        config.convBlocks = convChannels > 0 ? 1 : 0
        let model = try TransformerPolicy(config: config, seed: 4)
        #expect(model.reducibleMatrices.contains { $0.type == "conv" } == (convChannels > 0))
        var rng = SplitMix64(seed: 6)
        let obs = randomObservations(batch: 5, planes: config.planes, rng: &rng)
        var factors: [String: FactoredMatrix] = [:]
        for info in model.reducibleMatrices {
            let k = max(1, info.fullRank / 2)
            factors[info.name] = FactoredMatrix(
                left: Tensor(randomNormal: [info.rows, k], standardDeviation: 0.3, using: &rng),
                right: Tensor(randomNormal: [k, info.columns], standardDeviation: 0.3, using: &rng))
            try model.setWeightMatrix(named: info.name, to: .factored(factors[info.name]!))
        }
        let factored = try model.predict(observations: obs, batch: 5)
        for (name, f) in factors {
            try model.setWeightMatrix(named: name, to: .dense(f.reconstructed()))
        }
        let dense = try model.predict(observations: obs, batch: 5)
        let diff = zip(factored.logits + factored.values, dense.logits + dense.values).map {
            abs($0 - $1)
        }.max()!
        #expect(diff < 1e-4, "factored and dense forward differ by \(diff)")
    }
}
