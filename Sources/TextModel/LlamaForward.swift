// The decoder's forward pass (Llama, Gemma 3): any number of sequences' new tokens batched through
// the quantized kernels and sgemm, each sequence attending over its own KV cache.
import LinearAlgebra
import QuantizedKernels

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// New tokens for one sequence in a batched forward pass.
public struct SequenceInput {
    public let state: LlamaState
    public let tokens: [Int]
    /// Logits are returned for chunk positions `logitsFrom ..< tokens.count`.
    public let logitsFrom: Int

    /// `logitsFrom` nil means only the last position.
    public init(state: LlamaState, tokens: [Int], logitsFrom: Int? = nil) {
        self.state = state
        self.tokens = tokens
        self.logitsFrom = min(max(0, logitsFrom ?? (tokens.count - 1)), tokens.count)
    }
}

extension LlamaModel {
    /// Runs `tokens` after the state's current position and returns the logits (rows, vocab) of
    /// positions `logitsFrom ..< tokens.count` of this chunk (by default only the last).
    public func forward(_ tokens: [Int], state: LlamaState, logitsFrom: Int? = nil) throws -> Tensor
    {
        try forward([SequenceInput(state: state, tokens: tokens, logitsFrom: logitsFrom)])[0]
    }

    /// Runs several sequences' new tokens in one pass: every weight matrix is multiplied once for
    /// all rows, attention runs per sequence. Returns each input's requested logits (rows, vocab).
    public func forward(_ inputs: [SequenceInput]) throws -> [Tensor] {
        try run(inputs, startLayer: 0, hidden: nil, recordLayerInput: nil)
    }

    /// The forward pass from `startLayer`. When `hidden` is given it is the residual stream
    /// entering `startLayer` for every row (rows in input order, hidden wide) and the embedding is
    /// skipped; the inputs' states must then be fresh (their caches below `startLayer` stay
    /// unfilled). `recordLayerInput(l, x)` sees the residual stream entering each layer l ≥ startLayer.
    func run(
        _ inputs: [SequenceInput], startLayer: Int, hidden: UnsafePointer<Float>?,
        recordLayerInput: ((Int, UnsafePointer<Float>) -> Void)?
    ) throws -> [Tensor] {
        guard !inputs.isEmpty else { throw TextModelError.emptyInput }
        precondition(startLayer >= 0 && startLayer <= config.layers, "no layer \(startLayer)")
        var seen = Set<ObjectIdentifier>()
        for input in inputs {
            guard !input.tokens.isEmpty else { throw TextModelError.emptyInput }
            precondition(
                seen.insert(ObjectIdentifier(input.state)).inserted,
                "a sequence state appears twice in one batch")
            precondition(
                hidden == nil || input.state.length == 0, "starting mid-network needs fresh states")
            for id in input.tokens where id < 0 || id >= config.vocabularySize {
                throw TextModelError.tokenOutOfRange(id, vocabulary: config.vocabularySize)
            }
            let needed = input.state.length + input.tokens.count
            guard needed <= input.state.capacity else {
                throw TextModelError.contextFull(needed: needed, capacity: input.state.capacity)
            }
        }
        let plan = BatchPlan(inputs)
        let h = config.hiddenSize
        let work = Workspace(
            config: config, plan: plan, threads: pool.threads, memory: scratchMemory,
            activationMemory: activationMemory)
        ensureRope(positions: plan.maxLength)
        if let hidden {
            work.x.update(from: hidden, count: plan.rows * h)
        } else {
            // Embedding lookup. x: (T, hidden)
            var row = 0
            for input in inputs {
                for id in input.tokens {
                    embedding.copyRow(id, into: work.x + row * h)
                    row += 1
                }
            }
            if config.architecture.scalesEmbedding {
                let scale = Float(h).squareRoot()
                for i in 0..<(plan.rows * h) { work.x[i] *= scale }
            }
        }
        for l in startLayer..<config.layers {
            recordLayerInput?(l, work.x)
            runLayer(l, work: work, plan: plan, inputs: inputs)
        }
        for input in inputs { input.state.advance(by: input.tokens.count) }
        return outputLogits(work: work, plan: plan, inputs: inputs)
    }

