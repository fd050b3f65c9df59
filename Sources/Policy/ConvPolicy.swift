// ConvPolicy: a small ResNet (stem conv, residual blocks, AlphaZero-style policy and value heads).
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

    init(hyperparameters h: [String: String]) throws {
        self = try Hyperparameters.config(Self.self, from: h, architecture: "conv")
        try validate()
    }
}

/// Sample-major regions of a ConvPolicy's activations for one batch capacity (per sample: 100
/// board rows channels-last).
struct ConvPlan: NetworkPlan {
    // activations
    let input: SampleSpan  // (100, planes) channels-last observation
    let trunk: [SampleSpan]  // h_0...h_N (100, C)
    let inner: [SampleSpan]  // a_i (100, C), after conv1 + ReLU
    let policyHidden: SampleSpan  // (100, PC)
    let policyFlat: SampleSpan  // (PC·100) in PyTorch flatten order
    let valueHidden: SampleSpan  // (100, VC)
    let valueFlat: SampleSpan  // (VC·100)
    let valueFc: SampleSpan  // (hidden)
    let col: SampleSpan  // (100, 9·max(C, planes)) im2col scratch
    let factorScratch: SampleSpan  // (100, maximum rank)
    let activationCount: Int
    // gradients
    let d1: SampleSpan, d2: SampleSpan  // (100, C)
    let dcol: SampleSpan  // (100, 9C)
    let dPolicyHidden: SampleSpan, dPolicyFlat: SampleSpan, dValueHidden: SampleSpan,
        dValueFlat: SampleSpan, dValueFc: SampleSpan
    let gradientCount: Int

    init(_ c: ConvPolicyConfig, capacity: Int, maximumRank: Int) {
        let cells = PolicyGeometry.cells
        var a = ArenaLayout(capacity: capacity)
        input = a.take(cells * c.planes)
        trunk = (0...c.blocks).map { _ in a.take(cells * c.channels) }
        inner = (0..<c.blocks).map { _ in a.take(cells * c.channels) }
        policyHidden = a.take(cells * c.policyChannels)
        policyFlat = a.take(cells * c.policyChannels)
        valueHidden = a.take(cells * c.valueChannels)
        valueFlat = a.take(cells * c.valueChannels)
        valueFc = a.take(c.valueHidden)
        col = a.take(cells * 9 * max(c.channels, c.planes))
        factorScratch = a.take(cells * maximumRank)
        activationCount = a.count
        var g = ArenaLayout(capacity: capacity)
        d1 = g.take(cells * c.channels)
        d2 = g.take(cells * c.channels)
        dcol = g.take(cells * 9 * c.channels)
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
    private let stem: LayerOffsets
    private let blockLayers: [(conv1: LayerOffsets, conv2: LayerOffsets)]
    private let policyConv, policyHead, valueConv, valueFc, valueHead: LayerOffsets

    /// A network with freshly initialised weights (He-normal; the second conv of each block and
    /// the policy logits scaled down so training starts near the identity and a uniform policy).
    public init(config: ConvPolicyConfig, seed: UInt64) throws {
        try config.validate()
        self.config = config
        let c = config.channels
        let p = config.planes
        let cells = PolicyGeometry.cells
        var layout = ParameterLayout()
        layout.add("stem.weight", [c, p, 3, 3], decays: true, convKernel: true)
        layout.add("stem.bias", [c])
        for i in 0..<config.blocks {
            for conv in ["conv1", "conv2"] {
                layout.add(
                    "blocks.\(i).\(conv).weight", [c, c, 3, 3], decays: true, convKernel: true)
                layout.add("blocks.\(i).\(conv).bias", [c])
            }
        }
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

        var entries: [(info: WeightMatrixInfo, parameter: ParameterInfo)] = []
        func expose(_ name: String, layer: Int, type: String) throws {
            let info = try store.info(named: name)
            entries.append(
                (
                    WeightMatrixInfo(
                        name: name, layer: layer, type: type, rows: info.shape[0],
                        columns: info.count / info.shape[0]), info
                ))
        }
        try expose("stem.weight", layer: -1, type: "conv")
        for i in 0..<config.blocks {
            try expose("blocks.\(i).conv1.weight", layer: i, type: "conv")
            try expose("blocks.\(i).conv2.weight", layer: i, type: "conv")
        }
        // Heads sit after the stack; rank-1 matrices (value_conv, value_head) have nothing to reduce.
        if config.policyChannels > 1 {
            try expose("policy_conv.weight", layer: config.blocks, type: "head")
        }
        try expose("policy_head.weight", layer: config.blocks, type: "head")
        try expose("value_fc.weight", layer: config.blocks, type: "head")
        let reducible = ReducibleParameters(entries)
        self.reducible = reducible
        func layer(_ name: String) -> LayerOffsets {
            LayerOffsets(
                weight: store.offset(of: name + ".weight"), bias: store.offset(of: name + ".bias"),
                matrix: reducible.infos.firstIndex { $0.name == name + ".weight" })
        }
        stem = layer("stem")
        blockLayers = (0..<config.blocks).map {
            (layer("blocks.\($0).conv1"), layer("blocks.\($0).conv2"))
        }
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
            var std = (2 / Float(fanIn)).squareRoot()
            if info.name.hasSuffix("conv2.weight") { std *= 0.1 }
            if info.name == "policy_head.weight" || info.name == "value_head.weight" { std *= 0.1 }
            let t = Tensor(randomNormal: info.shape, standardDeviation: std, using: &rng)
            ParameterStore.import(info, t.scalars, into: parameters.values)
        }
    }

