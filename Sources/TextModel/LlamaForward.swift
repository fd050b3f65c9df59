// The Llama forward pass: batched over a chunk of tokens through sgemm, with the KV cache.
import LinearAlgebra

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension LlamaModel {
    /// Runs `tokens` after the state's current position and returns the logits (rows, vocab) of
    /// positions `logitsFrom ..< tokens.count` of this chunk (by default only the last).
    public func forward(_ tokens: [Int], state: LlamaState, logitsFrom: Int? = nil) throws -> Tensor {
        let t = tokens.count
        guard t > 0 else { throw TextModelError.emptyInput }
        for id in tokens where id < 0 || id >= config.vocabularySize {
            throw TextModelError.tokenOutOfRange(id, vocabulary: config.vocabularySize)
        }
        guard state.length + t <= state.capacity else {
            throw TextModelError.contextFull(needed: state.length + t, capacity: state.capacity)
        }
        let first = min(max(0, logitsFrom ?? (t - 1)), t)
        let h = config.hiddenSize
        let work = Workspace(config: config, batch: t, length: state.length + t, state: state)
        // Embedding lookup. x: (T, hidden)
        embedding.scalars.withUnsafeBufferPointer { e in
            for (row, id) in tokens.enumerated() {
                (work.x + row * h).update(from: e.baseAddress! + id * h, count: h)
            }
        }
        for l in 0..<config.layers { runLayer(l, work: work, state: state) }
        state.advance(by: t)
        return logits(hidden: work.x + first * h, rows: t - first, scratch: work.xn)
    }

    /// Final norm and output projection of `rows` hidden vectors. (rows, vocab)
    func logits(hidden: UnsafeMutablePointer<Float>, rows: Int, scratch: UnsafeMutablePointer<Float>)
        -> Tensor
    {
        let h = config.hiddenSize, vocab = config.vocabularySize
        var out = Tensor(zeros: [rows, vocab])
        if rows == 0 { return out }
        outputNorm.withUnsafeBufferPointer { w in
            Kernels.rmsNorm(out: scratch, x: hidden, weight: w.baseAddress!, rows: rows, dim: h,
                            epsilon: config.rmsEpsilon)
        }
        let projection = outputWeight ?? embedding
        projection.scalars.withUnsafeBufferPointer { e in
            out.scalars.withUnsafeMutableBufferPointer { o in
                BLAS.sgemm(transA: false, transB: true, m: rows, n: vocab, k: h, a: scratch, lda: h,
                           b: e.baseAddress!, ldb: h, c: o.baseAddress!, ldc: vocab)
            }
        }
        return out
    }

    /// One transformer block on the workspace's chunk: attention then SwiGLU MLP, both residual.
    func runLayer(_ l: Int, work: Workspace, state: LlamaState) {
        let layer = layers[l]
        let c = config
        let t = work.batch, p0 = state.length
        let h = c.hiddenSize, kvDim = c.kvDim
        let keys = state.keys(layer: l), values = state.values(layer: l)
        layer.attentionNorm.withUnsafeBufferPointer { w in
            Kernels.rmsNorm(out: work.xn, x: work.x, weight: w.baseAddress!, rows: t, dim: h,
                            epsilon: c.rmsEpsilon)
        }
        layer.query.apply(x: work.xn, batch: t, into: work.q, scratch: work.scratch)
        layer.key.apply(x: work.xn, batch: t, into: keys + p0 * kvDim, scratch: work.scratch)
        layer.value.apply(x: work.xn, batch: t, into: values + p0 * kvDim, scratch: work.scratch)
        ensureRope(positions: p0 + t)
        ropeTable.cos.withUnsafeBufferPointer { cosT in
            ropeTable.sin.withUnsafeBufferPointer { sinT in
                Kernels.rope(work.q, rows: t, heads: c.heads, headDim: c.headDim, firstPosition: p0,
                             cos: cosT.baseAddress!, sin: sinT.baseAddress!)
                Kernels.rope(keys + p0 * kvDim, rows: t, heads: c.kvHeads, headDim: c.headDim,
                             firstPosition: p0, cos: cosT.baseAddress!, sin: sinT.baseAddress!)
            }
        }
        Kernels.attention(out: work.attention, scores: work.scores, q: work.q, keys: keys,
                          values: values, rows: t, firstPosition: p0, heads: c.heads,
                          kvHeads: c.kvHeads, headDim: c.headDim)
        layer.output.apply(x: work.attention, batch: t, into: work.x, beta: 1, scratch: work.scratch)

        layer.ffnNorm.withUnsafeBufferPointer { w in
            Kernels.rmsNorm(out: work.xn, x: work.x, weight: w.baseAddress!, rows: t, dim: h,
                            epsilon: c.rmsEpsilon)
        }
        layer.gate.apply(x: work.xn, batch: t, into: work.gate, scratch: work.scratch)
        layer.up.apply(x: work.xn, batch: t, into: work.up, scratch: work.scratch)
        Kernels.swiglu(work.gate, up: work.up, count: t * c.intermediateSize)
        layer.down.apply(x: work.gate, batch: t, into: work.x, beta: 1, scratch: work.scratch)
    }
}

