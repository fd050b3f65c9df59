// Naive float64 references of every layer (PyTorch semantics, NCHW) and the finite-difference check.
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

    /// softmax(q_h k_hᵀ/√hd) v_h per sample and head; q, k, v (b, t, d).
    static func attention(
        _ q: [Double], _ k: [Double], _ v: [Double], batch: Int, tokens t: Int, dim d: Int,
        heads h: Int
    ) -> [Double] {
        let hd = d / h
        var out = [Double](repeating: 0, count: batch * t * d)
        for b in 0..<batch {
            for head in 0..<h {
                for i in 0..<t {
                    var scores = [Double](repeating: 0, count: t)
                    for j in 0..<t {
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
                        for j in 0..<t { s += exps[j] / z * v[(b * t + j) * d + head * hd + e] }
                        out[(b * t + i) * d + head * hd + e] = s
                    }
                }
            }
        }
        return out
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
