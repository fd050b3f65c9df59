// What the two architectures' forward passes share: a linear layer that multiplies through LASER's
// factors when its matrix is reduced, and splitting a batch over the workers.

/// A network whose forward pass runs per slice of the batch over a precomputed plan of offsets.
protocol PlannedForward: PolicyNetwork {
    associatedtype Plan
    var reducible: ReducibleParameters { get }
    /// The forward pass of samples `samples` (one worker's share of the batch).
    func forward(_ context: PolicyContext, plan: Plan, samples: Range<Int>)
}

extension PlannedForward {
    /// out = inp · Wᵀ + b for `layer` over `rows` rows, through the factors when LASER reduced W.
    func linear(
        _ out: FloatPointer, _ inp: ConstFloatPointer, _ layer: LayerOffsets, rows: Int, ic: Int,
        oc: Int, scratch: FloatPointer
    ) {
        let values = parameters.values
        LinearKernels.forward(
            out, inp, values.at(layer.weight), values.at(layer.bias), n: rows, ic: ic, oc: oc,
            reduced: layer.matrix.flatMap { reducible.reduced[$0] }, scratch: scratch)
    }

    /// Runs the whole batch: slices over the context's workers, each in cache-sized chunks.
    func forwardBatch(_ context: PolicyContext, batch: Int) {
        precondition(context.owner == ObjectIdentifier(self), "context belongs to another model")
        precondition(batch >= 1 && batch <= context.batchCapacity, "batch outside the context")
        let plan = context.plan as! Plan
        context.batch = batch
        Parallel.split(batch, limit: context.maximumWorkers) { samples, _ in
            for chunk in Parallel.chunks(samples) { forward(context, plan: plan, samples: chunk) }
        }
    }
}
