// DecisionTransformer (Chen et al. 2021), the network of the LASER paper's Sokoban experiment: a
// causal transformer over the last K steps as (return-to-go, state, action) tokens, each state
// embedded by a small conv encoder, the action read off the current state's token.
import Core
import Laser
import LinearAlgebra

/// Sizes of a `DecisionTransformer`.
///
/// Defaults: K = 4 steps (11 tokens), width 64, 5 layers (the paper's appendix), 4 heads, MLP 256,
/// and a conv encoder of 32 channels and 2 residual blocks whose 10×10×32 features a linear layer
/// maps to the state token.
public struct DecisionTransformerConfig: Codable, Sendable, Equatable {
    /// Observation planes per state (the Sokoban env emits 7).
    public var planes = 7
    /// Steps of context (K).
    public var steps = 4
    public var dim = 64
    public var layers = 5
    public var heads = 4
    public var mlpHidden = 256
    /// The state encoder: a ConvPolicy-style stem and residual blocks.
    public var convChannels = 32
    public var convBlocks = 2
    /// Timesteps with their own embedding; later ones share the last.
    public var maxTimestep = 128
    /// The return-to-go the policy is conditioned on at an episode's start, in tenths (integers
    /// only in checkpoint metadata).
    public var targetReturnTenths = 110

    public init(
        planes: Int = 7, steps: Int = 4, dim: Int = 64, layers: Int = 5, heads: Int = 4,
        mlpHidden: Int = 256, convChannels: Int = 32, convBlocks: Int = 2,
        maxTimestep: Int = 128, targetReturnTenths: Int = 110
    ) {
        self.planes = planes
        self.steps = steps
        self.dim = dim
        self.layers = layers
        self.heads = heads
        self.mlpHidden = mlpHidden
        self.convChannels = convChannels
        self.convBlocks = convBlocks
        self.maxTimestep = maxTimestep
        self.targetReturnTenths = targetReturnTenths
    }

    var stack: TransformerStack {
        TransformerStack(layers: layers, dim: dim, heads: heads, mlpHidden: mlpHidden, causal: true)
    }

    var trunkShape: ConvTrunkShape {
        ConvTrunkShape(planes: planes, channels: convChannels, blocks: convBlocks)
    }

    /// Tokens per sample: (R, s, a) per step, without the current step's action.
    var tokens: Int { 3 * steps - 1 }

    /// Throws `PolicyError.invalidConfiguration` for a size outside its range.
    public func validate() throws {
        for (name, value, low, high) in [
            ("planes", planes, 1, 64), ("steps", steps, 1, 64), ("dim", dim, 1, 4096),
            ("layers", layers, 0, 64), ("heads", heads, 1, 64), ("mlpHidden", mlpHidden, 1, 16384),
            ("convChannels", convChannels, 1, 1024), ("convBlocks", convBlocks, 0, 64),
            ("maxTimestep", maxTimestep, 1, 100_000),
            ("targetReturnTenths", targetReturnTenths, -100_000, 100_000),
        ] where value < low || value > high {
            throw PolicyError.invalidConfiguration("\(name) = \(value) is outside \(low)...\(high)")
        }
        guard dim % heads == 0 else {
            throw PolicyError.invalidConfiguration("dim \(dim) is not a multiple of heads \(heads)")
        }
        let weights =
            stack.weightCount + 9 * convChannels * (planes + 2 * convBlocks * convChannels)
            + dim * convChannels * PolicyGeometry.cells + maxTimestep * dim
        guard weights <= PolicyLimits.maximumParameters else {
            throw PolicyError.invalidConfiguration(
                "a decision transformer of these sizes has about \(weights) parameters; the limit is \(PolicyLimits.maximumParameters)"
            )
        }
    }

    var hyperparameters: [String: String] { Hyperparameters.strings(self) }

    init(hyperparameters h: [String: String]) throws {
        self = try Hyperparameters.config(Self.self, from: h, architecture: "decision-transformer")
        try validate()
    }
}

/// Sample-major regions of a DecisionTransformer's activations for one batch capacity.
struct DecisionTransformerPlan: NetworkPlan {
    let trunk: ConvTrunkPlan  // K boards per sample
    let states: SampleSpan  // (K, D) state embeddings
    let stack: TransformerStackPlan  // T = 3K − 1 tokens
    // (D), (D), (1), (1): the current state's token at the top, and its layer norm.
    let current: SampleSpan, lnf: SampleSpan, meanf: SampleSpan, rstdf: SampleSpan
    let factorScratch: SampleSpan
    let activationCount: Int
    let dcurrent: SampleSpan, dlnf: SampleSpan  // (D)
    let dstates: SampleSpan  // (K, D)
    let gradientCount: Int