    /// Final norm and output projection of the requested rows, split per input.
    func outputLogits(work: Workspace, plan: BatchPlan, inputs: [SequenceInput]) -> [Tensor] {
        let h = config.hiddenSize
        let vocab = config.vocabularySize
        // Gather the requested rows (contiguous per input) into xn.
        var rows = 0
        for (i, input) in inputs.enumerated() {
            let count = input.tokens.count - input.logitsFrom
            (work.xn + rows * h).update(
                from: work.x + (plan.rowStart[i] + input.logitsFrom) * h,
                count: count * h)
            rows += count
        }
        var all = [Float](repeating: 0, count: rows * vocab)
        if rows > 0 {
            outputNorm.withUnsafeBufferPointer { w in
                Kernels.rmsNorm(
                    out: work.q, x: work.xn, weight: w.baseAddress!, rows: rows, dim: h,
                    epsilon: config.rmsEpsilon)
            }
            all.withUnsafeMutableBufferPointer { o in
                multiply(
                    [(outputWeight ?? embedding, o.baseAddress!)], x: work.q, batch: rows,
                    accumulate: false, work: work)
                if let cap = config.finalLogitSoftcap {
                    for i in 0..<o.count { o[i] = cap * tanh(o[i] / cap) }
                }
            }
        }
        if inputs.count == 1 { return [Tensor(shape: [rows, vocab], scalars: all)] }
        var out: [Tensor] = []
        var start = 0
        for input in inputs {
            let count = input.tokens.count - input.logitsFrom
            out.append(
                Tensor(
                    shape: [count, vocab],
                    scalars: Array(all[(start * vocab)..<((start + count) * vocab)])))
            start += count
        }
        return out
    }

    /// One transformer block over every row: attention then the gated MLP, both residual.
    func runLayer(_ l: Int, work: Workspace, plan: BatchPlan, inputs: [SequenceInput]) {
        let layer = layers[l]
        let c = config
        let t = plan.rows
        let h = c.hiddenSize
        let qw = c.queryWidth
        let kvDim = c.kvDim
        layer.attentionNorm.withUnsafeBufferPointer { w in
            Kernels.rmsNorm(
                out: work.xn, x: work.x, weight: w.baseAddress!, rows: t, dim: h,
                epsilon: c.rmsEpsilon)
        }
        multiply(
            [(layer.query, work.q), (layer.key, work.k), (layer.value, work.v)], x: work.xn,
            batch: t, accumulate: false, work: work)
        if let qNorm = layer.queryNorm, let kNorm = layer.keyNorm {
            qNorm.withUnsafeBufferPointer { w in
                Kernels.rmsNorm(
                    out: work.q, x: work.q, weight: w.baseAddress!, rows: t * c.heads,
                    dim: c.headDim, epsilon: c.rmsEpsilon)
            }
            kNorm.withUnsafeBufferPointer { w in
                Kernels.rmsNorm(
                    out: work.k, x: work.k, weight: w.baseAddress!, rows: t * c.kvHeads,
                    dim: c.headDim, epsilon: c.rmsEpsilon)
            }
        }
        let rope = ropeTable(layer: l)
        rope.cosines.withUnsafeBufferPointer { cosT in
            rope.sines.withUnsafeBufferPointer { sinT in
                plan.positions.withUnsafeBufferPointer { pos in
                    for (x, heads) in [(work.q, c.heads), (work.k, c.kvHeads)] {
                        Kernels.rope(
                            x, rows: t, heads: heads, headDim: c.headDim,
                            positions: pos.baseAddress!, cos: cosT.baseAddress!,
                            sin: sinT.baseAddress!, style: c.architecture.ropeStyle)
                    }
                }
            }
        }
        for (i, input) in inputs.enumerated() {
            let r0 = plan.rowStart[i]
            let p0 = input.state.length
            (input.state.keys(layer: l) + p0 * kvDim).update(
                from: work.k + r0 * kvDim, count: input.tokens.count * kvDim)
            (input.state.values(layer: l) + p0 * kvDim).update(
                from: work.v + r0 * kvDim, count: input.tokens.count * kvDim)
        }
        let window = c.slides(layer: l) ? c.slidingWindow : nil
        // Every (sequence, head) in one parallel loop, each thread with its own score matrix.
        pool.parallelFor(inputs.count * c.heads) { job, thread in
            let (i, head) = job.quotientAndRemainder(dividingBy: c.heads)
            let input = inputs[i]
            let r0 = plan.rowStart[i]
            Kernels.attention(
                out: work.attention + r0 * qw, scores: work.scores + thread * plan.maxScores,
                q: work.q + r0 * qw, keys: input.state.keys(layer: l),
                values: input.state.values(layer: l), rows: input.tokens.count,
                firstPosition: input.state.length, heads: c.heads, kvHeads: c.kvHeads,
                headDim: c.headDim, scale: c.attentionScale, window: window, only: head)
        }
        residualAdd(
            layer.output, x: work.attention, postNorm: layer.postAttentionNorm, work: work, rows: t)

        layer.ffnNorm.withUnsafeBufferPointer { w in
            Kernels.rmsNorm(
                out: work.xn, x: work.x, weight: w.baseAddress!, rows: t, dim: h,
                epsilon: c.rmsEpsilon)
        }
        multiply(
            [(layer.gate, work.gate), (layer.up, work.up)], x: work.xn, batch: t,
            accumulate: false, work: work)
        Kernels.gatedActivation(
            work.gate, up: work.up, count: t * c.intermediateSize, c.architecture.activation)
        residualAdd(layer.down, x: work.gate, postNorm: layer.postFFNNorm, work: work, rows: t)
    }

