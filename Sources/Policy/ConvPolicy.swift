// ConvPolicy: a small ResNet (stem conv, residual blocks, AlphaZero-style policy and value heads).
import Core
import Laser
import LinearAlgebra

/// Sizes of a `ConvPolicy`.
///
/// Defaults (32 channels, 4 blocks, 83k parameters): the stem and 8 block convs see 19×19 cells,
/// the whole board; measured on the 2 shared cores (release, load ≈ 5) at batch 64: 460 training
/// samples/s (≈ 1.6 M an hour) and 1,400 inference samples/s. 48 channels: 250 / 850;
/// 64 channels: 170 / 570; 6 blocks: 390 / 1,290 — several times fewer samples for a network the
/// one-hour budget could not feed.
public struct ConvPolicyConfig: Codable, Sendable, Equatable {
    /// Observation planes per cell (the Sokoban env emits 7).
    public var planes = 7
    /// Channels of the stem and every residual block.
    public var channels = 32
    /// Residual blocks (two 3×3 convs each).
    public var blocks = 4
    /// 1×1 conv channels feeding the policy head.
    public var policyChannels = 2
    /// 1×1 conv channels feeding the value head.
    public var valueChannels = 1
    /// Hidden units of the value head.
    public var valueHidden = 64

    public init(
        planes: Int = 7, channels: Int = 32, blocks: Int = 4, policyChannels: Int = 2,
        valueChannels: Int = 1, valueHidden: Int = 64
    ) {
        self.planes = planes
        self.channels = channels
        self.blocks = blocks
        self.policyChannels = policyChannels
        self.valueChannels = valueChannels
        self.valueHidden = valueHidden
    }

    /// Throws `PolicyError.invalidConfiguration` for a size outside its range.
    public func validate() throws {
        for (name, value, low, high) in [
            ("planes", planes, 1, 64), ("channels", channels, 1, 1024), ("blocks", blocks, 0, 64),
            ("policyChannels", policyChannels, 1, 64), ("valueChannels", valueChannels, 1, 64),
            ("valueHidden", valueHidden, 1, 4096),
        ] where value < low || value > high {
            throw PolicyError.invalidConfiguration("\(name) = \(value) is outside \(low)...\(high)")
        }
        // Checked before anything is allocated: a checkpoint's metadata may ask for any size.
        let weights = 9 * channels * (planes + 2 * blocks * channels)
        guard weights <= PolicyLimits.maximumParameters else {
            throw PolicyError.invalidConfiguration(
                "a conv network of \(channels) channels and \(blocks) blocks has about \(weights) parameters; the limit is \(PolicyLimits.maximumParameters)"
            )
        }
    }

    var hyperparameters: [String: String] { Hyperparameters.strings(self) }

    var trunkShape: ConvTrunkShape {
        ConvTrunkShape(planes: planes, channels: channels, blocks: blocks)
    }

    init(hyperparameters h: [String: String]) throws {
        self = try Hyperparameters.config(Self.self, from: h, architecture: "conv")
        try validate()
    }
}

/// Sample-major regions of a ConvPolicy's activations for one batch capacity (per sample: 100
/// board rows channels-last).
struct ConvPlan: NetworkPlan {
    let trunk: ConvTrunkPlan
    // activations of the heads
    let policyHidden: SampleSpan  // (100, PC)
    let policyFlat: SampleSpan  // (PC·100) in PyTorch flatten order
    let valueHidden: SampleSpan  // (100, VC)
    let valueFlat: SampleSpan  // (VC·100)
    let valueFc: SampleSpan  // (hidden)
    let factorScratch: SampleSpan  // (100, maximum rank)
    let activationCount: Int
    // gradients of the heads
    let dPolicyHidden: SampleSpan, dPolicyFlat: SampleSpan, dValueHidden: SampleSpan,
        dValueFlat: SampleSpan, dValueFc: SampleSpan
    let gradientCount: Int

    init(_ c: ConvPolicyConfig, capacity: Int, maximumRank: Int) {
        let cells = PolicyGeometry.cells
        var a = ArenaLayout(capacity: capacity)
        var g = ArenaLayout(capacity: capacity)
        trunk = ConvTrunkPlan(c.trunkShape, activations: &a, gradients: &g)
        policyHidden = a.take(cells * c.policyChannels)
        policyFlat = a.take(cells * c.policyChannels)
        valueHidden = a.take(cells * c.valueChannels)
        valueFlat = a.take(cells * c.valueChannels)
        valueFc = a.take(c.valueHidden)
        factorScratch = a.take(cells * maximumRank)
        activationCount = a.count
        dPolicyHidden = g.take(cells * c.policyChannels)
        dPolicyFlat = g.take(cells * c.policyChannels)
        dValueHidden = g.take(cells * c.valueChannels)
        dValueFlat = g.take(cells * c.valueChannels)
        dValueFc = g.take(c.valueHidden)
        gradientCount = g.count
    }
}