/// Views into the state's workspace for a chunk of `batch` tokens ending at `length`.
struct Workspace {
    let batch: Int
    let x: UnsafeMutablePointer<Float>  // (T, hidden) residual stream
    let xn: UnsafeMutablePointer<Float>  // (T, hidden) normalised input of a sublayer
    let q: UnsafeMutablePointer<Float>  // (T, hidden) queries
    let attention: UnsafeMutablePointer<Float>  // (T, hidden) attention output before out_proj
    let scores: UnsafeMutablePointer<Float>  // (T, length) one head's attention weights
    let gate: UnsafeMutablePointer<Float>  // (T, intermediate)
    let up: UnsafeMutablePointer<Float>  // (T, intermediate)
    let scratch: UnsafeMutablePointer<Float>  // (T, intermediate) factored weights' inner product

    init(config: LlamaConfig, batch t: Int, length: Int, state: LlamaState) {
        batch = t
        let h = config.hiddenSize, ff = config.intermediateSize
        let sizes = [t * h, t * h, t * h, t * h, t * length, t * ff, t * ff, t * max(ff, h)]
        var p = state.reserveWorkspace(sizes.reduce(0, +))
        var views: [UnsafeMutablePointer<Float>] = []
        for s in sizes {
            views.append(p)
            p += s
        }
        x = views[0]; xn = views[1]; q = views[2]; attention = views[3]
        scores = views[4]; gate = views[5]; up = views[6]; scratch = views[7]
    }
}

/// The elementwise and attention kernels of the forward pass (pointer loops, no allocation).
enum Kernels {
    /// out[r] = x[r] / sqrt(mean(x[r]²) + ε) · weight, for each of `rows` rows of `dim`.
    static func rmsNorm(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>,
                        weight: UnsafePointer<Float>, rows: Int, dim: Int, epsilon: Float) {
        for r in 0..<rows {
            let xr = x + r * dim, o = out + r * dim
            var sum: Float = 0
            for i in 0..<dim { sum += xr[i] * xr[i] }
            let scale = 1 / (sum / Float(dim) + epsilon).squareRoot()
            for i in 0..<dim { o[i] = xr[i] * scale * weight[i] }
        }
    }

    /// Rotates adjacent pairs (x[2i], x[2i+1]) of every head of each row by the position's angles.
    static func rope(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int,
                     firstPosition: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
        let half = headDim / 2
        for r in 0..<rows {
            let c = cos + (firstPosition + r) * half, s = sin + (firstPosition + r) * half
            for hd in 0..<heads {
                let v = x + (r * heads + hd) * headDim
                for i in 0..<half {
                    let a = v[2 * i], b = v[2 * i + 1]
                    v[2 * i] = a * c[i] - b * s[i]
                    v[2 * i + 1] = a * s[i] + b * c[i]
                }
            }
        }
    }

    /// Causal grouped-query attention of `rows` new queries over all cached keys/values.
    /// out (rows, heads·headDim); q (rows, heads·headDim); keys, values (positions, kvHeads·headDim).
    static func attention(out: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>,
                          q: UnsafePointer<Float>, keys: UnsafePointer<Float>,
                          values: UnsafePointer<Float>, rows: Int, firstPosition: Int, heads: Int,
                          kvHeads: Int, headDim: Int) {
        let length = firstPosition + rows
        let width = heads * headDim, kvWidth = kvHeads * headDim
        let group = heads / kvHeads
        let scale = 1 / Float(headDim).squareRoot()
        for hd in 0..<heads {
            let g = hd / group
            // scores (rows, length) = scale · Q_h · K_gᵀ
            BLAS.sgemm(transA: false, transB: true, m: rows, n: length, k: headDim, alpha: scale,
                       a: q + hd * headDim, lda: width, b: keys + g * headDim, ldb: kvWidth,
                       c: scores, ldc: length)
            for r in 0..<rows {
                softmaxCausal(scores + r * length, valid: firstPosition + r + 1, length: length)
            }
            // out_h (rows, headDim) = P · V_g
            BLAS.sgemm(transA: false, transB: false, m: rows, n: headDim, k: length,
                       a: scores, lda: length, b: values + g * headDim, ldb: kvWidth,
                       c: out + hd * headDim, ldc: width)
        }
    }

    /// Softmax over the first `valid` entries; the rest (future positions) become 0.
    @inline(__always)
    static func softmaxCausal(_ row: UnsafeMutablePointer<Float>, valid: Int, length: Int) {
        var maxValue = -Float.infinity
        for j in 0..<valid { maxValue = max(maxValue, row[j]) }
        var sum: Float = 0
        for j in 0..<valid {
            let e = expf(row[j] - maxValue)
            row[j] = e
            sum += e
        }
        let inv = 1 / sum
        for j in 0..<valid { row[j] *= inv }
        for j in valid..<length { row[j] = 0 }
    }

    /// gate ← silu(gate) · up.
    static func swiglu(_ gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let g = gate[i]
            gate[i] = g / (1 + expf(-g)) * up[i]
        }
    }
}