    /// The residual stream gains x · Wᵀ, RMS-normalised by `postNorm` first when given.
    private func residualAdd(
        _ matrix: LlamaMatrix, x: UnsafePointer<Float>, postNorm: [Float]?, work: Workspace,
        rows t: Int
    ) {
        guard let postNorm else {
            multiply([(matrix, work.x)], x: x, batch: t, accumulate: true, work: work)
            return
        }
        let h = config.hiddenSize
        multiply([(matrix, work.xn)], x: x, batch: t, accumulate: false, work: work)
        postNorm.withUnsafeBufferPointer { w in
            Kernels.rmsNorm(
                out: work.xn, x: work.xn, weight: w.baseAddress!, rows: t, dim: h,
                epsilon: config.rmsEpsilon)
        }
        for i in 0..<(t * h) { work.x[i] += work.xn[i] }
    }

    /// out (batch, rows) (+)= x (batch, columns) · Wᵀ for matrices that share their input: the
    /// quantized ones run together on the pool (the input quantized once per block size when the
    /// kernels read quantized activations), the Float32 and factored ones through BLAS.
    func multiply(
        _ products: [(matrix: LlamaMatrix, out: UnsafeMutablePointer<Float>)],
        x: UnsafePointer<Float>, batch: Int, accumulate: Bool, work: Workspace
    ) {
        withUnsafeTemporaryAllocation(of: qk_matmul_task.self, capacity: products.count) { tasks in
            var count = 0
            var quantized32 = false
            var quantized256 = false
            for (matrix, out) in products {
                guard matrix.linear == nil, let q = matrix.quantized else {
                    let linear = matrix.linear!
                    if case .dense(let w) = linear.value {
                        // Float32 rows split over the threads (BLAS itself runs single-threaded).
                        let rows = matrix.rows
                        let parts = min(2 * pool.threads, (rows + 15) / 16)
                        w.scalars.withUnsafeBufferPointer { wp in
                            pool.parallelFor(parts) { part, _ in
                                let r0 = rows * part / parts
                                let r1 = rows * (part + 1) / parts
                                BLAS.sgemm(
                                    transA: false, transB: true, m: batch, n: r1 - r0,
                                    k: matrix.columns, a: x, lda: matrix.columns,
                                    b: wp.baseAddress! + r0 * matrix.columns, ldb: matrix.columns,
                                    beta: accumulate ? 1 : 0, c: out + r0, ldc: rows)
                            }
                        }
                    } else {
                        linear.apply(
                            x: x, batch: batch, into: out, beta: accumulate ? 1 : 0,
                            scratch: work.scratch)
                    }
                    continue
                }
                var activations: UnsafeMutableRawPointer? = nil
                if QuantizedMatrix.usesQuantizedActivations(batch: batch) {
                    let small = q.type.blockSize == 32
                    activations = small ? work.activations32 : work.activations256
                    if small ? !quantized32 : !quantized256 {
                        q.quantizeActivations(x, batch: batch, into: activations!)
                        if small { quantized32 = true } else { quantized256 = true }
                    }
                }
                tasks[count] = q.task(
                    x: x, activations: activations, batch: batch, into: out,
                    accumulate: accumulate)
                count += 1
            }
            if count > 0 { pool.run(UnsafeBufferPointer(rebasing: tasks[..<count])) }
        }
    }
}