    init(_ c: DecisionTransformerConfig, capacity: Int, maximumRank: Int) {
        let d = c.dim
        var a = ArenaLayout(capacity: capacity)
        var g = ArenaLayout(capacity: capacity)
        trunk = ConvTrunkPlan(
            c.trunkShape, imagesPerSample: c.steps, activations: &a, gradients: &g)
        states = a.take(c.steps * d)
        stack = TransformerStackPlan(c.stack, tokens: c.tokens, activations: &a, gradients: &g)
        current = a.take(d)
        lnf = a.take(d)
        meanf = a.take(1)
        rstdf = a.take(1)
        factorScratch = a.take(max(c.tokens, c.steps * PolicyGeometry.cells) * maximumRank)
        activationCount = a.count
        dcurrent = g.take(d)
        dlnf = g.take(d)
        dstates = g.take(c.steps * d)
        gradientCount = g.count
    }
}

/// A Decision Transformer policy over K steps of (return-to-go, state, action).
public final class DecisionTransformer: SequencePolicy, PlannedForward, @unchecked Sendable {
    public let config: DecisionTransformerConfig
    public let parameters: ParameterStore
    let reducible: ReducibleParameters
    private let trunk: ConvTrunk
    private let stateEmbed: LayerOffsets, returnEmbed: LayerOffsets, actionEmbed: LayerOffsets
    private let timestep: Int, padToken: Int
    private let layerOffsets: [TransformerLayerOffsets]
    private let lnf: (weight: Int, bias: Int)
    private let policyHead: LayerOffsets, valueHead: LayerOffsets

    /// A network with GPT-2-style initialisation (normal 0.02; residual projections scaled by
    /// 1/√(2·layers)) and a He-initialised encoder.
    public init(config: DecisionTransformerConfig, seed: UInt64) throws {
        try config.validate()
        self.config = config
        let d = config.dim
        let actions = PolicyGeometry.actionCount
        var layout = ParameterLayout()
        config.trunkShape.addParameters(to: &layout)
        layout.add(
            "state_embed.weight", [d, PolicyGeometry.cells * config.convChannels], decays: true)
        layout.add("state_embed.bias", [d])
        layout.add("return_embed.weight", [d, 1], decays: true)
        layout.add("return_embed.bias", [d])
        layout.add("action_embed.weight", [d, actions], decays: true)
        layout.add("action_embed.bias", [d])
        layout.add("timestep_embed", [config.maxTimestep, d])
        layout.add("pad_token", [d])
        config.stack.addParameters(to: &layout)
        layout.add("ln_f.weight", [d])
        layout.add("ln_f.bias", [d])
        layout.add("policy_head.weight", [actions, d], decays: true)
        layout.add("policy_head.bias", [actions])
        layout.add("value_head.weight", [1, d], decays: true)
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
        expose("state_embed.weight", layer: -1, type: "embed")
        for (name, layer, type) in config.stack.reducibleMatrices {
            expose(name, layer: layer, type: type)
        }
        expose("policy_head.weight", layer: config.layers, type: "head")
        let reducible = try ReducibleParameters(store: store, exposing: exposed)
        self.reducible = reducible

        func linear(_ name: String) -> LayerOffsets { reducible.offsets(name, in: store) }
        func norm(_ name: String) -> (weight: Int, bias: Int) {
            (store.offset(of: name + ".weight"), store.offset(of: name + ".bias"))
        }
        trunk = ConvTrunk(config.trunkShape, layer: linear)
        stateEmbed = linear("state_embed")
        returnEmbed = linear("return_embed")
        actionEmbed = linear("action_embed")
        timestep = store.offset(of: "timestep_embed")
        padToken = store.offset(of: "pad_token")
        layerOffsets = config.stack.offsets(linear: linear, norm: norm)
        lnf = norm("ln_f")
        policyHead = linear("policy_head")
        valueHead = linear("value_head")
        TransformerStack.initialise(parameters, layers: config.layers, seed: seed)
    }

    public var architectureName: String { "decision-transformer" }
    public var planeCount: Int { inputLayout.planeCount }
    public var hyperparameters: [String: String] { config.hyperparameters }
    public var inputLayout: DecisionInputLayout {
        DecisionInputLayout(steps: config.steps, statePlanes: config.planes)
    }
    public var targetReturn: Float { Float(config.targetReturnTenths) / 10 }

    // MARK: Forward / backward (the public passes and LASER access: PlannedForward)

    func makePlan(capacity: Int) -> DecisionTransformerPlan {
        DecisionTransformerPlan(config, capacity: capacity, maximumRank: reducible.maximumRank)
    }

