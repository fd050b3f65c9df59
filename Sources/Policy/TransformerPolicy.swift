// TransformerPolicy: one token per cell plus a summary token, learned 2-D positions, pre-norm
// layers (attention + GELU MLP), policy and value heads on the summary token. The tokens embed
// either the cell's observation planes or, with a conv trunk, the trunk's features of the cell.
import Core
import Laser
import LinearAlgebra

/// Sizes of a `TransformerPolicy`.
///
/// Defaults (width 64, 3 layers, 4 heads, MLP 256; 152k parameters): every cell attends to every
/// cell, so depth matters less than in the conv net. Measured on the 2 shared cores (release,
/// load ≈ 5) at batch 64: 190 training samples/s (≈ 0.7 M an hour) and 470 inference samples/s;
/// 4 layers: 150 / 370; 2 layers: 260 / 730; width 96 × 4 layers: 80 / 225.
public struct TransformerPolicyConfig: Codable, Sendable, Equatable {
    /// Observation planes per cell (the Sokoban env emits 7).
    public var planes = 7
    /// Model width.
    public var dim = 64
    /// Pre-norm layers.
    public var layers = 3
    /// Attention heads (must divide `dim`).
    public var heads = 4
    /// Hidden units of each MLP.
    public var mlpHidden = 256
    /// Channels of the conv trunk the tokens are embedded from (`ConvPolicy`'s stem and residual
    /// blocks, so a trained one carries over by name); 0 embeds the observation planes directly.
    public var convChannels = 0
    /// Residual blocks of that trunk after its stem.
    public var convBlocks = 0

    public init(
        planes: Int = 7, dim: Int = 64, layers: Int = 3, heads: Int = 4, mlpHidden: Int = 256,
        convChannels: Int = 0, convBlocks: Int = 0
    ) {
        self.planes = planes
        self.dim = dim
        self.layers = layers
        self.heads = heads
        self.mlpHidden = mlpHidden
        self.convChannels = convChannels
        self.convBlocks = convBlocks
    }

    enum CodingKeys: String, CodingKey {
        case planes, dim, layers, heads, mlpHidden, convChannels, convBlocks
    }

    /// Checkpoints written before the conv trunk existed have no trunk keys: no trunk.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        planes = try c.decode(Int.self, forKey: .planes)
        dim = try c.decode(Int.self, forKey: .dim)
        layers = try c.decode(Int.self, forKey: .layers)
        heads = try c.decode(Int.self, forKey: .heads)
        mlpHidden = try c.decode(Int.self, forKey: .mlpHidden)
        convChannels = try c.decodeIfPresent(Int.self, forKey: .convChannels) ?? 0
        convBlocks = try c.decodeIfPresent(Int.self, forKey: .convBlocks) ?? 0
    }

    /// The conv trunk's sizes, nil without one.
    var trunkShape: ConvTrunkShape? {
        convChannels > 0
            ? ConvTrunkShape(planes: planes, channels: convChannels, blocks: convBlocks) : nil
    }

    /// The pre-norm layers (bidirectional: every cell attends to every cell).
    var stack: TransformerStack {
        TransformerStack(
            layers: layers, dim: dim, heads: heads, mlpHidden: mlpHidden, causal: false)
    }

    /// Features per cell the token embedding reads.
    var embeddingInputs: Int { convChannels > 0 ? convChannels : planes }

    /// Throws `PolicyError.invalidConfiguration` for a size outside its range.
    public func validate() throws {
        for (name, value, low, high) in [
            ("planes", planes, 1, 64), ("dim", dim, 1, 4096), ("layers", layers, 0, 64),
            ("heads", heads, 1, 64), ("mlpHidden", mlpHidden, 1, 16384),
            ("convChannels", convChannels, 0, 1024), ("convBlocks", convBlocks, 0, 64),
        ] where value < low || value > high {
            throw PolicyError.invalidConfiguration("\(name) = \(value) is outside \(low)...\(high)")
        }
        guard dim % heads == 0 else {
            throw PolicyError.invalidConfiguration("dim \(dim) is not a multiple of heads \(heads)")
        }
        guard convChannels > 0 || convBlocks == 0 else {
            throw PolicyError.invalidConfiguration(
                "convBlocks = \(convBlocks) needs a conv trunk (convChannels > 0)")
        }
        // Checked before anything is allocated: a checkpoint's metadata may ask for any size.
        let weights =
            stack.weightCount
            + 9 * convChannels * (planes + 2 * convBlocks * convChannels)
        guard weights <= PolicyLimits.maximumParameters else {
            throw PolicyError.invalidConfiguration(
                "a transformer of dim \(dim), \(layers) layers and MLP \(mlpHidden) has about \(weights) parameters; the limit is \(PolicyLimits.maximumParameters)"
            )
        }
    }

    var hyperparameters: [String: String] { Hyperparameters.strings(self) }

    init(hyperparameters h: [String: String]) throws {
        self = try Hyperparameters.config(Self.self, from: h, architecture: "transformer")
        try validate()
    }
}