/// Where each input's rows sit in the batch, and every row's position.
struct BatchPlan {
    let rows: Int
    let rowStart: [Int]
    let positions: [Int32]
    /// Largest attention length (cached + new) of any input.
    let maxLength: Int
    /// Largest rows × length of any input (one head's score matrix).
    let maxScores: Int

    init(_ inputs: [SequenceInput]) {
        var starts: [Int] = []
        var positions: [Int32] = []
        var maxLength = 0
        var maxScores = 0
        for input in inputs {
            starts.append(positions.count)
            let p0 = input.state.length
            let n = input.tokens.count
            for j in 0..<n { positions.append(Int32(p0 + j)) }
            maxLength = max(maxLength, p0 + n)
            maxScores = max(maxScores, n * (p0 + n))
        }
        rows = positions.count
        rowStart = starts
        self.positions = positions
        self.maxLength = maxLength
        self.maxScores = maxScores
    }
}

/// Memory the forward pass borrows, grown on demand and kept for the next call; given back when a
/// call needs under a quarter of it (a long prompt's buffers do not stay for the generation).
final class ScratchMemory {
    private(set) var pointer = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private(set) var count = 1

    func reserve(_ n: Int) -> UnsafeMutablePointer<Float> {
        if n > count || n < count / 4 {
            pointer.deallocate()
            pointer = .allocate(capacity: n)
            count = n
        }
        return pointer
    }

    deinit { pointer.deallocate() }
}

/// Views into the scratch memory for one batch.
struct Workspace {
    let x: UnsafeMutablePointer<Float>  // (T, hidden) residual stream
    let xn: UnsafeMutablePointer<Float>  // (T, hidden) normalised input of a sublayer
    let q: UnsafeMutablePointer<Float>  // (T, queryWidth) queries
    let k: UnsafeMutablePointer<Float>  // (T, kvDim) new keys
    let v: UnsafeMutablePointer<Float>  // (T, kvDim) new values
    let attention: UnsafeMutablePointer<Float>  // (T, queryWidth) attention output before out_proj
    let scores: UnsafeMutablePointer<Float>  // threads × (rows, length): one head's weights each
    let gate: UnsafeMutablePointer<Float>  // (T, intermediate)
    let up: UnsafeMutablePointer<Float>  // (T, intermediate)
    let scratch: UnsafeMutablePointer<Float>  // (T, intermediate) factored weights' inner product
    /// Quantized activations of one product's input for 32- and 256-element block formats.
    let activations32: UnsafeMutableRawPointer
    let activations256: UnsafeMutableRawPointer

    init(
        config: LlamaConfig, plan: BatchPlan, threads: Int, memory: ScratchMemory,
        activationMemory: ScratchMemory
    ) {
        // Per token and input column: 40 bytes per 32 (Q8 blocks), 292 per 256 (Q8_K blocks).
        let widest = max(config.hiddenSize, config.queryWidth, config.intermediateSize)
        let regionFloats = (plan.rows * (widest / 32 + 1) * 40 + 63) / 4
        let base = UnsafeMutableRawPointer(activationMemory.reserve(2 * regionFloats))
        activations32 = base
        activations256 = base + 4 * regionFloats
        let t = plan.rows
        let h = config.hiddenSize
        let ff = config.intermediateSize
        let kv = config.kvDim
        let qw = config.queryWidth
        // q also holds the final norm's output (hidden wide) before the logits.
        let sizes = [
            t * h, t * h, t * max(qw, h), t * kv, t * kv, t * qw, threads * plan.maxScores,
            t * ff, t * ff, t * max(ff, h, qw),
        ]
        var p = memory.reserve(sizes.reduce(0, +))
        var views: [UnsafeMutablePointer<Float>] = []
        for s in sizes {
            views.append(p)
            p += s
        }
        x = views[0]
        xn = views[1]
        q = views[2]
        k = views[3]
        v = views[4]
        attention = views[5]
        scores = views[6]
        gate = views[7]
        up = views[8]
        scratch = views[9]
    }
}