    public var architectureName: String { "conv" }
    public var planeCount: Int { config.planes }
    public var hyperparameters: [String: String] { config.hyperparameters }

    // MARK: ReducibleModel

    public var reducibleMatrices: [WeightMatrixInfo] { reducible.infos }
    public func weightMatrix(named name: String) throws -> Tensor {
        try reducible.matrix(named: name, in: parameters)
    }
    public func setWeightMatrix(named name: String, to value: WeightValue) throws {
        try reducible.setMatrix(named: name, to: value, in: parameters)
    }
    /// Names of the matrices currently held in factored form.
    public var reducedMatrixNames: [String] { reducible.reducedNames }

    // MARK: Forward / backward

    public func makeContext(batchCapacity: Int) -> PolicyContext {
        plannedContext(batchCapacity: batchCapacity)
    }

    func makePlan(capacity: Int) -> ConvPlan {
        ConvPlan(config, capacity: capacity, maximumRank: reducible.maximumRank)
    }

    /// out (rows, cout) = conv3x3(inp (rows, cin)) + bias via im2col; goes through the factored
    /// form when the kernel is reduced. `col` and `scratch` are the worker's scratch.
    private func conv3x3(
        _ out: FloatPointer, _ inp: ConstFloatPointer, _ layer: LayerOffsets, cin: Int, cout: Int,
        batch: Int, col: FloatPointer, scratch: FloatPointer
    ) {
        ConvKernels.im2col3x3(
            col, inp, batch: batch, height: PolicyGeometry.boardSize,
            width: PolicyGeometry.boardSize, channels: cin)
        linear(
            out, col, layer, rows: batch * PolicyGeometry.cells, ic: 9 * cin, oc: cout,
            scratch: scratch)
    }

    public func forward(_ context: PolicyContext, batch: Int) {
        forwardBatch(context, batch: batch)
    }

