// DecisionTransformer: forward and every gradient against a float64 reference on valid K-step
// inputs, what the output may and may not depend on, checkpoints, LASER addresses.
import Core
import Foundation
import Laser
import LinearAlgebra
import Testing

@testable import Policy

/// The DecisionTransformer forward in float64, from the documented input layout: per step the
/// state's planes, then a side plane of (return-to-go, action one-hot ×4, present, timestep).
/// `causal: false` drops the attention mask (to show the check would notice).
func decisionTransformerReference(
    _ config: DecisionTransformerConfig, batch: Int, causal: Bool = true
) -> ReferenceForward {
    { p, obs in
        let k = config.steps
        let d = config.dim
        let c = config.convChannels
        let cells = PolicyGeometry.cells
        let stateFloats = config.planes * cells
        let stepFloats = stateFloats + cells
        let t = 3 * k - 1
        // Every step's board through the encoder (padding too: its result is dropped), its
        // features channels-last (column cell·C + c) into the state embedding.
        var boards: [Double] = []
        for image in 0..<batch * k {
            boards += obs[(image * stepFloats)..<(image * stepFloats + stateFloats)]
        }
        let features = convTrunkReference(
            p, boards, planes: config.planes, channels: c, blocks: config.convBlocks,
            batch: batch * k)
        let states = Reference.linear(
            Reference.channelsLast(features, batch: batch * k, channels: c),
            p["state_embed.weight"]!, p["state_embed.bias"]!, n: batch * k, ic: cells * c, oc: d)
        // Tokens R_0, s_0, a_0, ..., R_{K-1}, s_{K-1}, each plus its step's timestep embedding;
        // a padding step's tokens are all the pad token.
        var x = [Double](repeating: 0, count: batch * t * d)
        for b in 0..<batch {
            for step in 0..<k {
                let sideStart = (b * k + step) * stepFloats + stateFloats
                let side = Array(obs[sideStart..<(sideStart + cells)])
                let tokens = step < k - 1 ? 3 : 2
                func token(_ j: Int) -> Int { (b * t + 3 * step + j) * d }
                guard side[5] == 1 else {
                    for j in 0..<tokens {
                        for i in 0..<d { x[token(j) + i] = p["pad_token"]![i] }
                    }
                    continue
                }
                let time = min(Int(side[6]), config.maxTimestep - 1)
                for i in 0..<d {
                    let e = p["timestep_embed"]![time * d + i]
                    x[token(0) + i] =
                        p["return_embed.weight"]![i] * side[0] + p["return_embed.bias"]![i] + e
                    x[token(1) + i] = states[(b * k + step) * d + i] + e
                    guard tokens == 3 else { continue }
                    var a = p["action_embed.bias"]![i] + e
                    for j in 0..<4 { a += p["action_embed.weight"]![i * 4 + j] * side[1 + j] }
                    x[token(2) + i] = a
                }
            }
        }
        x = Reference.transformerStack(
            x, p, layers: config.layers, batch: batch, tokens: t, dim: d, heads: config.heads,
            mlpHidden: config.mlpHidden, causal: causal)
        // The current state's token is the last one.
        var current: [Double] = []
        for b in 0..<batch { current += x[((b * t + t - 1) * d)..<((b * t + t) * d)] }
        return Reference.policyHeads(current, p, batch: batch, dim: d)
    }
}

/// One sample's history: steps before `firstPresent` are padding, the others are present from
/// timestep `firstTimestep` on.
struct DecisionHistorySpec {
    let firstPresent: Int
    let firstTimestep: Int
}

/// Inputs in `DecisionInputLayout`: random one-hot boards, returns-to-go and actions (none for
/// the current step) for the present steps, zeros for padding.
func decisionInputs(
    _ config: DecisionTransformerConfig, _ histories: [DecisionHistorySpec], rng: inout SplitMix64
) -> [Float] {
    let layout = DecisionInputLayout(steps: config.steps, statePlanes: config.planes)
    var obs = [Float](repeating: .nan, count: histories.count * layout.floatCount)
    obs.withUnsafeMutableBufferPointer { buffer in
        for (b, history) in histories.enumerated() {
            let sample = buffer.baseAddress! + b * layout.floatCount
            for step in 0..<config.steps {
                guard step >= history.firstPresent else {
                    layout.writePadding(step: step, into: sample)
                    continue
                }
                let board = randomObservations(batch: 1, planes: config.planes, rng: &rng)
                layout.state(step: step, in: sample).update(from: board, count: board.count)
                layout.writeSide(
                    step: step, into: sample, returnToGo: Float(rng.nextNormal() * 5),
                    action: step < config.steps - 1 ? Int(rng.next() % 4) : nil,
                    timestep: history.firstTimestep + step - history.firstPresent)
            }
        }
    }
    return obs
}

private func decisionCheckpointPath() -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
        "policy-tests-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent("dt.safetensors").path
}

private func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map { abs($0 - $1) }.max()!
}