/// The elementwise and attention kernels of the forward pass (pointer loops, no allocation).
enum Kernels {
    /// out[r] = x[r] / sqrt(mean(x[r]²) + ε) · weight, for each of `rows` rows of `dim`.
    static func rmsNorm(
        out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>,
        weight: UnsafePointer<Float>, rows: Int, dim: Int, epsilon: Float
    ) {
        for r in 0..<rows {
            let xr = x + r * dim
            let o = out + r * dim
            var sum: Float = 0
            for i in 0..<dim { sum += xr[i] * xr[i] }
            let scale = 1 / (sum / Float(dim) + epsilon).squareRoot()
            for i in 0..<dim { o[i] = xr[i] * scale * weight[i] }
        }
    }

    /// Rotates each head's dimension pairs by its row's position angles: adjacent pairs
    /// (x[2i], x[2i+1]) as llama.cpp's NORM RoPE (the Llama converter permuted q/k rows to make
    /// them adjacent), or the halves' pairs (x[i], x[i + headDim/2]) as its NEOX RoPE.
    static func rope(
        _ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int,
        positions: UnsafePointer<Int32>, cos: UnsafePointer<Float>,
        sin: UnsafePointer<Float>, style: Architecture.RopeStyle = .adjacent
    ) {
        let half = headDim / 2
        let (first, second, step) = style == .adjacent ? (0, 1, 2) : (0, half, 1)
        for r in 0..<rows {
            let c = cos + Int(positions[r]) * half
            let s = sin + Int(positions[r]) * half
            for hd in 0..<heads {
                let v = x + (r * heads + hd) * headDim
                for i in 0..<half {
                    let a = v[first + step * i]
                    let b = v[second + step * i]
                    v[first + step * i] = a * c[i] - b * s[i]
                    v[second + step * i] = a * s[i] + b * c[i]
                }
            }
        }
    }

    /// Causal grouped-query attention of `rows` new queries over the cached keys/values (of head
    /// `only`, or every head): all earlier positions, or with `window` only the last `window`
    /// positions up to each query's own (llama.cpp's standard sliding window).
    /// out (rows, heads·headDim); q (rows, heads·headDim); keys, values (positions, kvHeads·headDim).
    static func attention(
        out: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>,
        q: UnsafePointer<Float>, keys: UnsafePointer<Float>,
        values: UnsafePointer<Float>, rows: Int, firstPosition: Int, heads: Int,
        kvHeads: Int, headDim: Int, scale: Float? = nil, window: Int? = nil, only: Int? = nil
    ) {
        let width = heads * headDim
        let kvWidth = kvHeads * headDim
        let group = heads / kvHeads
        let scale = scale ?? 1 / Float(headDim).squareRoot()
        // Query rows in blocks, each attending only up to its last row's position: a long prompt
        // skips most of the masked upper triangle.
        let block = 64
        for hd in only.map({ $0..<($0 + 1) }) ?? 0..<heads {
            let g = hd / group
            if rows == 1 {
                // One query (generation): plain loops, where two BLAS calls per head and sequence
                // would cost more in call overhead than the arithmetic.
                let length = firstPosition + 1
                let skip = window.map { max(0, length - $0) } ?? 0
                singleQueryAttention(
                    out: out + hd * headDim, scores: scores, q: q + hd * headDim,
                    keys: keys + g * headDim + skip * kvWidth,
                    values: values + g * headDim + skip * kvWidth,
                    length: length - skip, stride: kvWidth, headDim: headDim, scale: scale)
                continue
            }
            for b in stride(from: 0, to: rows, by: block) {
                let n = min(block, rows - b)
                let length = firstPosition + b + n
                // scores (n, length) = scale · Q_h · K_gᵀ
                BLAS.sgemm(
                    transA: false, transB: true, m: n, n: length, k: headDim, alpha: scale,
                    a: q + b * width + hd * headDim, lda: width, b: keys + g * headDim,
                    ldb: kvWidth, c: scores, ldc: length)
                for r in 0..<n {
                    let valid = firstPosition + b + r + 1
                    softmaxCausal(
                        scores + r * length, from: window.map { max(0, valid - $0) } ?? 0,
                        valid: valid, length: length)
                }
                // out_h (n, headDim) = P · V_g
                BLAS.sgemm(
                    transA: false, transB: false, m: n, n: headDim, k: length,
                    a: scores, lda: length, b: values + g * headDim, ldb: kvWidth,
                    c: out + b * width + hd * headDim, ldc: width)
            }
        }
    }

