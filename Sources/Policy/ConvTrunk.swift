// The convolutional trunk a policy starts with: a 3×3 stem conv + ReLU, then residual blocks
// h ← ReLU(h + conv2(ReLU(conv1(h)))), channels-last over the 10×10 board. ConvPolicy puts its
// heads on it; TransformerPolicy can embed its tokens from it. The parameter names are the same in
// both, so a trained conv trunk carries over to a transformer by name.

import Laser

/// Sizes of a conv trunk.
struct ConvTrunkShape {
    let planes: Int
    let channels: Int
    let blocks: Int

    /// Adds the trunk's parameters (`stem`, `blocks.i.conv1`, `blocks.i.conv2`) to `layout`.
    func addParameters(to layout: inout ParameterLayout) {
        layout.add("stem.weight", [channels, planes, 3, 3], decays: true, convKernel: true)
        layout.add("stem.bias", [channels])
        for i in 0..<blocks {
            for conv in ["conv1", "conv2"] {
                layout.add(
                    "blocks.\(i).\(conv).weight", [channels, channels, 3, 3], decays: true,
                    convKernel: true)
                layout.add("blocks.\(i).\(conv).bias", [channels])
            }
        }
    }

    /// The trunk's matrices as LASER sees them: the stem at layer −1, block i's two convs at
    /// layer i, all of type `conv`.
    var reducibleMatrices: [(name: String, layer: Int)] {
        [("stem.weight", -1)]
            + (0..<blocks).flatMap { i in
                [("blocks.\(i).conv1.weight", i), ("blocks.\(i).conv2.weight", i)]
            }
    }

    /// Whether `name` is one of the trunk's parameters.
    static func owns(_ name: String) -> Bool {
        name.hasPrefix("stem.") || name.hasPrefix("blocks.")
    }

    /// He-normal for a trunk weight of fan-in `fanIn`; a block's second conv is scaled down so
    /// each block starts near the identity.
    static func initialStandardDeviation(weight name: String, fanIn: Int) -> Float {
        let std = (2 / Float(fanIn)).squareRoot()
        return name.hasSuffix("conv2.weight") ? std * 0.1 : std
    }
}

/// Sample-major regions of a trunk's activations and gradients. A sample holds `imagesPerSample`
/// boards (a DecisionTransformer's K states), stored one after another.
struct ConvTrunkPlan {
    let imagesPerSample: Int
    let input: SampleSpan  // (100, planes) channels-last observation
    let trunk: [SampleSpan]  // h_0...h_N (100, C)
    let inner: [SampleSpan]  // a_i (100, C), after conv1 + ReLU
    let col: SampleSpan  // (100, 9·max(C, planes)) im2col scratch
    let d1: SampleSpan, d2: SampleSpan  // (100, C); d1 holds ∂L/∂h_N when backward starts
    let dcol: SampleSpan  // (100, 9C)
    let inputKernel: SampleSpan  // per worker: (C, 9C), see `ConvKernels.inputGradientKernel`
    /// Every conv's kernel transposed to (9·cin, cout) for `DirectConvKernels`, written once per
    /// batch by `prepareTrunk`: the stem's, then block i's conv1 and conv2.
    let forwardKernels: SampleSpan
    let stemKernelCount: Int
    let blockKernelCount: Int

    init(
        _ shape: ConvTrunkShape, imagesPerSample: Int = 1, activations a: inout ArenaLayout,
        gradients g: inout ArenaLayout
    ) {
        self.imagesPerSample = imagesPerSample
        let cells = PolicyGeometry.cells * imagesPerSample
        let c = shape.channels
        input = a.take(cells * shape.planes)
        trunk = (0...shape.blocks).map { _ in a.take(cells * c) }
        inner = (0..<shape.blocks).map { _ in a.take(cells * c) }
        col = a.take(cells * 9 * max(c, shape.planes))
        d1 = g.take(cells * c)
        d2 = g.take(cells * c)
        dcol = g.take(cells * 9 * c)
        inputKernel = g.takeFixed(Parallel.workers * 9 * c * c)
        stemKernelCount = 9 * shape.planes * c
        blockKernelCount = 9 * c * c
        forwardKernels = a.takeFixed(stemKernelCount + 2 * shape.blocks * blockKernelCount)
    }

    /// The trunk's output h_N (100, C) per sample.
    var top: SampleSpan { trunk[trunk.count - 1] }

    /// Where `forwardKernels` holds the stem's kernel (`block` nil) or block i's conv1 / conv2.
    func forwardKernel(_ buffer: FloatBuffer, block: Int?, second: Bool = false) -> FloatPointer {
        guard let block else { return forwardKernels.at(buffer) }
        return forwardKernels.at(buffer) + stemKernelCount
            + (2 * block + (second ? 1 : 0)) * blockKernelCount
    }
}