/// Sample-major regions of a TransformerPolicy's activations for one batch capacity (per sample:
/// T = 101 tokens of width D).
struct TransformerPlan: NetworkPlan {
    let trunk: ConvTrunkPlan?
    let input: SampleSpan  // (100, planes) channels-last, without a trunk
    let embedded: SampleSpan  // (100, D)
    let stack: TransformerStackPlan
    // (D), (D), (1), (1)
    let summary: SampleSpan, lnf: SampleSpan, meanf: SampleSpan, rstdf: SampleSpan
    let factorScratch: SampleSpan  // (T, maximum rank)
    let activationCount: Int
    let dsummary: SampleSpan, dlnf: SampleSpan  // (D)
    let dembedded: SampleSpan  // (100, D)
    let gradientCount: Int

    init(_ c: TransformerPolicyConfig, capacity: Int, maximumRank: Int) {
        let t = PolicyGeometry.cells + 1
        let d = c.dim
        let cells = PolicyGeometry.cells
        var a = ArenaLayout(capacity: capacity)
        var g = ArenaLayout(capacity: capacity)
        trunk = c.trunkShape.map { ConvTrunkPlan($0, activations: &a, gradients: &g) }
        input = a.take(cells * c.planes)
        embedded = a.take(cells * d)
        stack = TransformerStackPlan(c.stack, tokens: t, activations: &a, gradients: &g)
        summary = a.take(d)
        lnf = a.take(d)
        meanf = a.take(1)
        rstdf = a.take(1)
        factorScratch = a.take(t * maximumRank)
        activationCount = a.count
        dsummary = g.take(d)
        dlnf = g.take(d)
        dembedded = g.take(cells * d)
        gradientCount = g.count
    }
}

/// A pre-norm transformer policy over the 100 cells plus a summary token.
public final class TransformerPolicy: PolicyNetwork, PlannedForward, @unchecked Sendable {
    public let config: TransformerPolicyConfig
    public let parameters: ParameterStore
    let reducible: ReducibleParameters
    private let trunk: ConvTrunk?
    private let embed: LayerOffsets
    private let posRow: Int, posCol: Int, summaryToken: Int
    private let layerOffsets: [TransformerLayerOffsets]
    private let lnf: (weight: Int, bias: Int)
    private let policyHead: LayerOffsets, valueHead: LayerOffsets