@Suite struct DecisionTransformerTests {
    let config = DecisionTransformerConfig(
        planes: 3, steps: 3, dim: 8, layers: 2, heads: 2, mlpHidden: 16, convChannels: 4,
        convBlocks: 1, maxTimestep: 5)
    /// Sample 0 is an episode's first step (two padding steps), sample 1 its third (one), sample 2
    /// has no padding and runs past maxTimestep 5 (timesteps 4, 5, 6: the last two share row 4).
    let histories = [
        DecisionHistorySpec(firstPresent: 2, firstTimestep: 0),
        DecisionHistorySpec(firstPresent: 1, firstTimestep: 3),
        DecisionHistorySpec(firstPresent: 0, firstTimestep: 4),
    ]

    /// The batch's logits (4 per sample) then its values.
    func outputs(_ model: DecisionTransformer, _ obs: [Float]) throws -> [Float] {
        let out = try model.predict(
            observations: obs, batch: obs.count / model.inputLayout.floatCount)
        return out.logits + out.values
    }

    @Test func forwardAndGradientsMatchFloat64Reference() throws {
        let model = try DecisionTransformer(config: config, seed: 1)
        #expect(model.planeCount == 3 * 4)
        try perturbAll(model, seed: 2)
        try checkModel(
            model, batch: 3, reference: decisionTransformerReference(config, batch: 3), seed: 3
        ) { rng in decisionInputs(config, histories, rng: &rng) }
    }

    /// The check above would notice attention that is not causal: with two layers the current
    /// token reads earlier tokens' first-layer outputs, which the mask changes.
    @Test func referenceWithoutMaskDisagrees() throws {
        let model = try DecisionTransformer(config: config, seed: 1)
        try perturbAll(model, seed: 2)
        var rng = SplitMix64(seed: 3)
        let obs = decisionInputs(config, histories, rng: &rng)
        let out = try outputs(model, obs)
        let p = try exportedParameters(model)
        let obs64 = obs.map(Double.init)
        for causal in [true, false] {
            let ref = decisionTransformerReference(config, batch: 3, causal: causal)(p, obs64)
            let diff = zip(out.map(Double.init), ref.logits + ref.values).map { abs($0 - $1) }
                .max()!
            if causal {
                #expect(diff < 1e-4, "masked reference differs by \(diff)")
            } else {
                #expect(diff > 1e-3, "unmasked reference differs by only \(diff)")
            }
        }
    }

    @Test func paddingIsIgnoredAndHistoryIsRead() throws {
        let model = try DecisionTransformer(config: config, seed: 4)
        try perturbAll(model, seed: 5)
        var rng = SplitMix64(seed: 6)
        let base = decisionInputs(config, histories, rng: &rng)
        let before = try outputs(model, base)
        let layout = model.inputLayout
        let stateFloats = config.planes * PolicyGeometry.cells
        func start(_ b: Int, _ step: Int) -> Int {
            b * layout.floatCount + step * layout.stepFloats
        }
        let padded = histories.enumerated().flatMap { b, h in (0..<h.firstPresent).map { (b, $0) } }
        #expect(padded.count == 3)

        // A padding step's board (and the rest of its side plane but the present flag) is unread.
        var junk = base
        for (b, step) in padded {
            for i in 0..<stateFloats { junk[start(b, step) + i] = Float(rng.nextNormal() * 3) }
            let side = start(b, step) + stateFloats
            for cell in [0, 1, 2, 3, 4, 6, 7, 50] {
                junk[side + cell] = Float(rng.nextNormal() * 3)
            }
        }
        #expect(try outputs(model, junk) == before)

        // Each sample's output changes with its current board and its oldest present action, and
        // no other sample's does.
        func expectOnlySample(_ b: Int, changesIn obs: [Float], _ what: String) throws {
            let after = try outputs(model, obs)
            for s in 0..<3 {
                let rows = Array(s * 4..<(s * 4 + 4)) + [12 + s]
                let diff = maxDifference(rows.map { before[$0] }, rows.map { after[$0] })
                if s == b {
                    #expect(diff > 1e-3, "\(what) of sample \(b) moves its outputs by \(diff)")
                } else {
                    #expect(diff == 0, "\(what) of sample \(b) moves sample \(s)'s by \(diff)")
                }
            }
        }
        for b in 0..<3 {
            var board = base
            let current = start(b, config.steps - 1)
            let fresh = randomObservations(batch: 1, planes: config.planes, rng: &rng)
            board.replaceSubrange(current..<(current + stateFloats), with: fresh)
            #expect(board != base)
            try expectOnlySample(b, changesIn: board, "the current board")

            let oldest = histories[b].firstPresent
            guard oldest < config.steps - 1 else { continue }
            var action = base
            let onehot = start(b, oldest) + stateFloats + 1
            let taken = (0..<4).first { base[onehot + $0] == 1 }!
            action[onehot + taken] = 0
            action[onehot + (taken + 1) % 4] = 1
            try expectOnlySample(b, changesIn: action, "the oldest action")
        }
    }

