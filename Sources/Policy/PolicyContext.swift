// Per-thread workspaces of a policy network: its input, outputs, activations and their gradients.

/// Everything one forward (and backward) pass writes, sized once for a batch capacity and reused
/// every step. Make one per thread: the model's weights are shared read-only between contexts.
public final class PolicyContext {
    /// The largest batch this context holds.
    public let batchCapacity: Int
    /// Observation planes per cell.
    public let planeCount: Int
    let owner: ObjectIdentifier
    /// (B, planes, 10, 10) observation planes.
    let input: FloatBuffer
    /// (B, 4) action logits.
    let logits: FloatBuffer
    /// (B) value estimates.
    let values: FloatBuffer
    /// (B, 4) and (B): the loss gradients backward starts from.
    let dLogits: FloatBuffer
    let dValues: FloatBuffer
    /// The architecture's activations and scratch, laid out by its plan.
    let activations: FloatBuffer
    /// Activation gradients, allocated on the first backward pass.
    var gradientArena: FloatBuffer?
    let gradientArenaCount: Int
    /// The architecture's offsets into the arenas.
    let plan: Any
    /// The batch of the last forward pass.
    public internal(set) var batch = 0
    /// At most this many threads share a batch (1 to 2, default 2). Set 1 when several threads
    /// each run their own context at once, so the cores are not oversubscribed.
    public var maximumWorkers = Parallel.workers {
        didSet { maximumWorkers = min(max(1, maximumWorkers), Parallel.workers) }
    }

    init(
        owner: AnyObject, batchCapacity: Int, planeCount: Int, activationCount: Int,
        gradientCount: Int, plan: Any
    ) {
        self.owner = ObjectIdentifier(owner)
        self.batchCapacity = batchCapacity
        self.planeCount = planeCount
        input = FloatBuffer(count: batchCapacity * planeCount * PolicyGeometry.cells)
        logits = FloatBuffer(count: batchCapacity * PolicyGeometry.actionCount)
        values = FloatBuffer(count: batchCapacity)
        dLogits = FloatBuffer(count: batchCapacity * PolicyGeometry.actionCount)
        dValues = FloatBuffer(count: batchCapacity)
        activations = FloatBuffer(count: activationCount)
        gradientArenaCount = gradientCount
        self.plan = plan
    }

    /// Private gradient buffers of the workers after the first (the first adds into the caller's).
    private var extraWorkerGradients: [FloatBuffer] = []

    /// The buffer each worker of a batch split adds its parameter gradients into: `main` for the
    /// first, zeroed private buffers for the others.
    func workerGradients(batch: Int, main: FloatBuffer) -> [FloatBuffer] {
        let workers = Parallel.workerCount(batch, limit: maximumWorkers)
        while extraWorkerGradients.count < workers - 1 {
            extraWorkerGradients.append(FloatBuffer(count: main.count))
        }
        for buffer in extraWorkerGradients.prefix(workers - 1) { buffer.zero() }
        return [main] + extraWorkerGradients.prefix(workers - 1)
    }

    /// Adds the other workers' gradients into the first's.
    func reduceWorkerGradients(_ buffers: [FloatBuffer]) {
        for buffer in buffers.dropFirst() {
            ActivationKernels.accumulate(buffers[0].pointer, buffer.pointer, count: buffer.count)
        }
    }

    func gradients() -> FloatBuffer {
        if let arena = gradientArena { return arena }
        let arena = FloatBuffer(count: gradientArenaCount)
        gradientArena = arena
        return arena
    }

    /// Floats per observation: planes × 10 × 10.
    public var observationCount: Int { planeCount * PolicyGeometry.cells }

    /// Sets the whole input: `batch` observations of planes × 10 × 10 floats each.
    public func setObservations(_ planes: [Float], batch: Int) throws {
        guard batch >= 1 && batch <= batchCapacity else {
            throw PolicyError.invalidBatch("batch \(batch) outside 1...\(batchCapacity)")
        }
        guard planes.count == batch * observationCount else {
            throw PolicyError.planeCountMismatch(
                expected: batch * observationCount, got: planes.count)
        }
        planes.withUnsafeBufferPointer {
            input.pointer.update(from: $0.baseAddress!, count: $0.count)
        }
    }

    /// Sets one sample from a height × width board's planes (planes × height × width), padding a
    /// smaller board with wall; a board larger than 10×10 is refused.
    public func setObservation(
        sample: Int, planes: [Float], height: Int = PolicyGeometry.boardSize,
        width: Int = PolicyGeometry.boardSize, wallPlane: Int = 0
    ) throws {
        guard sample >= 0 && sample < batchCapacity else {
            throw PolicyError.invalidBatch("sample \(sample) outside 0..<\(batchCapacity)")
        }
        try planes.withUnsafeBufferPointer { src in
            try BoardInput.write(
                src, planeCount: planeCount, height: height, width: width, wallPlane: wallPlane,
                into: input.at(sample * observationCount))
        }
    }

    /// The 4 action logits of a sample of the last forward pass.
    public func logits(sample: Int) -> [Float] {
        precondition(sample >= 0 && sample < batch, "sample \(sample) outside the last batch")
        let a = PolicyGeometry.actionCount
        return Array(UnsafeBufferPointer(start: logits.at(sample * a), count: a))
    }

    /// The value estimate of a sample of the last forward pass.
    public func value(sample: Int) -> Float {
        precondition(sample >= 0 && sample < batch, "sample \(sample) outside the last batch")
        return values.pointer[sample]
    }

    /// softmax(logits) of a sample.
    public func probabilities(sample: Int) -> [Float] {
        let distribution = ActionDistribution(logits(sample: sample), sample: 0)
        return (0..<PolicyGeometry.actionCount).map { distribution.probability(of: $0) }
    }

    /// The action with the largest logit (the first on ties).
    public func greedyAction(sample: Int) -> Int {
        precondition(sample >= 0 && sample < batch, "sample \(sample) outside the last batch")
        let row = logits.at(sample * PolicyGeometry.actionCount)
        return ActionDistribution.argmax(SIMD4(row[0], row[1], row[2], row[3]))
    }

    /// Copies the last batch's logits (B × 4) and values (B) into caller-owned arrays, resizing
    /// them only when too small.
    public func copyOutputs(logits outLogits: inout [Float], values outValues: inout [Float]) {
        let a = PolicyGeometry.actionCount
        if outLogits.count < batch * a { outLogits = [Float](repeating: 0, count: batch * a) }
        if outValues.count < batch { outValues = [Float](repeating: 0, count: batch) }
        outLogits.withUnsafeMutableBufferPointer {
            $0.baseAddress!.update(from: logits.pointer, count: batch * a)
        }
        outValues.withUnsafeMutableBufferPointer {
            $0.baseAddress!.update(from: values.pointer, count: batch)
        }
    }

    /// Sets the loss gradients with respect to the last batch's logits (B × 4) and values (B).
    public func setOutputGradients(logits gradLogits: [Float], values gradValues: [Float]) throws {
        let a = PolicyGeometry.actionCount
        guard gradLogits.count == batch * a && gradValues.count == batch else {
            throw PolicyError.invalidBatch(
                "gradients of \(gradLogits.count) logits and \(gradValues.count) values for a batch of \(batch)"
            )
        }
        gradLogits.withUnsafeBufferPointer {
            dLogits.pointer.update(from: $0.baseAddress!, count: batch * a)
        }
        gradValues.withUnsafeBufferPointer {
            dValues.pointer.update(from: $0.baseAddress!, count: batch)
        }
    }
}