    /// The forward pass of samples `samples` (one worker's share of the batch).
    func forward(_ context: PolicyContext, plan: ConvPlan, samples: Range<Int>) {
        let act = context.activations
        let s0 = samples.lowerBound
        let batch = samples.count
        let c = config.channels
        let cells = PolicyGeometry.cells
        let rows = batch * cells
        let col = plan.col.at(act, s0)
        let scratch = plan.factorScratch.at(act, s0)

        ConvKernels.channelsLast(
            plan.input.at(act, s0), context.input.at(s0 * config.planes * cells), batch: batch,
            channels: config.planes, pixels: cells)
        let h0 = plan.trunk[0].at(act, s0)
        conv3x3(
            h0, plan.input.at(act, s0), stem, cin: config.planes, cout: c, batch: batch,
            col: col, scratch: scratch)
        ActivationKernels.reluForward(h0, h0, count: rows * c)
        for i in 0..<config.blocks {
            let h = plan.trunk[i].at(act, s0)
            let a = plan.inner[i].at(act, s0)
            let next = plan.trunk[i + 1].at(act, s0)
            conv3x3(
                a, h, blockLayers[i].conv1, cin: c, cout: c, batch: batch, col: col,
                scratch: scratch)
            ActivationKernels.reluForward(a, a, count: rows * c)
            conv3x3(
                next, a, blockLayers[i].conv2, cin: c, cout: c, batch: batch, col: col,
                scratch: scratch)
            ActivationKernels.add(next, next, h, count: rows * c)
            ActivationKernels.reluForward(next, next, count: rows * c)
        }
        let top = plan.trunk[config.blocks].at(act, s0)

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

    public func backward(_ context: PolicyContext, gradients: ParameterGradients) {
        backwardBatch(context, gradients: gradients)
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
        let side = PolicyGeometry.boardSize
        let top = plan.trunk[config.blocks].at(act, s0)
        let d1 = plan.d1.at(g, s0)
        let d2 = plan.d2.at(g, s0)
        let dcol = plan.dcol.at(g, s0)

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

        // Residual blocks, last first. d1 holds ∂L/∂h_{i+1}.
        let col = plan.col.at(act, s0)
        for i in stride(from: config.blocks - 1, through: 0, by: -1) {
            let h = plan.trunk[i].at(act, s0)
            let a = plan.inner[i].at(act, s0)
            let next = plan.trunk[i + 1].at(act, s0)
            let conv1 = blockLayers[i].conv1
            let conv2 = blockLayers[i].conv2
            ActivationKernels.reluBackward(d1, d1, next, count: rows * c)  // d1 = ∂L/∂(h + conv2)
            ConvKernels.im2col3x3(col, a, batch: batch, height: side, width: side, channels: c)
            LinearKernels.backward(
                dcol, grads.at(conv2.weight), grads.at(conv2.bias), d1, col,
                values.at(conv2.weight),
                n: rows, ic: 9 * c, oc: c)
            d2.update(repeating: 0, count: rows * c)
            ConvKernels.col2im3x3Add(d2, dcol, batch: batch, height: side, width: side, channels: c)
            ActivationKernels.reluBackward(d2, d2, a, count: rows * c)
            ConvKernels.im2col3x3(col, h, batch: batch, height: side, width: side, channels: c)
            LinearKernels.backward(
                dcol, grads.at(conv1.weight), grads.at(conv1.bias), d2, col,
                values.at(conv1.weight),
                n: rows, ic: 9 * c, oc: c)
            ConvKernels.col2im3x3Add(d1, dcol, batch: batch, height: side, width: side, channels: c)
        }

        // Stem: no gradient is needed for the observations.
        ActivationKernels.reluBackward(d1, d1, plan.trunk[0].at(act, s0), count: rows * c)
        ConvKernels.im2col3x3(
            col, plan.input.at(act, s0), batch: batch, height: side, width: side,
            channels: config.planes)
        LinearKernels.backward(
            nil, grads.at(stem.weight), grads.at(stem.bias), d1, col, values.at(stem.weight),
            n: rows, ic: 9 * config.planes, oc: c)
    }
}

/// Where a layer's weight and bias live in the flat parameter allocation, and its LASER index.
struct LayerOffsets {
    let weight: Int
    let bias: Int
    /// Index among the reducible matrices, nil when the weight is not exposed to LASER.
    let matrix: Int?
}