/// A ResNet policy: stem 3×3 conv + ReLU; `blocks` residual blocks
/// (h ← ReLU(h + conv2(ReLU(conv1(h))))); a policy head (1×1 conv, ReLU, linear to 4 logits) and a
/// value head (1×1 conv, ReLU, linear, ReLU, linear to 1), all convs with bias and padding 1.
public final class ConvPolicy: PolicyNetwork, PlannedForward, @unchecked Sendable {
    public let config: ConvPolicyConfig
    public let parameters: ParameterStore
    let reducible: ReducibleParameters
    let trunk: ConvTrunk
    private let policyConv, policyHead, valueConv, valueFc, valueHead: LayerOffsets

    /// A network with freshly initialised weights (He-normal; the second conv of each block and
    /// the policy logits scaled down so training starts near the identity and a uniform policy).
    public init(config: ConvPolicyConfig, seed: UInt64) throws {
        try config.validate()
        self.config = config
        let c = config.channels
        let cells = PolicyGeometry.cells
        var layout = ParameterLayout()
        config.trunkShape.addParameters(to: &layout)
        layout.add(
            "policy_conv.weight", [config.policyChannels, c, 1, 1], decays: true, convKernel: true)
        layout.add("policy_conv.bias", [config.policyChannels])
        layout.add(
            "policy_head.weight", [PolicyGeometry.actionCount, config.policyChannels * cells],
            decays: true)
        layout.add("policy_head.bias", [PolicyGeometry.actionCount])
        layout.add(
            "value_conv.weight", [config.valueChannels, c, 1, 1], decays: true, convKernel: true)
        layout.add("value_conv.bias", [config.valueChannels])
        layout.add(
            "value_fc.weight", [config.valueHidden, config.valueChannels * cells], decays: true)
        layout.add("value_fc.bias", [config.valueHidden])
        layout.add("value_head.weight", [1, config.valueHidden], decays: true)
        layout.add("value_head.bias", [1])
        let store = ParameterStore(layout: layout)
        parameters = store

        var exposed: [(String, Int, String)] = []
        func expose(_ name: String, layer: Int, type: String) {
            exposed.append((name, layer, type))
        }
        for (name, layer) in config.trunkShape.reducibleMatrices {
            expose(name, layer: layer, type: "conv")
        }
        // Heads sit after the stack; rank-1 matrices (value_conv, value_head) have nothing to reduce.
        if config.policyChannels > 1 {
            expose("policy_conv.weight", layer: config.blocks, type: "head")
        }
        expose("policy_head.weight", layer: config.blocks, type: "head")
        expose("value_fc.weight", layer: config.blocks, type: "head")
        let reducible = try ReducibleParameters(store: store, exposing: exposed)
        self.reducible = reducible
        func layer(_ name: String) -> LayerOffsets { reducible.offsets(name, in: store) }
        trunk = ConvTrunk(config.trunkShape, layer: layer)
        policyConv = layer("policy_conv")
        policyHead = layer("policy_head")
        valueConv = layer("value_conv")
        valueFc = layer("value_fc")
        valueHead = layer("value_head")
        initialise(seed: seed)
    }

    private func initialise(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for info in parameters.infos where info.name.hasSuffix(".weight") {
            let fanIn = info.count / info.shape[0]
            var std = ConvTrunkShape.initialStandardDeviation(weight: info.name, fanIn: fanIn)
            if info.name == "policy_head.weight" || info.name == "value_head.weight" { std *= 0.1 }
            let t = Tensor(randomNormal: info.shape, standardDeviation: std, using: &rng)
            ParameterStore.import(info, t.scalars, into: parameters.values)
        }
    }

    public var architectureName: String { "conv" }
    public var planeCount: Int { config.planes }
    public var hyperparameters: [String: String] { config.hyperparameters }

    // MARK: Forward / backward (the public passes and LASER access: PlannedForward)

    func makePlan(capacity: Int) -> ConvPlan {
        ConvPlan(config, capacity: capacity, maximumRank: reducible.maximumRank)
    }

    func prepareForward(_ context: PolicyContext, plan: ConvPlan) {
        prepareTrunk(trunk, plan: plan.trunk, context: context)
    }

