// TransformerPolicy: one token per cell plus a summary token, learned 2-D positions, pre-norm
// layers (attention + GELU MLP), policy and value heads on the summary token.
import Laser
import LinearAlgebra

/// Sizes of a `TransformerPolicy`.
public struct TransformerPolicyConfig: Codable, Sendable, Equatable {
    /// Observation planes per cell (the Sokoban env emits 7).
    public var planes = 7
    /// Model width.
    public var dim = 64
    /// Pre-norm layers.
    public var layers = 4
    /// Attention heads (must divide `dim`).
    public var heads = 4
    /// Hidden units of each MLP.
    public var mlpHidden = 256

    public init(planes: Int = 7, dim: Int = 64, layers: Int = 4, heads: Int = 4, mlpHidden: Int = 256) {
        self.planes = planes
        self.dim = dim
        self.layers = layers
        self.heads = heads
        self.mlpHidden = mlpHidden
    }

    /// Throws `PolicyError.invalidConfiguration` for a size outside its range.
    public func validate() throws {
        for (name, value, low, high) in [
            ("planes", planes, 1, 64), ("dim", dim, 1, 4096), ("layers", layers, 0, 64),
            ("heads", heads, 1, 64), ("mlpHidden", mlpHidden, 1, 16384),
        ] where value < low || value > high {
            throw PolicyError.invalidConfiguration("\(name) = \(value) is outside \(low)...\(high)")
        }
        guard dim % heads == 0 else {
            throw PolicyError.invalidConfiguration("dim \(dim) is not a multiple of heads \(heads)")
        }
    }

    var hyperparameters: [String: String] {
        ["planes": "\(planes)", "dim": "\(dim)", "layers": "\(layers)", "heads": "\(heads)",
         "mlp_hidden": "\(mlpHidden)"]
    }

    init(hyperparameters h: [String: String]) throws {
        func int(_ key: String) throws -> Int {
            guard let text = h[key], let value = Int(text) else {
                throw PolicyError.invalidCheckpoint("transformer hyperparameter '\(key)' missing or not an integer")
            }
            return value
        }
        self.init(planes: try int("planes"), dim: try int("dim"), layers: try int("layers"),
                  heads: try int("heads"), mlpHidden: try int("mlp_hidden"))
        try validate()
    }
}

/// Offsets of one layer's activations.
struct TransformerLayerPlan {
    let ln1: Int, mean1: Int, rstd1: Int, q: Int, k: Int, v: Int, probs: Int, att: Int, mid: Int
    let ln2: Int, mean2: Int, rstd2: Int, fcIn: Int, gelu: Int
}

/// Offsets of a TransformerPolicy's activations for one batch capacity.
struct TransformerPlan {
    let input: Int  // (B, 100, planes) channels-last
    let embedded: Int  // (B·100, D)
    let residual: [Int]  // x_0...x_L (B, T, D)
    let layers: [TransformerLayerPlan]
    let summary: Int, lnf: Int, meanf: Int, rstdf: Int  // (B, D), (B, D), (B), (B)
    let projected: Int  // (B·T, D) output of out_proj / fc_out before the residual add
    let factorScratch: Int  // (B·T, maximum rank)
    let activationCount: Int
    let dx: Int, dln: Int, dq: Int, dk: Int, dv: Int, datt: Int  // (B·T, D)
    let dfc: Int, dgelu: Int  // (B·T, F)
    let dsummary: Int, dlnf: Int  // (B, D)
    let dembedded: Int  // (B·100, D)
    let attentionScratch: Int  // (T, T) per worker
    let gradientCount: Int

    static let workers = 2