    func prepareForward(_ context: PolicyContext, plan: DecisionTransformerPlan) {
        prepareTrunk(trunk, plan: plan.trunk, context: context)
    }

    /// Token index of step k's state (its return is one before, its action one after).
    private func stateToken(_ k: Int) -> Int { 3 * k + 1 }

    /// The side plane of step k of sample b (see `DecisionInputLayout`).
    private func side(_ input: ConstFloatPointer, sample b: Int, step k: Int) -> ConstFloatPointer {
        let layout = inputLayout
        return input + (b * layout.steps + k) * layout.stepFloats
            + layout.statePlanes * PolicyGeometry.cells
    }

    private func timestepIndex(_ side: ConstFloatPointer) -> Int {
        let t = side[DecisionInputLayout.timestepCell]
        return t.isFinite ? min(max(0, Int(t)), config.maxTimestep - 1) : 0
    }

    /// The forward pass of samples `samples` (one worker's share of the batch).
    func forward(_ context: PolicyContext, plan: DecisionTransformerPlan, samples: Range<Int>) {
        let act = context.activations
        let w = parameters.values
        let s0 = samples.lowerBound
        let batch = samples.count
        let d = config.dim
        let k = config.steps
        let t = config.tokens
        let cells = PolicyGeometry.cells
        let layout = inputLayout
        let scratch = plan.factorScratch.at(act, s0)
        let input = ConstFloatPointer(context.input.at(s0 * layout.floatCount))

        // The K boards of each sample through the encoder, then to state tokens.
        let boards = plan.trunk.input.at(act, s0)
        for image in 0..<batch * k {
            ConvKernels.channelsLast(
                boards + image * cells * config.planes,
                input + image * layout.stepFloats, batch: 1, channels: config.planes,
                pixels: cells)
        }
        forwardTrunk(trunk, plan: plan.trunk, activations: act, samples: samples, scratch: scratch)
        let states = plan.states.at(act, s0)
        linear(
            states, plan.trunk.top.at(act, s0), stateEmbed, rows: batch * k,
            ic: cells * config.convChannels, oc: d, scratch: scratch)

        // Tokens: (R, s, a) per step plus the step's timestep embedding; padding steps are the
        // pad token throughout.
        let x0 = plan.stack.residual[0].at(act, s0)
        let returnWeight = w.at(returnEmbed.weight)
        let returnBias = w.at(returnEmbed.bias)
        let actionWeight = w.at(actionEmbed.weight)
        let actionBias = w.at(actionEmbed.bias)
        let pad = w.at(padToken)
        for b in 0..<batch {
            for step in 0..<k {
                let sidePlane = side(input, sample: b, step: step)
                let r = x0 + (b * t + stateToken(step) - 1) * d
                let s = r + d
                let hasAction = step < k - 1
                guard sidePlane[DecisionInputLayout.presentCell] > 0.5 else {
                    r.update(from: pad, count: d)
                    s.update(from: pad, count: d)
                    if hasAction { (s + d).update(from: pad, count: d) }
                    continue
                }
                let time = w.at(timestep + timestepIndex(sidePlane) * d)
                let rtg = sidePlane[DecisionInputLayout.returnCell]
                let state = states + (b * k + step) * d
                for i in 0..<d {
                    r[i] = returnWeight[i] * rtg + returnBias[i] + time[i]
                    s[i] = state[i] + time[i]
                }
                guard hasAction else { continue }
                let a = s + d
                let onehot = sidePlane + DecisionInputLayout.actionCell
                for i in 0..<d {
                    var sum = actionBias[i] + time[i]
                    for j in 0..<PolicyGeometry.actionCount {
                        sum += actionWeight[i * PolicyGeometry.actionCount + j] * onehot[j]
                    }
                    a[i] = sum
                }
            }
        }

        forwardStack(
            config.stack, offsets: layerOffsets, plan: plan.stack, activations: act, s0: s0,
            batch: batch, scratch: scratch)

        // Heads on the normalised token of the current state.
        let top = plan.stack.top.at(act, s0)
        let current = plan.current.at(act, s0)
        for b in 0..<batch {
            (current + b * d).update(from: top + (b * t + stateToken(k - 1)) * d, count: d)
        }
        let lnfOut = plan.lnf.at(act, s0)
        LayerNormKernels.forward(
            lnfOut, plan.meanf.at(act, s0), plan.rstdf.at(act, s0), current,
            w.at(lnf.weight), w.at(lnf.bias), n: batch, c: d)
        linear(
            context.logits.at(s0 * PolicyGeometry.actionCount), lnfOut, policyHead, rows: batch,
            ic: d, oc: PolicyGeometry.actionCount, scratch: scratch)
        linear(
            context.values.at(s0), lnfOut, valueHead, rows: batch, ic: d, oc: 1, scratch: scratch)
    }

