// The pre-norm layers both transformer architectures share (x ← x + attn(LN(x)); x ← x + MLP(LN(x)),
// GELU MLP): their parameter names, LASER addresses, activation plans and forward/backward passes.
// TransformerPolicy runs them over the board's cells (bidirectional), DecisionTransformer over
// (return, state, action) tokens (causal).

import Core
import LinearAlgebra

/// Sizes of a stack of pre-norm layers.
struct TransformerStack {
    let layers: Int
    let dim: Int
    let heads: Int
    let mlpHidden: Int
    /// Each token attends only to itself and earlier tokens.
    let causal: Bool

    /// Adds `layers.L.{ln1, attn.{q,k,v,out}_proj, ln2, mlp.fc_in, mlp.fc_out}` to `layout`.
    func addParameters(to layout: inout ParameterLayout) {
        let d = dim
        let f = mlpHidden
        for l in 0..<layers {
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
    }

    /// The stack's matrices as LASER sees them: per layer q_proj, k_proj, v_proj, out_proj, fc_in,
    /// fc_out.
    var reducibleMatrices: [(name: String, layer: Int, type: String)] {
        (0..<layers).flatMap { l in
            ["q_proj", "k_proj", "v_proj", "out_proj"].map {
                (name: "layers.\(l).attn.\($0).weight", layer: l, type: $0)
            } + [
                (name: "layers.\(l).mlp.fc_in.weight", layer: l, type: "fc_in"),
                (name: "layers.\(l).mlp.fc_out.weight", layer: l, type: "fc_out"),
            ]
        }
    }

    /// Parameters in the stack's weight matrices (for the size check before allocating).
    var weightCount: Int { layers * (4 * dim * dim + 2 * dim * mlpHidden) }

    /// Whether `name` is a layer-norm weight (initialised to 1).
    static func isNormWeight(_ name: String) -> Bool {
        name.hasSuffix("ln1.weight") || name.hasSuffix("ln2.weight")
    }

    /// Whether `name` projects back into the residual stream (initialised smaller, GPT-2 style).
    static func isResidualProjection(_ name: String) -> Bool {
        name.hasSuffix("out_proj.weight") || name.hasSuffix("fc_out.weight")
    }

    /// Draws a transformer's initial weights from `seed`, as both architectures do: norms at 1,
    /// conv-trunk kernels He-style, other matrices N(0, 0.02) (residual projections scaled by
    /// 1/√(2·layers), GPT-2 style), biases at 0.
    static func initialise(_ parameters: ParameterStore, layers: Int, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let residualScale = 1 / Float(2 * max(1, layers)).squareRoot()
        for info in parameters.infos {
            let name = info.name
            if isNormWeight(name) || name == "ln_f.weight" {
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
                if isResidualProjection(name) { std *= residualScale }
                let t = Tensor(randomNormal: info.shape, standardDeviation: std, using: &rng)
                ParameterStore.import(info, t.scalars, into: parameters.values)
            }
        }
    }

    /// The layers' offsets; `linear(name)` and `norm(name)` look a layer up without `.weight`.
    func offsets(
        linear: (String) -> LayerOffsets, norm: (String) -> (weight: Int, bias: Int)
    ) -> [TransformerLayerOffsets] {
        (0..<layers).map { l in
            let p = "layers.\(l)"
            return TransformerLayerOffsets(
                ln1: norm("\(p).ln1"), q: linear("\(p).attn.q_proj"), k: linear("\(p).attn.k_proj"),
                v: linear("\(p).attn.v_proj"), out: linear("\(p).attn.out_proj"),
                ln2: norm("\(p).ln2"), fcIn: linear("\(p).mlp.fc_in"),
                fcOut: linear("\(p).mlp.fc_out"))
        }
    }

    /// Per-layer activation regions for `tokens` tokens per sample.
    func layerPlans(tokens t: Int, activations a: inout ArenaLayout) -> [TransformerLayerPlan] {
        let d = dim
        let f = mlpHidden
        return (0..<layers).map { _ in
            TransformerLayerPlan(
                ln1: a.take(t * d), mean1: a.take(t), rstd1: a.take(t), q: a.take(t * d),
                k: a.take(t * d), v: a.take(t * d), probs: a.take(heads * t * t),
                att: a.take(t * d), mid: a.take(t * d), ln2: a.take(t * d), mean2: a.take(t),
                rstd2: a.take(t), fcIn: a.take(t * f), gelu: a.take(t * f))
        }
    }
}

/// Sample-major regions of one layer's activations.
struct TransformerLayerPlan {
    let ln1: SampleSpan, mean1: SampleSpan, rstd1: SampleSpan, q: SampleSpan, k: SampleSpan,
        v: SampleSpan, probs: SampleSpan, att: SampleSpan
    let mid: SampleSpan, ln2: SampleSpan, mean2: SampleSpan, rstd2: SampleSpan, fcIn: SampleSpan,
        gelu: SampleSpan
}

/// Everything a stack's passes read and write: the residual stream x_0...x_L, the layers'
/// activations, and the gradient scratch.
struct TransformerStackPlan {
    let tokens: Int
    let residual: [SampleSpan]  // x_0...x_L (T, D)
    let layers: [TransformerLayerPlan]
    let projected: SampleSpan  // (T, D) output of out_proj / fc_out before the residual add
    let dx: SampleSpan, dln: SampleSpan, dq: SampleSpan, dk: SampleSpan, dv: SampleSpan,
        datt: SampleSpan  // (T, D)
    let dfc: SampleSpan, dgelu: SampleSpan  // (T, F)
    let attentionScratch: SampleSpan  // (T, T) per worker