    /// out (headDim) = softmax(scale · K q) · V over `length` cached positions (rows `stride` apart).
    static func singleQueryAttention(
        out: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>,
        q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        length: Int, stride: Int, headDim: Int, scale: Float
    ) {
        let vectorized = headDim % 8 == 0
        let raw = UnsafeRawPointer(q)
        var maxScore = -Float.infinity
        for j in 0..<length {
            let k = keys + j * stride
            var dot: Float = 0
            if vectorized {
                var sum = SIMD8<Float>(repeating: 0)
                let kr = UnsafeRawPointer(k)
                for i in Swift.stride(from: 0, to: headDim, by: 8) {
                    sum +=
                        raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                        * kr.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                }
                dot = sum.sum()
            } else {
                for i in 0..<headDim { dot += q[i] * k[i] }
            }
            scores[j] = dot * scale
            maxScore = max(maxScore, scores[j])
        }
        let inverse = 1 / FastExp.expShifted(scores, count: length, shift: maxScore)
        out.update(repeating: 0, count: headDim)
        let outRaw = UnsafeMutableRawPointer(out)
        for j in 0..<length {
            let p = scores[j] * inverse
            let v = values + j * stride
            if vectorized {
                let vr = UnsafeRawPointer(v)
                let weight = SIMD8<Float>(repeating: p)
                for i in Swift.stride(from: 0, to: headDim, by: 8) {
                    let acc = outRaw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                    outRaw.storeBytes(
                        of: acc + weight
                            * vr.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self),
                        toByteOffset: 4 * i, as: SIMD8<Float>.self)
                }
            } else {
                for i in 0..<headDim { out[i] += p * v[i] }
            }
        }
    }

    /// Softmax over entries `from ..< valid`; the rest (future positions, and those before a
    /// sliding window) become 0.
    @inline(__always)
    static func softmaxCausal(
        _ row: UnsafeMutablePointer<Float>, from: Int = 0, valid: Int, length: Int
    ) {
        for j in 0..<from { row[j] = 0 }
        FastExp.softmaxInPlace(row + from, count: valid - from)
        for j in valid..<length { row[j] = 0 }
    }

    /// gate ← act(gate) · up. Both activations are g · σ(z(g)): SiLU with z = g, and GELU in its
    /// tanh form as ggml computes it, 0.5·g·(1 + tanh(√(2/π)·(g + 0.044715·g³))), with
    /// z = 2√(2/π)·(g + 0.044715·g³).
    static func gatedActivation(
        _ gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int,
        _ activation: Architecture.Activation
    ) {
        switch activation {
        case .silu: gated(gate, up: up, count: count) { $0 }
        case .gelu:
            let c = SIMD8<Float>(repeating: 2 * 0.797_884_56)
            gated(gate, up: up, count: count) { g in c * (g + 0.044715 * g * g * g) }
        }
    }

    /// gate ← gate · σ(z(gate)) · up, eight lanes at a time (the tail through a zero-padded vector).
    @inline(__always)
    private static func gated(
        _ gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int,
        _ z: (SIMD8<Float>) -> SIMD8<Float>
    ) {
        let g8 = UnsafeMutableRawPointer(gate)
        let u8 = UnsafeRawPointer(up)
        var i = 0
        while i + 8 <= count {
            let g = g8.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            let u = u8.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            g8.storeBytes(
                of: g / (1 + FastExp.exp(-z(g))) * u, toByteOffset: 4 * i, as: SIMD8<Float>.self)
            i += 8
        }
        if i < count {
            var g = SIMD8<Float>(repeating: 0)
            var u = SIMD8<Float>(repeating: 0)
            for k in 0..<(count - i) {
                g[k] = gate[i + k]
                u[k] = up[i + k]
            }
            let out = g / (1 + FastExp.exp(-z(g))) * u
            for k in 0..<(count - i) { gate[i + k] = out[k] }
        }
    }
}