    /// A batch split across both cores gives each sample's numbers alone.
    @Test func batchSplitMatchesOneByOne() throws {
        let model = try DecisionTransformer(config: config, seed: 7)
        try perturbAll(model, seed: 8)
        var rng = SplitMix64(seed: 9)
        let obs = (0..<3).flatMap { _ in decisionInputs(config, histories, rng: &rng) }
        let all = try model.predict(observations: obs, batch: 9)
        let count = model.inputLayout.floatCount
        for b in 0..<9 {
            let one = try model.predict(
                observations: Array(obs[(b * count)..<((b + 1) * count)]), batch: 1)
            #expect(maxDifference(one.logits, Array(all.logits[(b * 4)..<(b * 4 + 4)])) < 1e-5)
            #expect(abs(one.values[0] - all.values[b]) < 1e-5)
        }
    }

    @Test func checkpointRoundTripKeepsOutputs() throws {
        let model = try DecisionTransformer(config: config, seed: 1)
        try perturbAll(model, seed: 2)
        #expect(model.architectureName == "decision-transformer")
        let path = decisionCheckpointPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try PolicyCheckpoint.save(model: model, to: path, step: 11)
        let loaded = try PolicyCheckpoint.load(from: path)
        #expect(loaded.step == 11)
        #expect(loaded.metadata["architecture"] == "decision-transformer")
        #expect(loaded.model.architectureName == "decision-transformer")
        #expect(loaded.model.hyperparameters == model.hyperparameters)
        let copy = try #require(loaded.model as? DecisionTransformer)
        #expect(copy.config == config)
        var rng = SplitMix64(seed: 3)
        let obs = decisionInputs(config, histories, rng: &rng)
        #expect(try outputs(copy, obs) == outputs(model, obs))
        let file = try SafetensorsFile(path: path)
        #expect(file.info(named: "stem.weight")?.shape == [4, 3, 3, 3])
        #expect(file.info(named: "blocks.0.conv2.weight")?.shape == [4, 4, 3, 3])
        #expect(file.info(named: "state_embed.weight")?.shape == [8, 400])
        #expect(file.info(named: "timestep_embed")?.shape == [5, 8])
        #expect(file.info(named: "layers.1.mlp.fc_in.weight")?.shape == [16, 8])
    }

    @Test func laserAddressesAreStable() throws {
        let model = try DecisionTransformer(config: config, seed: 1)
        func info(_ name: String, _ layer: Int, _ type: String, _ rows: Int, _ columns: Int)
            -> WeightMatrixInfo
        {
            WeightMatrixInfo(name: name, layer: layer, type: type, rows: rows, columns: columns)
        }
        var expected = [
            info("stem.weight", -1, "conv", 4, 3 * 9),
            info("blocks.0.conv1.weight", 0, "conv", 4, 4 * 9),
            info("blocks.0.conv2.weight", 0, "conv", 4, 4 * 9),
            info("state_embed.weight", -1, "embed", 8, 100 * 4),
        ]
        for l in 0..<2 {
            for proj in ["q_proj", "k_proj", "v_proj", "out_proj"] {
                expected.append(info("layers.\(l).attn.\(proj).weight", l, proj, 8, 8))
            }
            expected.append(info("layers.\(l).mlp.fc_in.weight", l, "fc_in", 16, 8))
            expected.append(info("layers.\(l).mlp.fc_out.weight", l, "fc_out", 8, 16))
        }
        expected.append(info("policy_head.weight", 2, "head", 4, 8))
        #expect(model.reducibleMatrices == expected)
        #expect(model.layerIndices == [-1, 0, 1, 2])
        let embed = try model.weightMatrix(named: "state_embed.weight")
        #expect(embed.shape == [8, 400])
        #expect(embed.scalars == (try model.parameters.tensor(named: "state_embed.weight").scalars))
        #expect(try model.weightMatrix(named: "blocks.0.conv1.weight").shape == [4, 36])
    }

    /// Every matrix LASER can reduce, reduced, gives the forward of its dense reconstruction.
    @Test func factoredForwardEqualsDenseReconstruction() throws {
        let model = try DecisionTransformer(config: config, seed: 4)
        try perturbAll(model, seed: 5)
        var rng = SplitMix64(seed: 6)
        let obs = decisionInputs(config, histories, rng: &rng)
        var factors: [String: FactoredMatrix] = [:]
        for info in model.reducibleMatrices {
            let k = max(1, info.fullRank / 2)
            factors[info.name] = FactoredMatrix(
                left: Tensor(randomNormal: [info.rows, k], standardDeviation: 0.3, using: &rng),
                right: Tensor(randomNormal: [k, info.columns], standardDeviation: 0.3, using: &rng))
            try model.setWeightMatrix(named: info.name, to: .factored(factors[info.name]!))
        }
        #expect(model.reducedMatrixNames.count == model.reducibleMatrices.count)
        let factored = try outputs(model, obs)
        for (name, f) in factors {
            try model.setWeightMatrix(named: name, to: .dense(f.reconstructed()))
        }
        let dense = try outputs(model, obs)
        let size = dense.map(abs).max()!
        let diff = maxDifference(factored, dense)
        #expect(diff <= 1e-4 * max(1, size), "factored and dense forward differ by \(diff)")
    }
}