/// Where a trunk's layers live in the flat parameter allocation.
struct ConvTrunk {
    let shape: ConvTrunkShape
    let stem: LayerOffsets
    let blockLayers: [(conv1: LayerOffsets, conv2: LayerOffsets)]

    /// `layer(name)` gives the offsets of the layer `name` (without `.weight`).
    init(_ shape: ConvTrunkShape, layer: (String) -> LayerOffsets) {
        self.shape = shape
        stem = layer("stem")
        blockLayers = (0..<shape.blocks).map {
            (layer("blocks.\($0).conv1"), layer("blocks.\($0).conv2"))
        }
    }
}

extension PlannedForward {
    /// Whether a conv goes through `DirectConvKernels` in the forward pass: its kernel is not
    /// reduced (LASER's factors go through im2col) and its shape suits the kernels.
    func convolvesDirectly(_ layer: LayerOffsets, cout: Int) -> Bool {
        layer.matrix.flatMap { reducible.reduced[$0] } == nil
            && DirectConvKernels.handles(cout: cout, width: PolicyGeometry.boardSize)
    }

    /// The factors of a reduced conv when they run through the direct kernels: the right factor
    /// (rank × 9·cin) as a 3×3 conv to `rank` channels, then the left (cout × rank) as a 1×1
    /// conv. Both transposes must fit the layer's slot of `plan.forwardKernels` (9·cin·cout).
    func directFactors(_ layer: LayerOffsets, cin: Int, cout: Int) -> FactoredMatrix? {
        guard let i = layer.matrix, case .factored(let f)? = reducible.reduced[i]?.value,
            DirectConvKernels.handles(cout: f.rank, width: PolicyGeometry.boardSize),
            PointwiseKernels.handles(rows: PolicyGeometry.cells, outputs: cout),
            f.rank * (9 * cin + cout) <= 9 * cin * cout
        else { return nil }
        return f
    }

    /// Transposes every trunk conv that `convolvesDirectly` (or whose factors do, see
    /// `directFactors`: the right factor, then the left) into `plan.forwardKernels`, once per
    /// batch rather than once per slice of it.
    func prepareTrunk(_ trunk: ConvTrunk, plan: ConvTrunkPlan, context: PolicyContext) {
        let values = parameters.values
        let act = context.activations
        let c = trunk.shape.channels
        func transpose(_ layer: LayerOffsets, cin: Int, into out: FloatPointer) {
            if let f = directFactors(layer, cin: cin, cout: c) {
                f.right.scalars.withUnsafeBufferPointer {
                    DirectConvKernels.transpose(out, $0.baseAddress!, cin: cin, cout: f.rank)
                }
                f.left.scalars.withUnsafeBufferPointer {
                    DirectConvKernels.transpose(
                        out + 9 * cin * f.rank, $0.baseAddress!, rows: c, cols: f.rank)
                }
                return
            }
            guard convolvesDirectly(layer, cout: c) else { return }
            DirectConvKernels.transpose(out, values.at(layer.weight), cin: cin, cout: c)
        }
        transpose(trunk.stem, cin: trunk.shape.planes, into: plan.forwardKernel(act, block: nil))
        for (i, layers) in trunk.blockLayers.enumerated() {
            transpose(layers.conv1, cin: c, into: plan.forwardKernel(act, block: i))
            transpose(layers.conv2, cin: c, into: plan.forwardKernel(act, block: i, second: true))
        }
    }

    /// out (rows, cout) = conv3x3(inp (rows, cin)) + bias: directly (`DirectConvKernels`, with
    /// the kernel `prepareTrunk` transposed into `transposed`) when `convolvesDirectly`, else via
    /// im2col, through the factored form when the kernel is reduced. `col` and `scratch` are the
    /// samples' scratch.
    func conv3x3(
        _ out: FloatPointer, _ inp: ConstFloatPointer, _ layer: LayerOffsets, cin: Int, cout: Int,
        batch: Int, transposed: ConstFloatPointer, col: FloatPointer, scratch: FloatPointer
    ) {
        let side = PolicyGeometry.boardSize
        if let f = directFactors(layer, cin: cin, cout: cout) {
            // scratch (rows, rank) = conv3x3 by the right factor; out = bias + scratch · leftᵀ.
            let r = f.rank
            DirectConvKernels.convolve(
                scratch, inp, rows: .forward(transposed, cin: cin, cout: r), bias: nil, cin: cin,
                cout: r, batch: batch, height: side, width: side, accumulate: false)
            PointwiseKernels.multiply(
                out, scratch, rows: .forward(transposed + 9 * cin * r, cin: r, cout: cout),
                bias: parameters.values.at(layer.bias), cin: r, cout: cout,
                n: batch * PolicyGeometry.cells, accumulate: false)
            return
        }
        if convolvesDirectly(layer, cout: cout) {
            DirectConvKernels.convolve(
                out, inp, rows: .forward(transposed, cin: cin, cout: cout),
                bias: parameters.values.at(layer.bias), cin: cin, cout: cout, batch: batch,
                height: side, width: side, accumulate: false)
            return
        }
        ConvKernels.im2col3x3(col, inp, batch: batch, height: side, width: side, channels: cin)
        linear(
            out, col, layer, rows: batch * PolicyGeometry.cells, ic: 9 * cin, oc: cout,
            scratch: scratch)
    }