    init(
        _ stack: TransformerStack, tokens t: Int, activations a: inout ArenaLayout,
        gradients g: inout ArenaLayout
    ) {
        let d = stack.dim
        let f = stack.mlpHidden
        tokens = t
        residual = (0...stack.layers).map { _ in a.take(t * d) }
        layers = stack.layerPlans(tokens: t, activations: &a)
        projected = a.take(t * d)
        dx = g.take(t * d)
        dln = g.take(t * d)
        dq = g.take(t * d)
        dk = g.take(t * d)
        dv = g.take(t * d)
        datt = g.take(t * d)
        dfc = g.take(t * f)
        dgelu = g.take(t * f)
        attentionScratch = g.takeFixed(Parallel.workers * t * t)
    }

    /// The stack's output x_L.
    var top: SampleSpan { residual[residual.count - 1] }
}

/// Offsets of one pre-norm layer's parameters.
struct TransformerLayerOffsets {
    let ln1: (weight: Int, bias: Int)
    let q: LayerOffsets, k: LayerOffsets, v: LayerOffsets, out: LayerOffsets
    let ln2: (weight: Int, bias: Int)
    let fcIn: LayerOffsets, fcOut: LayerOffsets
}

extension PlannedForward {
    /// Runs the layers over samples `s0 ..< s0 + batch` from x_0 (already written) to x_L.
    func forwardStack(
        _ stack: TransformerStack, offsets: [TransformerLayerOffsets], plan: TransformerStackPlan,
        activations act: FloatBuffer, s0: Int, batch: Int, scratch: FloatPointer
    ) {
        let w = parameters.values
        let d = stack.dim
        let f = stack.mlpHidden
        let t = plan.tokens
        let rows = batch * t
        let projected = plan.projected.at(act, s0)
        for (l, layer) in offsets.enumerated() {
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
                tokens: t, dim: d, heads: stack.heads, causal: stack.causal)
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
    }

    /// Backpropagates the layers, last first, from ∂L/∂x_L in `plan.dx` (overwritten: it holds
    /// ∂L/∂x_0 afterwards), adding parameter gradients into `dw`.
    func backwardStack(
        _ stack: TransformerStack, offsets: [TransformerLayerOffsets], plan: TransformerStackPlan,
        activations act: FloatBuffer, s0: Int, batch: Int, worker: Int,
        arena g: FloatBuffer, into dw: FloatBuffer
    ) {
        let w = parameters.values
        let d = stack.dim
        let f = stack.mlpHidden
        let t = plan.tokens
        let rows = batch * t
        // dx holds ∂L/∂x_{l+1}, then ∂L/∂mid, then ∂L/∂x_l.
        let dx = plan.dx.at(g, s0)
        let dln = plan.dln.at(g, s0)
        let dq = plan.dq.at(g, s0)
        let dk = plan.dk.at(g, s0)
        let dv = plan.dv.at(g, s0)
        let datt = plan.datt.at(g, s0)
        let dfc = plan.dfc.at(g, s0)
        let dgelu = plan.dgelu.at(g, s0)
        let attentionScratch = plan.attentionScratch.at(g) + worker * t * t
        for l in stride(from: stack.layers - 1, through: 0, by: -1) {
            let layer = offsets[l]
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
            // Masked entries of a causal layer have probability 0, so their gradient is 0 too.
            AttentionKernels.backward(
                dq, dk, dv, datt, p.probs.at(act, s0), q, k, v,
                scratch: attentionScratch, samples: 0..<batch, tokens: t,
                dim: d, heads: stack.heads)
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
    }
}
