// One training loop's state: gradients, Adam moments, the step counter and a reusable workspace.
import Laser
import LinearAlgebra

/// Losses and statistics of one supervised step (or evaluation) over a batch.
public struct SupervisedResult: Sendable {
    /// Mean softmax cross-entropy of the target actions.
    public var policyLoss: Double
    /// Mean squared error of the value.
    public var valueLoss: Double
    /// Fraction of samples whose greedy action is the target.
    public var accuracy: Double
    /// Global gradient norm before clipping (0 for an evaluation).
    public var gradientNorm: Double = 0
    /// Learning rate used (0 for an evaluation).
    public var learningRate: Float = 0
    /// Mean cross-entropy against the teacher's probabilities (0 without a teacher).
    public var distillationLoss: Double = 0
}

/// Soft targets for a supervised step: a teacher's action probabilities (batch × 4, rows summing
/// to 1) and the weight of their cross-entropy; the target sets' loss gets 1 − weight.
public struct SoftTargets {
    public var probabilities: [Float]
    public var weight: Float

    public init(probabilities: [Float], weight: Float) {
        self.probabilities = probabilities
        self.weight = weight
    }
}

/// What one optimizer step did.
public struct OptimizerStepResult: Sendable {
    public var gradientNorm: Double
    public var learningRate: Float
}

/// Trains a policy network: forward, loss gradients, backward, clipping, Adam/AdamW.
///
/// For supervised learning call `supervisedStep`; for any other loss (PPO) call `forward`, read the
/// outputs from `context`, hand the loss gradients to `context.setOutputGradients`, then call
/// `backward` and `applyGradients`. A step allocates nothing proportional to the batch.
public final class PolicyTrainer {
    public let model: any PolicyNetwork
    public let config: OptimizerConfig
    /// The workspace of every forward/backward pass the trainer runs.
    public let context: PolicyContext
    /// Accumulated gradients (zeroed by `applyGradients`).
    public let gradients: ParameterGradients
    let adam: AdamState
    /// Optimizer steps taken so far.
    public internal(set) var step = 0
    /// The matrices LASER had reduced when the trainer was made, each with its rank: training keeps
    /// them there (see `applyGradients`), so the network trained is the rank-reduced one.
    public let rankConstraints: [(name: String, rank: Int)]
    private var targetSets: [UInt8]

    public init(model: any PolicyNetwork, config: OptimizerConfig, batchCapacity: Int) throws {
        try config.validate()
        guard batchCapacity >= 1 else {
            throw PolicyError.invalidBatch("batch capacity must be positive")
        }
        self.model = model
        self.config = config
        context = model.makeContext(batchCapacity: batchCapacity)
        gradients = model.makeGradients()
        adam = AdamState(count: model.parameters.allocatedCount)
        rankConstraints = model.reducedMatrixNames.compactMap { name in
            model.factors(ofMatrix: name).map { (name, $0.rank) }
        }
        targetSets = [UInt8](repeating: 0, count: batchCapacity)
    }

    /// Runs the forward pass on `batch` observations (planes × 10 × 10 floats each).
    public func forward(observations: [Float], batch: Int) throws {
        try context.setObservations(observations, batch: batch)
        model.forward(context, batch: batch)
    }

    /// Adds the gradients of the loss set with `context.setOutputGradients` to `gradients`.
    /// A reduced matrix's gradient is the dense one: the parameters hold its reconstruction.
    public func backward() throws {
        model.backward(context, gradients: gradients)
    }

    /// Clips the accumulated gradients by global norm, takes one Adam(W) step at the scheduled
    /// learning rate, zeroes the gradients and advances the step counter. Each rank-constrained
    /// matrix is then put back to its best approximation of its rank (projected gradient descent:
    /// the step moves the dense reconstruction, the SVD brings it back to rank k).
    @discardableResult
    public func applyGradients() throws -> OptimizerStepResult {
        let norm = gradients.norm
        var scale: Float = 1
        if let maximum = config.maxGradientNorm, norm > Double(maximum) {
            scale = Float(Double(maximum) / (norm + 1e-6))
        }
        let lr = config.learningRate(atStep: step)
        step += 1
        adam.update(
            parameters: model.parameters, gradients: gradients.buffer, config: config,
            learningRate: lr, gradientScale: scale, step: step)
        gradients.zero()
        try projectOntoRanks()
        return OptimizerStepResult(gradientNorm: norm, learningRate: lr)
    }

    /// Puts every rank-constrained matrix back to its best rank-k approximation (Eckart–Young).
    func projectOntoRanks() throws {
        for (name, rank) in rankConstraints {
            let info = try model.matrixInfo(named: name)
            let dense = try model.weightMatrix(named: name).reshaped([info.rows, info.columns])
            let (left, right) = try svd(dense).truncatedFactors(rank: rank)
            try model.setWeightMatrix(
                named: name, to: .factored(FactoredMatrix(left: left, right: right)))
        }
    }