    /// The forward pass of samples `samples` (one worker's share of the batch).
    func forward(_ context: PolicyContext, plan: ConvPlan, samples: Range<Int>) {
        let act = context.activations
        let s0 = samples.lowerBound
        let batch = samples.count
        let c = config.channels
        let cells = PolicyGeometry.cells
        let rows = batch * cells
        let scratch = plan.factorScratch.at(act, s0)
        forwardTrunk(trunk, plan: plan.trunk, context: context, samples: samples, scratch: scratch)
        let top = plan.trunk.top.at(act, s0)

        // Policy head.
        let pc = config.policyChannels
        let ph = plan.policyHidden.at(act, s0)
        let pf = plan.policyFlat.at(act, s0)
        linear(ph, top, policyConv, rows: rows, ic: c, oc: pc, scratch: scratch)
        ActivationKernels.reluForward(ph, ph, count: rows * pc)
        ConvKernels.channelsFirst(pf, ph, batch: batch, channels: pc, pixels: cells)
        linear(
            context.logits.at(s0 * PolicyGeometry.actionCount), pf, policyHead, rows: batch,
            ic: pc * cells, oc: PolicyGeometry.actionCount, scratch: scratch)

        // Value head.
        let vc = config.valueChannels
        let hidden = config.valueHidden
        let vh = plan.valueHidden.at(act, s0)
        let vf = plan.valueFlat.at(act, s0)
        let fc = plan.valueFc.at(act, s0)
        linear(vh, top, valueConv, rows: rows, ic: c, oc: vc, scratch: scratch)
        ActivationKernels.reluForward(vh, vh, count: rows * vc)
        ConvKernels.channelsFirst(vf, vh, batch: batch, channels: vc, pixels: cells)
        linear(fc, vf, valueFc, rows: batch, ic: vc * cells, oc: hidden, scratch: scratch)
        ActivationKernels.reluForward(fc, fc, count: batch * hidden)
        linear(
            context.values.at(s0), fc, valueHead, rows: batch, ic: hidden, oc: 1, scratch: scratch)
    }

    /// The backward pass of samples `samples`, adding parameter gradients into `grads`.
    func backward(
        _ context: PolicyContext, plan: ConvPlan, samples: Range<Int>, worker: Int,
        arena g: FloatBuffer, into grads: FloatBuffer
    ) {
        let act = context.activations
        let values = parameters.values
        let s0 = samples.lowerBound
        let batch = samples.count
        let c = config.channels
        let cells = PolicyGeometry.cells
        let rows = batch * cells
        let top = plan.trunk.top.at(act, s0)
        let d1 = plan.trunk.d1.at(g, s0)

        // Value head, in reverse.
        let vc = config.valueChannels
        let hidden = config.valueHidden
        let fc = plan.valueFc.at(act, s0)
        let dfc = plan.dValueFc.at(g, s0)
        LinearKernels.backward(
            dfc, grads.at(valueHead.weight), grads.at(valueHead.bias), context.dValues.at(s0), fc,
            values.at(valueHead.weight), n: batch, ic: hidden, oc: 1)
        ActivationKernels.reluBackward(dfc, dfc, fc, count: batch * hidden)
        let vf = plan.valueFlat.at(act, s0)
        let dvf = plan.dValueFlat.at(g, s0)
        LinearKernels.backward(
            dvf, grads.at(valueFc.weight), grads.at(valueFc.bias), dfc, vf,
            values.at(valueFc.weight),
            n: batch, ic: vc * cells, oc: hidden)
        let vh = plan.valueHidden.at(act, s0)
        let dvh = plan.dValueHidden.at(g, s0)
        ConvKernels.channelsLast(dvh, dvf, batch: batch, channels: vc, pixels: cells)
        ActivationKernels.reluBackward(dvh, dvh, vh, count: rows * vc)
        LinearKernels.backward(
            d1, grads.at(valueConv.weight), grads.at(valueConv.bias), dvh, top,
            values.at(valueConv.weight), n: rows, ic: c, oc: vc)

        // Policy head, in reverse; its input gradient adds to the value head's.
        let pc = config.policyChannels
        let pf = plan.policyFlat.at(act, s0)
        let dpf = plan.dPolicyFlat.at(g, s0)
        LinearKernels.backward(
            dpf, grads.at(policyHead.weight), grads.at(policyHead.bias),
            context.dLogits.at(s0 * PolicyGeometry.actionCount), pf, values.at(policyHead.weight),
            n: batch, ic: pc * cells, oc: PolicyGeometry.actionCount)
        let ph = plan.policyHidden.at(act, s0)
        let dph = plan.dPolicyHidden.at(g, s0)
        ConvKernels.channelsLast(dph, dpf, batch: batch, channels: pc, pixels: cells)
        ActivationKernels.reluBackward(dph, dph, ph, count: rows * pc)
        LinearKernels.backward(
            d1, grads.at(policyConv.weight), grads.at(policyConv.bias), dph, top,
            values.at(policyConv.weight), n: rows, ic: c, oc: pc, accumulate: true)

        backwardTrunk(
            trunk, plan: plan.trunk, context: context, samples: samples, worker: worker,
            arena: g, into: grads)
    }
}

/// Where a layer's weight and bias live in the flat parameter allocation, and its LASER index.
struct LayerOffsets {
    let weight: Int
    let bias: Int
    /// Index among the reducible matrices, nil when the weight is not exposed to LASER.
    let matrix: Int?
}
