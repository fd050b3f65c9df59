// ConvPolicy: forward against a float64 PyTorch-semantics reference, gradients, LASER addresses.
import Core
import Foundation
import Laser
import LinearAlgebra
import Testing

@testable import Policy

/// The conv trunk (stem and residual blocks) in float64, NCHW in and out.
func convTrunkReference(
    _ p: [String: [Double]], _ obs: [Double], planes: Int, channels c: Int, blocks: Int, batch: Int
) -> [Double] {
    let side = 10
    var h = Reference.relu(
        Reference.conv2d(
            obs, p["stem.weight"]!, p["stem.bias"]!, batch: batch, cin: planes, cout: c,
            side: side, kernel: 3))
    for i in 0..<blocks {
        let a = Reference.relu(
            Reference.conv2d(
                h, p["blocks.\(i).conv1.weight"]!, p["blocks.\(i).conv1.bias"]!,
                batch: batch, cin: c, cout: c, side: side, kernel: 3))
        let r = Reference.conv2d(
            a, p["blocks.\(i).conv2.weight"]!, p["blocks.\(i).conv2.bias"]!,
            batch: batch, cin: c, cout: c, side: side, kernel: 3)
        h = Reference.relu(zip(h, r).map { $0 + $1 })
    }
    return h
}

/// The ConvPolicy forward in float64 with PyTorch's NCHW semantics.
func convReference(_ config: ConvPolicyConfig, batch: Int) -> ReferenceForward {
    { p, obs in
        let c = config.channels
        let side = 10
        let cells = 100
        let h = convTrunkReference(
            p, obs, planes: config.planes, channels: c, blocks: config.blocks, batch: batch)
        let ph = Reference.relu(
            Reference.conv2d(
                h, p["policy_conv.weight"]!, p["policy_conv.bias"]!, batch: batch, cin: c,
                cout: config.policyChannels, side: side, kernel: 1))
        let logits = Reference.linear(
            ph, p["policy_head.weight"]!, p["policy_head.bias"]!, n: batch,
            ic: config.policyChannels * cells, oc: 4)
        let vh = Reference.relu(
            Reference.conv2d(
                h, p["value_conv.weight"]!, p["value_conv.bias"]!, batch: batch, cin: c,
                cout: config.valueChannels, side: side, kernel: 1))
        let fc = Reference.relu(
            Reference.linear(
                vh, p["value_fc.weight"]!, p["value_fc.bias"]!, n: batch,
                ic: config.valueChannels * cells, oc: config.valueHidden))
        let values = Reference.linear(
            fc, p["value_head.weight"]!, p["value_head.bias"]!, n: batch,
            ic: config.valueHidden, oc: 1)
        return (logits, values)
    }
}

/// Scales every weight up so activations and gradients are far from zero in a tiny network.
func perturbAll(_ model: any PolicyNetwork, seed: UInt64, scale: Double = 0.3) throws {
    var rng = SplitMix64(seed: seed)
    for info in model.parameters.infos {
        let t = try model.parameters.tensor(named: info.name)
        let noise = randomValues(t.count, scale: scale, rng: &rng)
        try model.parameters.setTensor(
            named: info.name,
            to: Tensor(shape: t.shape, scalars: zip(t.scalars, noise).map { $0 + $1 }))
    }
}

@Suite struct ConvPolicyTests {
    let config = ConvPolicyConfig(
        planes: 3, channels: 4, blocks: 2, policyChannels: 2, valueChannels: 2, valueHidden: 5)
    /// 16 channels: the trunk's convolutions take the direct kernel (4 take im2col + GEMM).
    static let direct = ConvPolicyConfig(
        planes: 3, channels: 16, blocks: 1, policyChannels: 2, valueChannels: 2, valueHidden: 5)

    @Test(arguments: [4, 16]) func forwardAndGradientsMatchFloat64Reference(channels: Int) throws {
        let config = channels == 4 ? config : Self.direct
        let model = try ConvPolicy(config: config, seed: 1)
        try perturbAll(model, seed: 2)
        try checkModel(model, batch: 2, reference: convReference(config, batch: 2), seed: 3)
    }

    @Test func laserAddressesAreStable() throws {
        let model = try ConvPolicy(config: ConvPolicyConfig(blocks: 3), seed: 1)
        let names = model.reducibleMatrices.map(\.name)
        #expect(names.contains("blocks.2.conv1.weight"))
        #expect(names.contains("policy_head.weight"))
        let conv = try model.matrixInfo(named: "blocks.1.conv2.weight")
        #expect(conv.layer == 1 && conv.type == "conv" && conv.rows == 32 && conv.columns == 32 * 9)
        #expect(try model.matrixInfo(named: "policy_head.weight").type == "head")
        #expect(try model.matrixInfo(named: "policy_head.weight").layer == 3)
        #expect(model.layerIndices == [-1, 0, 1, 2, 3])
        #expect(throws: LaserError.self) { try model.weightMatrix(named: "blocks.9.conv1.weight") }
    }

    /// Reduced kernels run through im2col and the factors; dense ones (at 16 channels) directly;
    /// at 48 channels a block kernel of rank 16 runs its factors through the direct kernels (a
    /// 3×3 conv to 16 channels, then a 1×1 conv), the stem's rank 24 through im2col.
    @Test(arguments: [4, 16, 48]) func factoredForwardEqualsDenseReconstruction(channels: Int)
        throws
    {
        var config = channels == 4 ? config : Self.direct
        config.channels = channels
        let model = try ConvPolicy(config: config, seed: 4)
        try perturbAll(model, seed: 5)
        var rng = SplitMix64(seed: 6)
        let obs = randomObservations(batch: 3, planes: config.planes, rng: &rng)
        var factors: [String: FactoredMatrix] = [:]
        for info in model.reducibleMatrices {
            let k = channels == 48 && info.type.hasPrefix("conv") ? 16 : max(1, info.fullRank / 2)
            factors[info.name] = FactoredMatrix(
                left: Tensor(randomNormal: [info.rows, k], standardDeviation: 0.5, using: &rng),
                right: Tensor(randomNormal: [k, info.columns], standardDeviation: 0.5, using: &rng))
            try model.setWeightMatrix(named: info.name, to: .factored(factors[info.name]!))
        }
        #expect(model.reducedMatrixNames.count == model.reducibleMatrices.count)
        let block = model.trunk.blockLayers[0].conv1
        #expect(
            (model.directFactors(block, cin: channels, cout: channels) != nil) == (channels == 48))
        let factored = try model.predict(observations: obs, batch: 3)
        for (name, f) in factors {
            #expect(try model.weightMatrix(named: name).maxAbsDifference(f.reconstructed()) < 1e-5)
            try model.setWeightMatrix(named: name, to: .dense(f.reconstructed()))
        }
        #expect(model.reducedMatrixNames.isEmpty)
        let dense = try model.predict(observations: obs, batch: 3)
        let diff = zip(factored.logits + factored.values, dense.logits + dense.values).map {
            abs($0 - $1)
        }.max()!
        let size = dense.logits.map(abs).max()!
        #expect(diff <= 1e-4 * max(1, size), "factored and dense forward differ by \(diff)")
    }
}
