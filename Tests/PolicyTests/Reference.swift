// Naive float64 references of every layer (PyTorch semantics, NCHW) and the finite-difference check.
import Core
import Foundation
import LinearAlgebra

@testable import Policy

enum Reference {
    /// y (n, oc) = x (n, ic) · wᵀ + b.
    static func linear(_ x: [Double], _ w: [Double], _ b: [Double]?, n: Int, ic: Int, oc: Int)
        -> [Double]
    {
        var y = [Double](repeating: 0, count: n * oc)
        for r in 0..<n {
            for o in 0..<oc {
                var s = b?[o] ?? 0
                for i in 0..<ic { s += x[r * ic + i] * w[o * ic + i] }
                y[r * oc + o] = s
            }
        }
        return y
    }

    /// Zero-padded same-size convolution: x (b, c, h, w), w (o, c, k, k) → (b, o, h, w).
    static func conv2d(
        _ x: [Double], _ w: [Double], _ bias: [Double], batch: Int, cin: Int, cout: Int, side: Int,
        kernel k: Int
    ) -> [Double] {
        let pad = k / 2
        var y = [Double](repeating: 0, count: batch * cout * side * side)
        for b in 0..<batch {
            for o in 0..<cout {
                for yy in 0..<side {
                    for xx in 0..<side {
                        var s = bias[o]
                        for c in 0..<cin {
                            for ky in 0..<k {
                                for kx in 0..<k {
                                    let sy = yy + ky - pad
                                    let sx = xx + kx - pad
                                    guard sy >= 0 && sy < side && sx >= 0 && sx < side else {
                                        continue
                                    }
                                    s +=
                                        x[((b * cin + c) * side + sy) * side + sx]
                                        * w[((o * cin + c) * k + ky) * k + kx]
                                }
                            }
                        }
                        y[((b * cout + o) * side + yy) * side + xx] = s
                    }
                }
            }
        }
        return y
    }

    /// (b, c, 10, 10) → (b, 100, c): image b's cell `cell` channel c at (b·100 + cell)·c.
    static func channelsLast(_ x: [Double], batch: Int, channels: Int) -> [Double] {
        let cells = PolicyGeometry.cells
        var y = [Double](repeating: 0, count: batch * cells * channels)
        for b in 0..<batch {
            for c in 0..<channels {
                for cell in 0..<cells {
                    y[(b * cells + cell) * channels + c] = x[(b * channels + c) * cells + cell]
                }
            }
        }
        return y
    }

    static func relu(_ x: [Double]) -> [Double] { x.map { max($0, 0) } }