    init(_ c: TransformerPolicyConfig, capacity b: Int, maximumRank: Int) {
        let t = PolicyGeometry.cells + 1, d = c.dim, f = c.mlpHidden, rows = b * t
        var n = 0
        func take(_ count: Int) -> Int {
            defer { n += (count + 15) / 16 * 16 }
            return n
        }
        input = take(b * PolicyGeometry.cells * c.planes)
        embedded = take(b * PolicyGeometry.cells * d)
        residual = (0...c.layers).map { _ in take(rows * d) }
        layers = (0..<c.layers).map { _ in
            TransformerLayerPlan(
                ln1: take(rows * d), mean1: take(rows), rstd1: take(rows), q: take(rows * d),
                k: take(rows * d), v: take(rows * d), probs: take(b * c.heads * t * t),
                att: take(rows * d), mid: take(rows * d), ln2: take(rows * d), mean2: take(rows),
                rstd2: take(rows), fcIn: take(rows * f), gelu: take(rows * f))
        }
        summary = take(b * d)
        lnf = take(b * d)
        meanf = take(b)
        rstdf = take(b)
        projected = take(rows * d)
        factorScratch = take(rows * maximumRank)
        activationCount = n
        n = 0
        dx = take(rows * d)
        dln = take(rows * d)
        dq = take(rows * d)
        dk = take(rows * d)
        dv = take(rows * d)
        datt = take(rows * d)
        dfc = take(rows * f)
        dgelu = take(rows * f)
        dsummary = take(b * d)
        dlnf = take(b * d)
        dembedded = take(b * PolicyGeometry.cells * d)
        attentionScratch = take(TransformerPlan.workers * t * t)
        gradientCount = n
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
public final class TransformerPolicy: PolicyNetwork, @unchecked Sendable {
    public let config: TransformerPolicyConfig
    public let parameters: ParameterStore
    let reducible: ReducibleParameters
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
        let d = config.dim, f = config.mlpHidden, side = PolicyGeometry.boardSize
        var layout = ParameterLayout()
        layout.add("embed.weight", [d, config.planes], decays: true)
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
                (WeightMatrixInfo(name: name, layer: layer, type: type, rows: info.shape[0],
                                  columns: info.shape[1]), info))
        }
        if config.planes > 1 { try expose("embed.weight", layer: -1, type: "embed") }
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
        embed = linear("embed")
        posRow = store.offset(of: "pos_row")
        posCol = store.offset(of: "pos_col")
        summaryToken = store.offset(of: "summary_token")
        layerOffsets = (0..<config.layers).map { l in
            let p = "layers.\(l)"
            return TransformerLayerOffsets(
                ln1: norm("\(p).ln1"), q: linear("\(p).attn.q_proj"), k: linear("\(p).attn.k_proj"),
                v: linear("\(p).attn.v_proj"), out: linear("\(p).attn.out_proj"),
                ln2: norm("\(p).ln2"), fcIn: linear("\(p).mlp.fc_in"), fcOut: linear("\(p).mlp.fc_out"))
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
            if name.hasSuffix("ln1.weight") || name.hasSuffix("ln2.weight") || name == "ln_f.weight" {
                ParameterStore.import(info, [Float](repeating: 1, count: info.count), into: parameters.values)
            } else if !name.hasSuffix(".bias") {
                var std: Float = 0.02
                if name.hasSuffix("out_proj.weight") || name.hasSuffix("fc_out.weight") { std *= residualScale }
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

    // MARK: Forward / backward

    public func makeContext(batchCapacity: Int) -> PolicyContext {
        precondition(batchCapacity >= 1, "batch capacity must be positive")
        let plan = TransformerPlan(config, capacity: batchCapacity, maximumRank: reducible.maximumRank)
        return PolicyContext(
            owner: self, batchCapacity: batchCapacity, planeCount: config.planes,
            activationCount: plan.activationCount, gradientCount: plan.gradientCount, plan: plan)
    }

    private func linear(
        _ out: FloatPointer, _ inp: ConstFloatPointer, _ layer: LayerOffsets, rows: Int, ic: Int,
        oc: Int, scratch: FloatPointer
    ) {
        let values = parameters.values
        LinearKernels.forward(
            out, inp, values.at(layer.weight), values.at(layer.bias), n: rows, ic: ic, oc: oc,
            reduced: layer.matrix.flatMap { reducible.reduced[$0] }, scratch: scratch)
    }

    public func forward(_ context: PolicyContext, batch: Int) {
        precondition(context.owner == ObjectIdentifier(self), "context belongs to another model")
        precondition(batch >= 1 && batch <= context.batchCapacity, "batch outside the context")
        let plan = context.plan as! TransformerPlan
        let act = context.activations, w = parameters.values
        let d = config.dim, f = config.mlpHidden, cells = PolicyGeometry.cells, t = cells + 1
        let side = PolicyGeometry.boardSize, rows = batch * t
        let scratch = act.at(plan.factorScratch)
        context.batch = batch

        // Tokens: the summary token, then each cell's embedding plus its row and column embeddings.
        ConvKernels.channelsLast(act.at(plan.input), context.input.pointer, batch: batch,
                                 channels: config.planes, pixels: cells)
        let embedded = act.at(plan.embedded)
        linear(embedded, act.at(plan.input), embed, rows: batch * cells, ic: config.planes, oc: d,
               scratch: scratch)
        let x0 = act.at(plan.residual[0])
        for b in 0..<batch {
            (x0 + b * t * d).update(from: w.at(summaryToken), count: d)
            for cell in 0..<cells {
                let dst = x0 + (b * t + 1 + cell) * d, src = embedded + (b * cells + cell) * d
                let row = w.at(posRow + (cell / side) * d), col = w.at(posCol + (cell % side) * d)
                for i in 0..<d { dst[i] = src[i] + row[i] + col[i] }
            }
        }

        let projected = act.at(plan.projected)
        for (l, layer) in layerOffsets.enumerated() {
            let p = plan.layers[l]
            let x = act.at(plan.residual[l]), mid = act.at(p.mid), next = act.at(plan.residual[l + 1])
            let ln1 = act.at(p.ln1), q = act.at(p.q), k = act.at(p.k), v = act.at(p.v), att = act.at(p.att)
            LayerNormKernels.forward(ln1, act.at(p.mean1), act.at(p.rstd1), x, w.at(layer.ln1.weight),
                                     w.at(layer.ln1.bias), n: rows, c: d)
            linear(q, ln1, layer.q, rows: rows, ic: d, oc: d, scratch: scratch)
            linear(k, ln1, layer.k, rows: rows, ic: d, oc: d, scratch: scratch)
            linear(v, ln1, layer.v, rows: rows, ic: d, oc: d, scratch: scratch)
            Parallel.split(batch) { range in
                AttentionKernels.forward(att, act.at(p.probs), q, k, v, samples: range, tokens: t,
                                         dim: d, heads: config.heads)
            }
            linear(projected, att, layer.out, rows: rows, ic: d, oc: d, scratch: scratch)
            ActivationKernels.add(mid, x, projected, count: rows * d)

            let ln2 = act.at(p.ln2), fcIn = act.at(p.fcIn), gelu = act.at(p.gelu)
            LayerNormKernels.forward(ln2, act.at(p.mean2), act.at(p.rstd2), mid, w.at(layer.ln2.weight),
                                     w.at(layer.ln2.bias), n: rows, c: d)
            linear(fcIn, ln2, layer.fcIn, rows: rows, ic: d, oc: f, scratch: scratch)
            ActivationKernels.geluForward(gelu, fcIn, count: rows * f)
            linear(projected, gelu, layer.fcOut, rows: rows, ic: f, oc: d, scratch: scratch)
            ActivationKernels.add(next, mid, projected, count: rows * d)
        }

        // Heads on the normalised summary token.
        let top = act.at(plan.residual[config.layers]), summary = act.at(plan.summary)
        for b in 0..<batch { (summary + b * d).update(from: top + b * t * d, count: d) }
        let lnfOut = act.at(plan.lnf)
        LayerNormKernels.forward(lnfOut, act.at(plan.meanf), act.at(plan.rstdf), summary,
                                 w.at(lnf.weight), w.at(lnf.bias), n: batch, c: d)
        linear(context.logits.pointer, lnfOut, policyHead, rows: batch, ic: d,
               oc: PolicyGeometry.actionCount, scratch: scratch)
        linear(context.values.pointer, lnfOut, valueHead, rows: batch, ic: d, oc: 1, scratch: scratch)
    }

    public func backward(_ context: PolicyContext, gradients: ParameterGradients) {
        precondition(context.owner == ObjectIdentifier(self), "context belongs to another model")
        precondition(gradients.store === parameters, "gradients belong to another model")
        let plan = context.plan as! TransformerPlan
        let act = context.activations, g = context.gradients(), w = parameters.values
        let dw = gradients.buffer
        let batch = context.batch
        let d = config.dim, f = config.mlpHidden, cells = PolicyGeometry.cells, t = cells + 1
        let side = PolicyGeometry.boardSize, rows = batch * t

        // Heads.
        let lnfOut = act.at(plan.lnf), dlnf = g.at(plan.dlnf), dsummary = g.at(plan.dsummary)
        LinearKernels.backward(dlnf, dw.at(policyHead.weight), dw.at(policyHead.bias),
                               context.dLogits.pointer, lnfOut, w.at(policyHead.weight), n: batch,
                               ic: d, oc: PolicyGeometry.actionCount)
        LinearKernels.backward(dlnf, dw.at(valueHead.weight), dw.at(valueHead.bias),
                               context.dValues.pointer, lnfOut, w.at(valueHead.weight), n: batch,
                               ic: d, oc: 1, accumulate: true)
        dsummary.update(repeating: 0, count: batch * d)
        LayerNormKernels.backward(dsummary, dw.at(lnf.weight), dw.at(lnf.bias), dlnf,
                                  act.at(plan.summary), w.at(lnf.weight), act.at(plan.meanf),
                                  act.at(plan.rstdf), n: batch, c: d)
        let dx = g.at(plan.dx)
        dx.update(repeating: 0, count: rows * d)
        for b in 0..<batch { (dx + b * t * d).update(from: dsummary + b * d, count: d) }

        // Layers, last first; dx holds ∂L/∂x_{l+1}, then ∂L/∂mid, then ∂L/∂x_l.
        let dln = g.at(plan.dln), dq = g.at(plan.dq), dk = g.at(plan.dk), dv = g.at(plan.dv)
        let datt = g.at(plan.datt), dfc = g.at(plan.dfc), dgelu = g.at(plan.dgelu)
        for l in stride(from: config.layers - 1, through: 0, by: -1) {
            let layer = layerOffsets[l], p = plan.layers[l]
            LinearKernels.backward(dgelu, dw.at(layer.fcOut.weight), dw.at(layer.fcOut.bias), dx,
                                   act.at(p.gelu), w.at(layer.fcOut.weight), n: rows, ic: f, oc: d)
            ActivationKernels.geluBackward(dfc, act.at(p.fcIn), dgelu, count: rows * f)
            LinearKernels.backward(dln, dw.at(layer.fcIn.weight), dw.at(layer.fcIn.bias), dfc,
                                   act.at(p.ln2), w.at(layer.fcIn.weight), n: rows, ic: d, oc: f)
            LayerNormKernels.backward(dx, dw.at(layer.ln2.weight), dw.at(layer.ln2.bias), dln,
                                      act.at(p.mid), w.at(layer.ln2.weight), act.at(p.mean2),
                                      act.at(p.rstd2), n: rows, c: d)

            LinearKernels.backward(datt, dw.at(layer.out.weight), dw.at(layer.out.bias), dx,
                                   act.at(p.att), w.at(layer.out.weight), n: rows, ic: d, oc: d)
            let q = act.at(p.q), k = act.at(p.k), v = act.at(p.v), probs = act.at(p.probs)
            let attentionScratch = g.at(plan.attentionScratch)
            Parallel.split(batch) { range, worker in
                AttentionKernels.backward(dq, dk, dv, datt, probs, q, k, v,
                                          scratch: attentionScratch + worker * t * t, samples: range,
                                          tokens: t, dim: d, heads: config.heads)
            }
            let ln1 = act.at(p.ln1)
            LinearKernels.backward(dln, dw.at(layer.q.weight), dw.at(layer.q.bias), dq, ln1,
                                   w.at(layer.q.weight), n: rows, ic: d, oc: d)
            LinearKernels.backward(dln, dw.at(layer.k.weight), dw.at(layer.k.bias), dk, ln1,
                                   w.at(layer.k.weight), n: rows, ic: d, oc: d, accumulate: true)
            LinearKernels.backward(dln, dw.at(layer.v.weight), dw.at(layer.v.bias), dv, ln1,
                                   w.at(layer.v.weight), n: rows, ic: d, oc: d, accumulate: true)
            LayerNormKernels.backward(dx, dw.at(layer.ln1.weight), dw.at(layer.ln1.bias), dln,
                                      act.at(plan.residual[l]), w.at(layer.ln1.weight),
                                      act.at(p.mean1), act.at(p.rstd1), n: rows, c: d)
        }

        // Tokens: summary token, positions, and the cell embedding (no gradient for observations).
        let dembedded = g.at(plan.dembedded)
        let dsummaryToken = dw.at(summaryToken), dposRow = dw.at(posRow), dposCol = dw.at(posCol)
        for b in 0..<batch {
            let first = dx + b * t * d
            for i in 0..<d { dsummaryToken[i] += first[i] }
            for cell in 0..<cells {
                let src = dx + (b * t + 1 + cell) * d
                let row = dposRow + (cell / side) * d, col = dposCol + (cell % side) * d
                for i in 0..<d {
                    row[i] += src[i]
                    col[i] += src[i]
                }
                (dembedded + (b * cells + cell) * d).update(from: src, count: d)
            }
        }
        LinearKernels.backward(nil, dw.at(embed.weight), dw.at(embed.bias), dembedded,
                               act.at(plan.input), w.at(embed.weight), n: batch * cells,
                               ic: config.planes, oc: d)
    }
}
