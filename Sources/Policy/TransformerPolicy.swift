// TransformerPolicy: one token per cell plus a summary token, learned 2-D positions, pre-norm
// layers (attention + GELU MLP), policy and value heads on the summary token. The tokens embed
// either the cell's observation planes or, with a conv trunk, the trunk's features of the cell.
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
            layers * (4 * dim * dim + 2 * dim * mlpHidden)
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

/// Sample-major regions of one layer's activations.
struct TransformerLayerPlan {
    let ln1: SampleSpan, mean1: SampleSpan, rstd1: SampleSpan, q: SampleSpan, k: SampleSpan,
        v: SampleSpan, probs: SampleSpan, att: SampleSpan
    let mid: SampleSpan, ln2: SampleSpan, mean2: SampleSpan, rstd2: SampleSpan, fcIn: SampleSpan,
        gelu: SampleSpan
}

/// Sample-major regions of a TransformerPolicy's activations for one batch capacity (per sample:
/// T = 101 tokens of width D).
struct TransformerPlan: NetworkPlan {
    let trunk: ConvTrunkPlan?
    let input: SampleSpan  // (100, planes) channels-last, without a trunk
    let embedded: SampleSpan  // (100, D)
    let residual: [SampleSpan]  // x_0...x_L (T, D)
    let layers: [TransformerLayerPlan]
    // (D), (D), (1), (1)
    let summary: SampleSpan, lnf: SampleSpan, meanf: SampleSpan, rstdf: SampleSpan
    let projected: SampleSpan  // (T, D) output of out_proj / fc_out before the residual add
    let factorScratch: SampleSpan  // (T, maximum rank)
    let activationCount: Int
    let dx: SampleSpan, dln: SampleSpan, dq: SampleSpan, dk: SampleSpan, dv: SampleSpan,
        datt: SampleSpan  // (T, D)
    let dfc: SampleSpan, dgelu: SampleSpan  // (T, F)
    let dsummary: SampleSpan, dlnf: SampleSpan  // (D)
    let dembedded: SampleSpan  // (100, D)
    let attentionScratch: SampleSpan  // (T, T) per worker
    let gradientCount: Int

    init(_ c: TransformerPolicyConfig, capacity: Int, maximumRank: Int) {
        let t = PolicyGeometry.cells + 1
        let d = c.dim
        let f = c.mlpHidden
        let cells = PolicyGeometry.cells
        var a = ArenaLayout(capacity: capacity)
        var g = ArenaLayout(capacity: capacity)
        trunk = c.trunkShape.map { ConvTrunkPlan($0, activations: &a, gradients: &g) }
        input = a.take(cells * c.planes)
        embedded = a.take(cells * d)
        residual = (0...c.layers).map { _ in a.take(t * d) }
        layers = (0..<c.layers).map { _ in
            TransformerLayerPlan(
                ln1: a.take(t * d), mean1: a.take(t), rstd1: a.take(t), q: a.take(t * d),
                k: a.take(t * d), v: a.take(t * d), probs: a.take(c.heads * t * t),
                att: a.take(t * d), mid: a.take(t * d), ln2: a.take(t * d), mean2: a.take(t),
                rstd2: a.take(t), fcIn: a.take(t * f), gelu: a.take(t * f))
        }
        summary = a.take(d)
        lnf = a.take(d)
        meanf = a.take(1)
        rstdf = a.take(1)
        projected = a.take(t * d)
        factorScratch = a.take(t * maximumRank)
        activationCount = a.count
        dx = g.take(t * d)
        dln = g.take(t * d)
        dq = g.take(t * d)
        dk = g.take(t * d)
        dv = g.take(t * d)
        datt = g.take(t * d)
        dfc = g.take(t * f)
        dgelu = g.take(t * f)
        dsummary = g.take(d)
        dlnf = g.take(d)
        dembedded = g.take(cells * d)
        attentionScratch = g.takeFixed(Parallel.workers * t * t)
        gradientCount = g.count
    }
}