    static func gelu(_ x: [Double]) -> [Double] {
        x.map {
            0.5 * $0 * (1 + tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0)))
        }
    }

    static func layerNorm(_ x: [Double], _ w: [Double], _ b: [Double], n: Int, c: Int) -> [Double] {
        var y = x
        for r in 0..<n {
            let row = Array(x[(r * c)..<((r + 1) * c)])
            let mean = row.reduce(0, +) / Double(c)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(c)
            let s = 1 / (variance + 1e-5).squareRoot()
            for i in 0..<c { y[r * c + i] = (row[i] - mean) * s * w[i] + b[i] }
        }
        return y
    }

    /// softmax(q_h k_hᵀ/√hd) v_h per sample and head; q, k, v (b, t, d). With `causal`, token i
    /// attends to tokens 0...i only.
    static func attention(
        _ q: [Double], _ k: [Double], _ v: [Double], batch: Int, tokens t: Int, dim d: Int,
        heads h: Int, causal: Bool = false
    ) -> [Double] {
        let hd = d / h
        var out = [Double](repeating: 0, count: batch * t * d)
        for b in 0..<batch {
            for head in 0..<h {
                for i in 0..<t {
                    let visible = causal ? i + 1 : t
                    var scores = [Double](repeating: 0, count: visible)
                    for j in 0..<visible {
                        var s = 0.0
                        for e in 0..<hd {
                            s +=
                                q[(b * t + i) * d + head * hd + e]
                                * k[(b * t + j) * d + head * hd + e]
                        }
                        scores[j] = s / Double(hd).squareRoot()
                    }
                    let m = scores.max()!
                    let exps = scores.map { exp($0 - m) }
                    let z = exps.reduce(0, +)
                    for e in 0..<hd {
                        var s = 0.0
                        for j in 0..<visible {
                            s += exps[j] / z * v[(b * t + j) * d + head * hd + e]
                        }
                        out[(b * t + i) * d + head * hd + e] = s
                    }
                }
            }
        }
        return out
    }

    /// Pre-norm transformer layers `layers.L.*` (x ← x + attn(LN(x)); x ← x + MLP(LN(x)), GELU
    /// MLP) over x (batch, tokens, dim).
    static func transformerStack(
        _ x: [Double], _ p: [String: [Double]], layers: Int, batch: Int, tokens t: Int, dim d: Int,
        heads: Int, mlpHidden: Int, causal: Bool = false
    ) -> [Double] {
        let rows = batch * t
        var x = x
        for l in 0..<layers {
            let n = "layers.\(l)"
            let h = layerNorm(x, p["\(n).ln1.weight"]!, p["\(n).ln1.bias"]!, n: rows, c: d)
            func proj(_ name: String, _ input: [Double], _ ic: Int, _ oc: Int) -> [Double] {
                linear(
                    input, p["\(n).\(name).weight"]!, p["\(n).\(name).bias"]!, n: rows, ic: ic,
                    oc: oc)
            }
            let att = attention(
                proj("attn.q_proj", h, d, d), proj("attn.k_proj", h, d, d),
                proj("attn.v_proj", h, d, d),
                batch: batch, tokens: t, dim: d, heads: heads, causal: causal)
            x = zip(x, proj("attn.out_proj", att, d, d)).map { $0 + $1 }
            let h2 = layerNorm(x, p["\(n).ln2.weight"]!, p["\(n).ln2.bias"]!, n: rows, c: d)
            let mlp = proj(
                "mlp.fc_out", gelu(proj("mlp.fc_in", h2, d, mlpHidden)), mlpHidden, d)
            x = zip(x, mlp).map { $0 + $1 }
        }
        return x
    }

    /// `ln_f` then `policy_head` (4 logits) and `value_head` on one token (batch, dim) per sample.
    static func policyHeads(_ token: [Double], _ p: [String: [Double]], batch: Int, dim d: Int)
        -> (logits: [Double], values: [Double])
    {
        let s = layerNorm(token, p["ln_f.weight"]!, p["ln_f.bias"]!, n: batch, c: d)
        return (
            linear(s, p["policy_head.weight"]!, p["policy_head.bias"]!, n: batch, ic: d, oc: 4),
            linear(s, p["value_head.weight"]!, p["value_head.bias"]!, n: batch, ic: d, oc: 1)
        )
    }

    /// Mean cross-entropy of targets under softmax(logits).
    static func crossEntropy(_ logits: [Double], _ targets: [Int], classes a: Int) -> Double {
        var total = 0.0
        for (b, target) in targets.enumerated() {
            let row = Array(logits[(b * a)..<((b + 1) * a)])
            let m = row.max()!
            total += log(row.map { exp($0 - m) }.reduce(0, +)) + m - row[target]
        }
        return total / Double(targets.count)
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
    }
}

/// Central finite differences of a float64 loss at `x`, for the listed coordinates.
func numericGradient(
    at x: [Double], indices: [Int], epsilon: Double = 1e-5, loss: ([Double]) -> Double
) -> [Double] {
    indices.map { i in
        var plus = x
        var minus = x
        plus[i] += epsilon
        minus[i] -= epsilon
        return (loss(plus) - loss(minus)) / (2 * epsilon)
    }
}

/// ‖a − n‖ / (‖a‖ + ‖n‖): the analytic (float32) gradient against the float64 numeric one. float32
/// rounding of the analytic side gives about 1e-6; a wrong formula gives order 1.
func relativeError(_ analytic: [Double], _ numeric: [Double]) -> Double {
    var diff = 0.0
    var a = 0.0
    var n = 0.0
    for i in 0..<analytic.count {
        diff += (analytic[i] - numeric[i]) * (analytic[i] - numeric[i])
        a += analytic[i] * analytic[i]
        n += numeric[i] * numeric[i]
    }
    return diff.squareRoot() / max(a.squareRoot() + n.squareRoot(), 1e-12)
}

/// Random float values from a seeded generator.
func randomValues(_ count: Int, scale: Double = 1, rng: inout SplitMix64) -> [Float] {
    (0..<count).map { _ in Float(rng.nextNormal() * scale) }
}

/// Random one-hot-like observations: each cell gets exactly one of `planes` planes.
func randomObservations(batch: Int, planes: Int, rng: inout SplitMix64) -> [Float] {
    var obs = [Float](repeating: 0, count: batch * planes * PolicyGeometry.cells)
    for b in 0..<batch {
        for cell in 0..<PolicyGeometry.cells {
            let p = Int(rng.next() % UInt64(planes))
            obs[(b * planes + p) * PolicyGeometry.cells + cell] = 1
        }
    }
    return obs
}