    /// The trunk's forward pass over `samples` of the context's input; leaves h_N in `plan.top`.
    func forwardTrunk(
        _ trunk: ConvTrunk, plan: ConvTrunkPlan, context: PolicyContext, samples: Range<Int>,
        scratch: FloatPointer
    ) {
        let cells = PolicyGeometry.cells
        let planes = trunk.shape.planes
        ConvKernels.channelsLast(
            plan.input.at(context.activations, samples.lowerBound),
            context.input.at(samples.lowerBound * planes * cells), batch: samples.count,
            channels: planes, pixels: cells)
        forwardTrunk(
            trunk, plan: plan, activations: context.activations, samples: samples,
            scratch: scratch)
    }

    /// The trunk's forward pass over `samples` from the channels-last boards already in
    /// `plan.input`; leaves h_N in `plan.top`.
    func forwardTrunk(
        _ trunk: ConvTrunk, plan: ConvTrunkPlan, activations act: FloatBuffer,
        samples: Range<Int>, scratch: FloatPointer
    ) {
        let s0 = samples.lowerBound
        let batch = samples.count * plan.imagesPerSample
        let shape = trunk.shape
        let c = shape.channels
        let rows = batch * PolicyGeometry.cells
        let col = plan.col.at(act, s0)
        let h0 = plan.trunk[0].at(act, s0)
        conv3x3(
            h0, plan.input.at(act, s0), trunk.stem, cin: shape.planes, cout: c, batch: batch,
            transposed: plan.forwardKernel(act, block: nil), col: col, scratch: scratch)
        ActivationKernels.reluForward(h0, h0, count: rows * c)
        for i in 0..<shape.blocks {
            let h = plan.trunk[i].at(act, s0)
            let a = plan.inner[i].at(act, s0)
            let next = plan.trunk[i + 1].at(act, s0)
            conv3x3(
                a, h, trunk.blockLayers[i].conv1, cin: c, cout: c, batch: batch,
                transposed: plan.forwardKernel(act, block: i), col: col, scratch: scratch)
            ActivationKernels.reluForward(a, a, count: rows * c)
            conv3x3(
                next, a, trunk.blockLayers[i].conv2, cin: c, cout: c, batch: batch,
                transposed: plan.forwardKernel(act, block: i, second: true), col: col,
                scratch: scratch)
            ActivationKernels.add(next, next, h, count: rows * c)
            ActivationKernels.reluForward(next, next, count: rows * c)
        }
    }

    /// Adds a 3×3 conv's kernel and bias gradients (given its output gradient `dout` and its
    /// input) into `grads`: the direct kernel when the shape allows, else im2col (into `col`) +
    /// GEMM.
    func kernelGradient3x3(
        _ layer: LayerOffsets, into grads: FloatBuffer, of dout: ConstFloatPointer,
        input: ConstFloatPointer, cin: Int, cout: Int, batch: Int, col: FloatPointer
    ) {
        let side = PolicyGeometry.boardSize
        let rows = batch * PolicyGeometry.cells
        guard DirectConvKernels.handlesWeightGradient(cin: cin, cout: cout, width: side) else {
            ConvKernels.im2col3x3(
                col, input, batch: batch, height: side, width: side, channels: cin)
            LinearKernels.backward(
                nil, grads.at(layer.weight), grads.at(layer.bias), dout, col,
                parameters.values.at(layer.weight), n: rows, ic: 9 * cin, oc: cout)
            return
        }
        DirectConvKernels.weightGradient(
            grads.at(layer.weight), input, dout: dout, cin: cin, cout: cout, batch: batch,
            height: side, width: side)
        LinearKernels.addBiasGradient(grads.at(layer.bias), dout, n: rows, oc: cout)
    }