/// Offsets of one pre-norm layer's parameters.
struct TransformerLayerOffsets {
    let ln1: (weight: Int, bias: Int)
    let q: LayerOffsets, k: LayerOffsets, v: LayerOffsets, out: LayerOffsets
    let ln2: (weight: Int, bias: Int)
    let fcIn: LayerOffsets, fcOut: LayerOffsets
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
        let f = config.mlpHidden
        let side = PolicyGeometry.boardSize
        var layout = ParameterLayout()
        config.trunkShape?.addParameters(to: &layout)
        layout.add("embed.weight", [d, config.embeddingInputs], decays: true)
        layout.add("embed.bias", [d])
        layout.add("pos_row", [side, d])
        layout.add("pos_col", [side, d])
        layout.add("summary_token", [d])
        for l in 0..<config.layers {
            let p = "layers.\(l)"
            layout.add("\(p).ln1.weight", [d])
            layout.add("\(p).ln1.bias", [d])
            for proj in ["q_proj", "k_proj", "v_proj", "out_proj"] {
                layout.add("\(p).attn.\(proj).weight", [d, d], decays: true)
                layout.add("\(p).attn.\(proj).bias", [d])
            }
            layout.add("\(p).ln2.weight", [d])
            layout.add("\(p).ln2.bias", [d])
            layout.add("\(p).mlp.fc_in.weight", [f, d], decays: true)
            layout.add("\(p).mlp.fc_in.bias", [f])
            layout.add("\(p).mlp.fc_out.weight", [d, f], decays: true)
            layout.add("\(p).mlp.fc_out.bias", [d])
        }
        layout.add("ln_f.weight", [d])
        layout.add("ln_f.bias", [d])
        layout.add("policy_head.weight", [PolicyGeometry.actionCount, d], decays: true)
        layout.add("policy_head.bias", [PolicyGeometry.actionCount])
        layout.add("value_head.weight", [1, d], decays: true)
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
        for (name, layer) in config.trunkShape?.reducibleMatrices ?? [] {
            try expose(name, layer: layer, type: "conv")
        }
        if config.embeddingInputs > 1 { try expose("embed.weight", layer: -1, type: "embed") }
        for l in 0..<config.layers {
            for proj in ["q_proj", "k_proj", "v_proj", "out_proj"] {
                try expose("layers.\(l).attn.\(proj).weight", layer: l, type: proj)
            }
            try expose("layers.\(l).mlp.fc_in.weight", layer: l, type: "fc_in")
            try expose("layers.\(l).mlp.fc_out.weight", layer: l, type: "fc_out")
        }
        try expose("policy_head.weight", layer: config.layers, type: "head")
        let reducible = ReducibleParameters(entries)
        self.reducible = reducible