    /// A network with GPT-2-style initialisation (normal 0.02; residual projections scaled by
    /// 1/√(2·layers)).
    public init(config: TransformerPolicyConfig, seed: UInt64) throws {
        try config.validate()
        self.config = config
        let d = config.dim
        let side = PolicyGeometry.boardSize
        var layout = ParameterLayout()
        config.trunkShape?.addParameters(to: &layout)
        layout.add("embed.weight", [d, config.embeddingInputs], decays: true)
        layout.add("embed.bias", [d])
        layout.add("pos_row", [side, d])
        layout.add("pos_col", [side, d])
        layout.add("summary_token", [d])
        config.stack.addParameters(to: &layout)
        layout.add("ln_f.weight", [d])
        layout.add("ln_f.bias", [d])
        layout.add("policy_head.weight", [PolicyGeometry.actionCount, d], decays: true)
        layout.add("policy_head.bias", [PolicyGeometry.actionCount])
        layout.add("value_head.weight", [1, d], decays: true)
        layout.add("value_head.bias", [1])
        let store = ParameterStore(layout: layout)
        parameters = store

        var exposed: [(String, Int, String)] = []
        func expose(_ name: String, layer: Int, type: String) {
            exposed.append((name, layer, type))
        }
        for (name, layer) in config.trunkShape?.reducibleMatrices ?? [] {
            expose(name, layer: layer, type: "conv")
        }
        if config.embeddingInputs > 1 { expose("embed.weight", layer: -1, type: "embed") }
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
        trunk = config.trunkShape.map { ConvTrunk($0, layer: linear) }
        embed = linear("embed")
        posRow = store.offset(of: "pos_row")
        posCol = store.offset(of: "pos_col")
        summaryToken = store.offset(of: "summary_token")
        layerOffsets = config.stack.offsets(linear: linear, norm: norm)
        lnf = norm("ln_f")
        policyHead = linear("policy_head")
        valueHead = linear("value_head")
        TransformerStack.initialise(parameters, layers: config.layers, seed: seed)
    }

    public var architectureName: String { "transformer" }
    public var planeCount: Int { config.planes }
    public var hyperparameters: [String: String] { config.hyperparameters }

    // MARK: Forward / backward (the public passes and LASER access: PlannedForward)

    func makePlan(capacity: Int) -> TransformerPlan {
        TransformerPlan(config, capacity: capacity, maximumRank: reducible.maximumRank)
    }

    func prepareForward(_ context: PolicyContext, plan: TransformerPlan) {
        if let trunk, let trunkPlan = plan.trunk {
            prepareTrunk(trunk, plan: trunkPlan, context: context)
        }
    }

    /// The forward pass of samples `samples` (one worker's share of the batch).
    func forward(_ context: PolicyContext, plan: TransformerPlan, samples: Range<Int>) {
        let act = context.activations
        let w = parameters.values
        let s0 = samples.lowerBound
        let batch = samples.count
        let d = config.dim
        let cells = PolicyGeometry.cells
        let t = cells + 1
        let side = PolicyGeometry.boardSize
        let scratch = plan.factorScratch.at(act, s0)

        // Tokens: the summary token, then each cell's embedding plus its row and column embeddings.
        let embedded = plan.embedded.at(act, s0)
        linear(
            embedded, embeddingInput(context, plan: plan, samples: samples, scratch: scratch),
            embed, rows: batch * cells, ic: config.embeddingInputs, oc: d, scratch: scratch)
        let x0 = plan.stack.residual[0].at(act, s0)
        for b in 0..<batch {
            (x0 + b * t * d).update(from: w.at(summaryToken), count: d)
            for cell in 0..<cells {
                let dst = x0 + (b * t + 1 + cell) * d
                let src = embedded + (b * cells + cell) * d
                let row = w.at(posRow + (cell / side) * d)
                let col = w.at(posCol + (cell % side) * d)
                for i in 0..<d { dst[i] = src[i] + row[i] + col[i] }
            }
        }

        forwardStack(
            config.stack, offsets: layerOffsets, plan: plan.stack, activations: act, s0: s0,
            batch: batch, scratch: scratch)

        // Heads on the normalised summary token.
        let top = plan.stack.top.at(act, s0)
        let summary = plan.summary.at(act, s0)
        for b in 0..<batch { (summary + b * d).update(from: top + b * t * d, count: d) }
        let lnfOut = plan.lnf.at(act, s0)
        LayerNormKernels.forward(
            lnfOut, plan.meanf.at(act, s0), plan.rstdf.at(act, s0), summary,
            w.at(lnf.weight), w.at(lnf.bias), n: batch, c: d)
        linear(
            context.logits.at(s0 * PolicyGeometry.actionCount), lnfOut, policyHead, rows: batch,
            ic: d, oc: PolicyGeometry.actionCount, scratch: scratch)
        linear(
            context.values.at(s0), lnfOut, valueHead, rows: batch, ic: d, oc: 1, scratch: scratch)
    }