    /// dinp (=, or += with `accumulate`) the input gradient of a block's 3×3 conv (`channels` in
    /// and out) given its output gradient `dout`: the direct kernel reading the stored weight's
    /// rows, taps reversed, when the shape allows, else `ConvKernels.inputGradient3x3` (`kernel`
    /// and `dcol` its scratch).
    func inputGradient3x3(
        _ dinp: FloatPointer, of dout: ConstFloatPointer, weight: ConstFloatPointer,
        channels c: Int, batch: Int, kernel: FloatPointer, dcol: FloatPointer, accumulate: Bool
    ) {
        let side = PolicyGeometry.boardSize
        if DirectConvKernels.handles(cout: c, width: side) {
            DirectConvKernels.convolve(
                dinp, dout, rows: .inputGradient(of: weight, cin: c), bias: nil, cin: c, cout: c,
                batch: batch, height: side, width: side, accumulate: accumulate)
            return
        }
        ConvKernels.inputGradient3x3(
            dinp, of: dout, weight: weight, cin: c, cout: c, batch: batch, height: side,
            width: side, kernel: kernel, dcol: dcol, accumulate: accumulate)
    }

    /// The trunk's backward pass over `samples`, from ∂L/∂h_N in `plan.d1` (which it overwrites),
    /// adding parameter gradients into `grads`. No gradient is formed for the observations.
    func backwardTrunk(
        _ trunk: ConvTrunk, plan: ConvTrunkPlan, context: PolicyContext, samples: Range<Int>,
        worker: Int, arena g: FloatBuffer, into grads: FloatBuffer
    ) {
        let act = context.activations
        let values = parameters.values
        let s0 = samples.lowerBound
        let batch = samples.count * plan.imagesPerSample
        let shape = trunk.shape
        let c = shape.channels
        let rows = batch * PolicyGeometry.cells
        let d1 = plan.d1.at(g, s0)
        let d2 = plan.d2.at(g, s0)
        let dcol = plan.dcol.at(g, s0)
        let col = plan.col.at(act, s0)
        let kernel = plan.inputKernel.at(g) + worker * 9 * c * c
        // Residual blocks, last first. d1 holds ∂L/∂h_{i+1}.
        for i in stride(from: shape.blocks - 1, through: 0, by: -1) {
            let h = plan.trunk[i].at(act, s0)
            let a = plan.inner[i].at(act, s0)
            let next = plan.trunk[i + 1].at(act, s0)
            let conv1 = trunk.blockLayers[i].conv1
            let conv2 = trunk.blockLayers[i].conv2
            ActivationKernels.reluBackward(d1, d1, next, count: rows * c)  // d1 = ∂L/∂(h + conv2)
            kernelGradient3x3(
                conv2, into: grads, of: d1, input: a, cin: c, cout: c, batch: batch, col: col)
            // d2 = ∂L/∂a, the input gradient: a convolution of d1.
            inputGradient3x3(
                d2, of: d1, weight: values.at(conv2.weight), channels: c, batch: batch,
                kernel: kernel, dcol: dcol, accumulate: false)
            ActivationKernels.reluBackward(d2, d2, a, count: rows * c)
            kernelGradient3x3(
                conv1, into: grads, of: d2, input: h, cin: c, cout: c, batch: batch, col: col)
            // d1 (the residual path's ∂L/∂h) += the conv1 path's.
            inputGradient3x3(
                d1, of: d2, weight: values.at(conv1.weight), channels: c, batch: batch,
                kernel: kernel, dcol: dcol, accumulate: true)
        }
        // Stem.
        ActivationKernels.reluBackward(d1, d1, plan.trunk[0].at(act, s0), count: rows * c)
        kernelGradient3x3(
            trunk.stem, into: grads, of: d1, input: plan.input.at(act, s0), cin: shape.planes,
            cout: c, batch: batch, col: col)
    }
}

extension PolicyNetwork {
    /// Copies every conv-trunk tensor (stem, residual blocks) of this network from the same-named
    /// tensor of `source`, e.g. a trained ConvPolicy's first blocks into a new TransformerPolicy's
    /// trunk; returns how many were copied. `source` may have more blocks than this network.
    public func copyConvTrunk(from source: any PolicyNetwork) throws -> Int {
        let names = parameters.infos.map(\.name).filter(ConvTrunkShape.owns)
        guard !names.isEmpty else {
            throw PolicyError.invalidConfiguration(
                "this \(architectureName) network has no conv trunk to copy into")
        }
        for name in names {
            let shape = try parameters.info(named: name).shape
            guard let theirs = try? source.parameters.info(named: name) else {
                throw PolicyError.invalidConfiguration(
                    "the \(source.architectureName) network has no '\(name)' for the trunk")
            }
            guard theirs.shape == shape else {
                throw PolicyError.invalidConfiguration(
                    "'\(name)' is \(theirs.shape) in the \(source.architectureName) network, \(shape) here"
                )
            }
        }
        for name in names {
            try parameters.setTensor(named: name, to: try source.parameters.tensor(named: name))
        }
        return names.count
    }
}