    /// One step of cross-entropy on `actions` plus `valueWeight` × MSE on `valueTargets`.
    public func supervisedStep(
        observations: [Float], actions: [Int], valueTargets: [Float], valueWeight: Float = 0.5
    ) throws -> SupervisedResult {
        try supervisedStep(
            observations: observations, actionSets: try Self.singletons(actions),
            valueTargets: valueTargets, valueWeight: valueWeight)
    }

    /// One step of −log P(target set) (see `ActionSet`) plus `valueWeight` × MSE on `valueTargets`;
    /// with `soft`, the policy loss is (1 − w) × that plus w × the cross-entropy against the
    /// teacher's probabilities (distillation).
    public func supervisedStep(
        observations: [Float], actionSets: [ActionSet], valueTargets: [Float],
        valueWeight: Float = 0.5, soft: SoftTargets? = nil
    ) throws -> SupervisedResult {
        var result = try losses(
            observations: observations, actionSets: actionSets, valueTargets: valueTargets,
            valueWeight: valueWeight, soft: soft)
        try backward()
        let step = try applyGradients()
        result.gradientNorm = step.gradientNorm
        result.learningRate = step.learningRate
        return result
    }

    /// Adds the gradient of the batch's mean −log P(target set) (no value term) to `gradients`
    /// without a step: for first-order scores of an edit, not for training.
    public func accumulatePolicyGradient(observations: [Float], actionSets: [ActionSet]) throws
        -> SupervisedResult
    {
        let result = try losses(
            observations: observations, actionSets: actionSets,
            valueTargets: [Float](repeating: 0, count: actionSets.count), valueWeight: 0)
        try backward()
        return result
    }

    /// The supervised losses and accuracy of a batch without changing the model.
    public func evaluate(observations: [Float], actions: [Int], valueTargets: [Float]) throws
        -> SupervisedResult
    {
        try evaluate(
            observations: observations, actionSets: try Self.singletons(actions),
            valueTargets: valueTargets)
    }

    /// The losses of a batch with target action sets; accuracy counts argmaxes inside the set.
    public func evaluate(observations: [Float], actionSets: [ActionSet], valueTargets: [Float])
        throws
        -> SupervisedResult
    {
        try losses(
            observations: observations, actionSets: actionSets, valueTargets: valueTargets,
            valueWeight: 0)
    }

    static func singletons(_ actions: [Int]) throws -> [ActionSet] {
        try actions.enumerated().map { i, a in
            guard a >= 0 && a < PolicyGeometry.actionCount else {
                throw PolicyError.invalidBatch("action \(a) at sample \(i) is not in 0..<4")
            }
            return ActionSet(action: a)
        }
    }

    private func losses(
        observations: [Float], actionSets: [ActionSet], valueTargets: [Float], valueWeight: Float,
        soft: SoftTargets? = nil
    ) throws -> SupervisedResult {
        let batch = actionSets.count
        if let soft {
            guard soft.probabilities.count >= batch * PolicyGeometry.actionCount else {
                throw PolicyError.invalidBatch(
                    "\(soft.probabilities.count) soft targets for \(batch) samples of 4 actions")
            }
            guard soft.weight >= 0 && soft.weight <= 1 else {
                throw PolicyError.invalidBatch(
                    "the soft targets' weight \(soft.weight) is not in [0, 1]")
            }
        }
        guard valueTargets.count == batch else {
            throw PolicyError.invalidBatch(
                "\(batch) action targets but \(valueTargets.count) value targets")
        }
        guard batch <= context.batchCapacity else {
            throw PolicyError.invalidBatch(
                "batch \(batch) exceeds the capacity \(context.batchCapacity)")
        }
        for (i, set) in actionSets.enumerated() {
            guard !set.isEmpty else {
                throw PolicyError.invalidBatch("the target action set of sample \(i) is empty")
            }
            targetSets[i] = set.rawValue
        }
        try forward(observations: observations, batch: batch)
        let scale = 1 / Float(batch)
        let softWeight = soft?.weight ?? 0
        let (ce, correct) = targetSets.withUnsafeBufferPointer { t in
            LossKernels.softmaxCrossEntropy(
                context.dLogits.pointer, context.logits.pointer, t.baseAddress!, batch: batch,
                scale: (1 - softWeight) * scale)
        }
        let distillation =
            soft.map { soft in
                soft.probabilities.withUnsafeBufferPointer { q in
                    LossKernels.addSoftCrossEntropy(
                        context.dLogits.pointer, context.logits.pointer, q.baseAddress!,
                        batch: batch, weight: soft.weight, scale: scale)
                }
            } ?? 0
        let mse = valueTargets.withUnsafeBufferPointer { t in
            LossKernels.meanSquaredError(
                context.dValues.pointer, context.values.pointer, t.baseAddress!, batch: batch,
                scale: valueWeight * scale)
        }
        return SupervisedResult(
            policyLoss: ce / Double(batch), valueLoss: mse / Double(batch),
            accuracy: Double(correct) / Double(batch),
            distillationLoss: distillation / Double(batch))
    }
}