    /// What the token embedding reads per cell: the trunk's features after running it, or the
    /// observation planes channels-last.
    private func embeddingInput(
        _ context: PolicyContext, plan: TransformerPlan, samples: Range<Int>,
        scratch: FloatPointer
    ) -> FloatPointer {
        let act = context.activations
        let s0 = samples.lowerBound
        if let trunk, let trunkPlan = plan.trunk {
            forwardTrunk(
                trunk, plan: trunkPlan, context: context, samples: samples, scratch: scratch)
            return trunkPlan.top.at(act, s0)
        }
        let cells = PolicyGeometry.cells
        let input = plan.input.at(act, s0)
        ConvKernels.channelsLast(
            input, context.input.at(s0 * config.planes * cells), batch: samples.count,
            channels: config.planes, pixels: cells)
        return input
    }

    /// The backward pass of samples `samples`, adding parameter gradients into `dw`.
    func backward(
        _ context: PolicyContext, plan: TransformerPlan, samples: Range<Int>, worker: Int,
        arena g: FloatBuffer, into dw: FloatBuffer
    ) {
        let act = context.activations
        let w = parameters.values
        let s0 = samples.lowerBound
        let batch = samples.count
        let d = config.dim
        let cells = PolicyGeometry.cells
        let t = cells + 1
        let side = PolicyGeometry.boardSize
        let rows = batch * t

        // Heads.
        let lnfOut = plan.lnf.at(act, s0)
        let dlnf = plan.dlnf.at(g, s0)
        let dsummary = plan.dsummary.at(g, s0)
        LinearKernels.backward(
            dlnf, dw.at(policyHead.weight), dw.at(policyHead.bias),
            context.dLogits.at(s0 * PolicyGeometry.actionCount), lnfOut,
            w.at(policyHead.weight), n: batch, ic: d, oc: PolicyGeometry.actionCount)
        LinearKernels.backward(
            dlnf, dw.at(valueHead.weight), dw.at(valueHead.bias),
            context.dValues.at(s0), lnfOut, w.at(valueHead.weight), n: batch,
            ic: d, oc: 1, accumulate: true)
        dsummary.update(repeating: 0, count: batch * d)
        LayerNormKernels.backward(
            dsummary, dw.at(lnf.weight), dw.at(lnf.bias), dlnf,
            plan.summary.at(act, s0), w.at(lnf.weight), plan.meanf.at(act, s0),
            plan.rstdf.at(act, s0), n: batch, c: d)
        let dx = plan.stack.dx.at(g, s0)
        dx.update(repeating: 0, count: rows * d)
        for b in 0..<batch { (dx + b * t * d).update(from: dsummary + b * d, count: d) }

        backwardStack(
            config.stack, offsets: layerOffsets, plan: plan.stack, activations: act, s0: s0,
            batch: batch, worker: worker, arena: g, into: dw)

        // Tokens: summary token, positions, and the cell embedding (no gradient for observations).
        let dembedded = plan.dembedded.at(g, s0)
        let dsummaryToken = dw.at(summaryToken)
        let dposRow = dw.at(posRow)
        let dposCol = dw.at(posCol)
        for b in 0..<batch {
            let first = dx + b * t * d
            for i in 0..<d { dsummaryToken[i] += first[i] }
            for cell in 0..<cells {
                let src = dx + (b * t + 1 + cell) * d
                let row = dposRow + (cell / side) * d
                let col = dposCol + (cell % side) * d
                for i in 0..<d {
                    row[i] += src[i]
                    col[i] += src[i]
                }
                (dembedded + (b * cells + cell) * d).update(from: src, count: d)
            }
        }
        guard let trunk, let trunkPlan = plan.trunk else {
            LinearKernels.backward(
                nil, dw.at(embed.weight), dw.at(embed.bias), dembedded,
                plan.input.at(act, s0), w.at(embed.weight), n: batch * cells,
                ic: config.planes, oc: d)
            return
        }
        LinearKernels.backward(
            trunkPlan.d1.at(g, s0), dw.at(embed.weight), dw.at(embed.bias), dembedded,
            trunkPlan.top.at(act, s0), w.at(embed.weight), n: batch * cells,
            ic: config.embeddingInputs, oc: d)
        backwardTrunk(
            trunk, plan: trunkPlan, context: context, samples: samples, worker: worker,
            arena: g, into: dw)
    }
}