    /// The backward pass of samples `samples`, adding parameter gradients into `dw`.
    func backward(
        _ context: PolicyContext, plan: DecisionTransformerPlan, samples: Range<Int>, worker: Int,
        arena g: FloatBuffer, into dw: FloatBuffer
    ) {
        let act = context.activations
        let w = parameters.values
        let s0 = samples.lowerBound
        let batch = samples.count
        let d = config.dim
        let k = config.steps
        let t = config.tokens
        let cells = PolicyGeometry.cells
        let input = ConstFloatPointer(context.input.at(s0 * inputLayout.floatCount))

        // Heads.
        let lnfOut = plan.lnf.at(act, s0)
        let dlnf = plan.dlnf.at(g, s0)
        let dcurrent = plan.dcurrent.at(g, s0)
        LinearKernels.backward(
            dlnf, dw.at(policyHead.weight), dw.at(policyHead.bias),
            context.dLogits.at(s0 * PolicyGeometry.actionCount), lnfOut,
            w.at(policyHead.weight), n: batch, ic: d, oc: PolicyGeometry.actionCount)
        LinearKernels.backward(
            dlnf, dw.at(valueHead.weight), dw.at(valueHead.bias),
            context.dValues.at(s0), lnfOut, w.at(valueHead.weight), n: batch,
            ic: d, oc: 1, accumulate: true)
        dcurrent.update(repeating: 0, count: batch * d)
        LayerNormKernels.backward(
            dcurrent, dw.at(lnf.weight), dw.at(lnf.bias), dlnf,
            plan.current.at(act, s0), w.at(lnf.weight), plan.meanf.at(act, s0),
            plan.rstdf.at(act, s0), n: batch, c: d)
        let dx = plan.stack.dx.at(g, s0)
        dx.update(repeating: 0, count: batch * t * d)
        for b in 0..<batch {
            (dx + (b * t + stateToken(k - 1)) * d).update(from: dcurrent + b * d, count: d)
        }

        backwardStack(
            config.stack, offsets: layerOffsets, plan: plan.stack, activations: act, s0: s0,
            batch: batch, worker: worker, arena: g, into: dw)

        // Tokens: dx now holds ∂L/∂x_0.
        let dstates = plan.dstates.at(g, s0)
        let dReturnWeight = dw.at(returnEmbed.weight)
        let dReturnBias = dw.at(returnEmbed.bias)
        let dActionWeight = dw.at(actionEmbed.weight)
        let dActionBias = dw.at(actionEmbed.bias)
        let dPad = dw.at(padToken)
        for b in 0..<batch {
            for step in 0..<k {
                let sidePlane = side(input, sample: b, step: step)
                let dr = dx + (b * t + stateToken(step) - 1) * d
                let ds = dr + d
                let hasAction = step < k - 1
                let dstate = dstates + (b * k + step) * d
                guard sidePlane[DecisionInputLayout.presentCell] > 0.5 else {
                    for i in 0..<d { dPad[i] += dr[i] + ds[i] + (hasAction ? ds[d + i] : 0) }
                    dstate.update(repeating: 0, count: d)
                    continue
                }
                let dTime = dw.at(timestep + timestepIndex(sidePlane) * d)
                let rtg = sidePlane[DecisionInputLayout.returnCell]
                for i in 0..<d {
                    dReturnWeight[i] += dr[i] * rtg
                    dReturnBias[i] += dr[i]
                    dTime[i] += dr[i] + ds[i]
                }
                dstate.update(from: ds, count: d)
                guard hasAction else { continue }
                let da = ds + d
                let onehot = sidePlane + DecisionInputLayout.actionCell
                for i in 0..<d {
                    dTime[i] += da[i]
                    dActionBias[i] += da[i]
                    for j in 0..<PolicyGeometry.actionCount {
                        dActionWeight[i * PolicyGeometry.actionCount + j] += da[i] * onehot[j]
                    }
                }
            }
        }
        LinearKernels.backward(
            plan.trunk.d1.at(g, s0), dw.at(stateEmbed.weight), dw.at(stateEmbed.bias), dstates,
            plan.trunk.top.at(act, s0), w.at(stateEmbed.weight), n: batch * k,
            ic: cells * config.convChannels, oc: d)
        backwardTrunk(
            trunk, plan: plan.trunk, context: context, samples: samples, worker: worker,
            arena: g, into: dw)
    }
}