        func linear(_ name: String) -> LayerOffsets {
            LayerOffsets(
                weight: store.offset(of: name + ".weight"), bias: store.offset(of: name + ".bias"),
                matrix: reducible.infos.firstIndex { $0.name == name + ".weight" })
        }
        func norm(_ name: String) -> (weight: Int, bias: Int) {
            (store.offset(of: name + ".weight"), store.offset(of: name + ".bias"))
        }
        trunk = config.trunkShape.map { ConvTrunk($0, layer: linear) }
        embed = linear("embed")
        posRow = store.offset(of: "pos_row")
        posCol = store.offset(of: "pos_col")
        summaryToken = store.offset(of: "summary_token")
        layerOffsets = (0..<config.layers).map { l in
            let p = "layers.\(l)"
            return TransformerLayerOffsets(
                ln1: norm("\(p).ln1"), q: linear("\(p).attn.q_proj"), k: linear("\(p).attn.k_proj"),
                v: linear("\(p).attn.v_proj"), out: linear("\(p).attn.out_proj"),
                ln2: norm("\(p).ln2"), fcIn: linear("\(p).mlp.fc_in"),
                fcOut: linear("\(p).mlp.fc_out"))
        }
        lnf = norm("ln_f")
        policyHead = linear("policy_head")
        valueHead = linear("value_head")
        initialise(seed: seed)
    }

    private func initialise(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let residualScale = 1 / Float(2 * max(1, config.layers)).squareRoot()
        for info in parameters.infos {
            let name = info.name
            if name.hasSuffix("ln1.weight") || name.hasSuffix("ln2.weight") || name == "ln_f.weight"
            {
                ParameterStore.import(
                    info, [Float](repeating: 1, count: info.count), into: parameters.values)
            } else if ConvTrunkShape.owns(name) {
                guard name.hasSuffix(".weight") else { continue }
                let std = ConvTrunkShape.initialStandardDeviation(
                    weight: name, fanIn: info.count / info.shape[0])
                let t = Tensor(randomNormal: info.shape, standardDeviation: std, using: &rng)
                ParameterStore.import(info, t.scalars, into: parameters.values)
            } else if !name.hasSuffix(".bias") {
                var std: Float = 0.02
                if name.hasSuffix("out_proj.weight") || name.hasSuffix("fc_out.weight") {
                    std *= residualScale
                }
                let t = Tensor(randomNormal: info.shape, standardDeviation: std, using: &rng)
                ParameterStore.import(info, t.scalars, into: parameters.values)
            }
        }
    }

    public var architectureName: String { "transformer" }
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
    public var reducedMatrixNames: [String] { reducible.reducedNames }
    public func factors(ofMatrix name: String) -> FactoredMatrix? {
        reducible.factors(named: name)
    }

    // MARK: Forward / backward

    public func makeContext(batchCapacity: Int) -> PolicyContext {
        plannedContext(batchCapacity: batchCapacity)
    }

    func makePlan(capacity: Int) -> TransformerPlan {
        TransformerPlan(config, capacity: capacity, maximumRank: reducible.maximumRank)
    }

    public func forward(_ context: PolicyContext, batch: Int) {
        forwardBatch(context, batch: batch)
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
        let f = config.mlpHidden
        let cells = PolicyGeometry.cells
        let t = cells + 1
        let side = PolicyGeometry.boardSize
        let rows = batch * t
        let scratch = plan.factorScratch.at(act, s0)

        // Tokens: the summary token, then each cell's embedding plus its row and column embeddings.
        let embedded = plan.embedded.at(act, s0)
        linear(
            embedded, embeddingInput(context, plan: plan, samples: samples, scratch: scratch),
            embed, rows: batch * cells, ic: config.embeddingInputs, oc: d, scratch: scratch)
        let x0 = plan.residual[0].at(act, s0)
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

        let projected = plan.projected.at(act, s0)
        for (l, layer) in layerOffsets.enumerated() {
            let p = plan.layers[l]
            let x = plan.residual[l].at(act, s0)
            let mid = p.mid.at(act, s0)
            let next = plan.residual[l + 1].at(act, s0)
            let ln1 = p.ln1.at(act, s0)
            let q = p.q.at(act, s0)
            let k = p.k.at(act, s0)
            let v = p.v.at(act, s0)
            let att = p.att.at(act, s0)
            LayerNormKernels.forward(
                ln1, p.mean1.at(act, s0), p.rstd1.at(act, s0), x,
                w.at(layer.ln1.weight), w.at(layer.ln1.bias), n: rows, c: d)
            linear(q, ln1, layer.q, rows: rows, ic: d, oc: d, scratch: scratch)
            linear(k, ln1, layer.k, rows: rows, ic: d, oc: d, scratch: scratch)
            linear(v, ln1, layer.v, rows: rows, ic: d, oc: d, scratch: scratch)
            AttentionKernels.forward(
                att, p.probs.at(act, s0), q, k, v, samples: 0..<batch,
                tokens: t, dim: d, heads: config.heads)
            linear(projected, att, layer.out, rows: rows, ic: d, oc: d, scratch: scratch)
            ActivationKernels.add(mid, x, projected, count: rows * d)

            let ln2 = p.ln2.at(act, s0)
            let fcIn = p.fcIn.at(act, s0)
            let gelu = p.gelu.at(act, s0)
            LayerNormKernels.forward(
                ln2, p.mean2.at(act, s0), p.rstd2.at(act, s0), mid,
                w.at(layer.ln2.weight), w.at(layer.ln2.bias), n: rows, c: d)
            linear(fcIn, ln2, layer.fcIn, rows: rows, ic: d, oc: f, scratch: scratch)
            ActivationKernels.geluForward(gelu, fcIn, count: rows * f)
            linear(projected, gelu, layer.fcOut, rows: rows, ic: f, oc: d, scratch: scratch)
            ActivationKernels.add(next, mid, projected, count: rows * d)
        }

        // Heads on the normalised summary token.
        let top = plan.residual[config.layers].at(act, s0)
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

    public func backward(_ context: PolicyContext, gradients: ParameterGradients) {
        backwardBatch(context, gradients: gradients)
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
        let f = config.mlpHidden
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
        let dx = plan.dx.at(g, s0)
        dx.update(repeating: 0, count: rows * d)
        for b in 0..<batch { (dx + b * t * d).update(from: dsummary + b * d, count: d) }

        // Layers, last first; dx holds ∂L/∂x_{l+1}, then ∂L/∂mid, then ∂L/∂x_l.
        let dln = plan.dln.at(g, s0)
        let dq = plan.dq.at(g, s0)
        let dk = plan.dk.at(g, s0)
        let dv = plan.dv.at(g, s0)
        let datt = plan.datt.at(g, s0)
        let dfc = plan.dfc.at(g, s0)
        let dgelu = plan.dgelu.at(g, s0)
        let attentionScratch = plan.attentionScratch.at(g) + worker * t * t
        for l in stride(from: config.layers - 1, through: 0, by: -1) {
            let layer = layerOffsets[l]
            let p = plan.layers[l]
            LinearKernels.backward(
                dgelu, dw.at(layer.fcOut.weight), dw.at(layer.fcOut.bias), dx,
                p.gelu.at(act, s0), w.at(layer.fcOut.weight), n: rows, ic: f, oc: d)
            ActivationKernels.geluBackward(dfc, p.fcIn.at(act, s0), dgelu, count: rows * f)
            LinearKernels.backward(
                dln, dw.at(layer.fcIn.weight), dw.at(layer.fcIn.bias), dfc,
                p.ln2.at(act, s0), w.at(layer.fcIn.weight), n: rows, ic: d, oc: f)
            LayerNormKernels.backward(
                dx, dw.at(layer.ln2.weight), dw.at(layer.ln2.bias), dln,
                p.mid.at(act, s0), w.at(layer.ln2.weight), p.mean2.at(act, s0),
                p.rstd2.at(act, s0), n: rows, c: d)

            LinearKernels.backward(
                datt, dw.at(layer.out.weight), dw.at(layer.out.bias), dx,
                p.att.at(act, s0), w.at(layer.out.weight), n: rows, ic: d, oc: d)
            let q = p.q.at(act, s0)
            let k = p.k.at(act, s0)
            let v = p.v.at(act, s0)
            AttentionKernels.backward(
                dq, dk, dv, datt, p.probs.at(act, s0), q, k, v,
                scratch: attentionScratch, samples: 0..<batch, tokens: t,
                dim: d, heads: config.heads)
            let ln1 = p.ln1.at(act, s0)
            LinearKernels.backward(
                dln, dw.at(layer.q.weight), dw.at(layer.q.bias), dq, ln1,
                w.at(layer.q.weight), n: rows, ic: d, oc: d)
            LinearKernels.backward(
                dln, dw.at(layer.k.weight), dw.at(layer.k.bias), dk, ln1,
                w.at(layer.k.weight), n: rows, ic: d, oc: d, accumulate: true)
            LinearKernels.backward(
                dln, dw.at(layer.v.weight), dw.at(layer.v.bias), dv, ln1,
                w.at(layer.v.weight), n: rows, ic: d, oc: d, accumulate: true)
            LayerNormKernels.backward(
                dx, dw.at(layer.ln1.weight), dw.at(layer.ln1.bias), dln,
                plan.residual[l].at(act, s0), w.at(layer.ln1.weight),
                p.mean1.at(act, s0), p.rstd1.at(act, s0), n: rows, c: d)
        }

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
