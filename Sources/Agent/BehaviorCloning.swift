// Behavior cloning: cross-entropy on the solver's actions plus value regression on the return-to-go,
// over symmetry-augmented demonstration batches, with held-out accuracy, checkpoints and resume.
import Core
import Foundation
import LinearAlgebra
import Policy
import Sokoban

/// Every behavior-cloning hyperparameter, in one place.
public struct BehaviorCloningConfig: Sendable {
    /// Samples per optimizer step.
    public var batchSize = 256
    /// Optimizer steps in total (the cosine schedule ends here).
    public var steps = 6000
    /// Peak learning rate, reached after `warmupSteps`.
    public var learningRate: Float = 2e-3
    public var warmupSteps = 200
    /// AdamW weight decay on weight matrices.
    public var weightDecay: Float = 1e-4
    /// Weight of the value MSE beside the policy cross-entropy.
    public var valueWeight: Float = 0.25
    /// Discount of the return-to-go targets (PPO's value head uses the same).
    public var gamma: Float = 0.99
    /// The value head predicts returns times this (PPO's `rewardScale`): raw returns reach ±10 and
    /// their squared error would swamp the cross-entropy in the shared trunk.
    public var returnScale: Float = 0.1
    /// Train on a random one of the board's eight symmetries of each sample.
    public var augment = true
    /// Steps between held-out evaluations (and checkpoints).
    public var evaluateEvery = 500
    /// Held-out samples scored at each evaluation (from levels never trained on).
    public var heldOutSamples = 4096
    /// Held-out levels played greedily at each evaluation (0 for none).
    public var solveLevels = 100
    /// Collection rounds of solver-labelled positions from the policy's own play (off by default).
    public var dagger = DAggerConfig()
    /// Fraction of each batch drawn from the DAgger positions once there are some (0: every
    /// training sample equally likely). The positions the policy itself reaches are a small part
    /// of the data but the part that decides its solve rate.
    public var daggerShare = 0.0
    /// With a teacher: the weight of the cross-entropy against its symmetry-averaged
    /// probabilities in the policy loss (the solver's action sets get the rest).
    public var distillationWeight: Float = 0.5
    /// Seed of the batch sampling (batch n draws from a stream derived from seed and n, so a
    /// resumed run draws the same batches as an uninterrupted one).
    public var seed: UInt64 = 1

    public init() {}

    /// The optimizer schedule this run uses.
    public var optimizer: OptimizerConfig {
        var o = OptimizerConfig()
        o.learningRate = learningRate
        o.warmupSteps = warmupSteps
        o.totalSteps = steps
        o.weightDecay = weightDecay
        o.maxGradientNorm = 1
        return o
    }

    /// Throws for the first setting out of its range.
    public func validate() throws {
        guard (1...65536).contains(batchSize) else {
            throw AgentError.invalidSetting("batch size must be in 1...65536")
        }
        guard steps >= 1 else { throw AgentError.invalidSetting("steps must be positive") }
        guard evaluateEvery >= 1 else {
            throw AgentError.invalidSetting("evaluation interval must be positive")
        }
        guard gamma > 0 && gamma <= 1 else {
            throw AgentError.invalidSetting("gamma must be in (0, 1]")
        }
        guard distillationWeight >= 0 && distillationWeight <= 1 else {
            throw AgentError.invalidSetting("the distillation weight must be in [0, 1]")
        }
        guard daggerShare >= 0 && daggerShare < 1 else {
            throw AgentError.invalidSetting("the DAgger share of a batch must be in [0, 1)")
        }
        try optimizer.validate()
        try dagger.validate()
    }
}

/// Mean losses and accuracy over held-out samples.
public struct HeldOutScore: Sendable {
    public var policyLoss = 0.0
    public var valueLoss = 0.0
    public var accuracy = 0.0
}

/// One held-out evaluation during training.
public struct BehaviorCloningReport: Sendable {
    public var step: Int
    /// Mean training losses and accuracy since the previous report.
    public var trainPolicyLoss: Double
    public var trainValueLoss: Double
    public var trainAccuracy: Double
    /// On held-out samples.
    public var heldOut: HeldOutScore
    /// Greedy solve rate on held-out levels (nil when `solveLevels` is 0).
    public var solveRate: Double?
    public var seconds: Double
}

/// A behavior-cloning run over demonstration levels: the last `heldOutLevels` levels are kept out
/// of training and used for held-out accuracy and solve rate.
public final class BehaviorCloning {
    public let config: BehaviorCloningConfig
    public let trainer: PolicyTrainer
    var data: DemonstrationData
    var trainSamples: [Int]
    /// The indices of DAgger positions among the samples.
    var collectedSamples: [Int] = []
    let heldOutSampleIndices: [Int]
    let heldOutLevels: [Level]
    let trainingLevels: [Level]
    /// Positions collected by DAgger rounds so far (solver-labelled levels), oldest first.
    public private(set) var collectedStates: [Level] = []
    private var observations: [Float]
    private var actionSets: [ActionSet]
    private var targets: [Float]
    /// The teacher whose symmetry-averaged probabilities the policy also learns (distillation).
    let teacher: (any PolicyNetwork)?
    /// Its probabilities of every sample (4 each, the sample's own orientation); empty without one.
    private var teacherProbabilities: [Float] = []
    /// One batch's soft targets (batch × 4).
    private var softTargets: [Float]

    /// Builds the run. `trainer` may come from a checkpoint (its step is where training resumes);
    /// `collected` are the positions earlier DAgger rounds added (those of rounds after the
    /// trainer's step are dropped, so a resumed run sees the data an uninterrupted one saw).
    /// `imported` are solver-labelled positions from another run (e.g. the DAgger file of the
    /// policy this run starts from): sampled like collected ones, but never saved with them.
    /// `files` names where each list came from, for errors about their levels. With `teacher`,
    /// the policy loss mixes in the teacher's symmetry-averaged probabilities
    /// (`distillationWeight`), kept in the file `teacherCache` for the next run on the same data;
    /// `teacherProgress` hears (samples done, samples to do) while the teacher computes them.
    public init(
        trainer: PolicyTrainer, levels: [Level], heldOutLevels heldOutCount: Int,
        config: BehaviorCloningConfig, collected: [Level] = [], imported: [Level] = [],
        files: (levels: String?, collected: String?, imported: String?) = (nil, nil, nil),
        teacher: (any PolicyNetwork)? = nil, teacherCache: String? = nil,
        teacherProgress: ((Int, Int) -> Void)? = nil
    ) throws {
        try config.validate()
        guard heldOutCount >= 0 && heldOutCount < levels.count else {
            throw AgentError.invalidSetting(
                "held-out levels (\(heldOutCount)) must be fewer than the \(levels.count) levels")
        }
        guard trainer.context.batchCapacity >= config.batchSize else {
            throw AgentError.invalidSetting(
                "the trainer holds batches of \(trainer.context.batchCapacity), fewer than \(config.batchSize)"
            )
        }
        self.config = config
        self.trainer = trainer
        data = try AgentError.naming(files.levels) {
            try DemonstrationData(
                levels: levels, gamma: config.gamma,
                config: AgentGeometry.environment(for: trainer.model, config.dagger.environment))
        }
        if let sequence = trainer.model as? any SequencePolicy {
            // A sequence policy learns from whole episodes: positions labelled one at a time (DAgger)
            // and a one-board teacher have no history to give it.
            guard teacher == nil, config.dagger.every == 0, collected.isEmpty, imported.isEmpty
            else {
                throw AgentError.invalidSetting(
                    "a \(trainer.model.architectureName) trains on whole solver episodes only (no DAgger, imported positions or teacher)"
                )
            }
            data.sequence = sequence.inputLayout
        }
        observationCount = data.planeCount * AgentGeometry.cells
        let firstHeldOut = Int32(levels.count - heldOutCount)
        var train: [Int] = []
        var held: [Int] = []
        for i in 0..<data.count {
            if data.levelIndex[i] < firstHeldOut { train.append(i) } else { held.append(i) }
        }
        trainSamples = train
        // An evenly spaced subset keeps the held-out score cheap.
        let keep = min(held.count, config.heldOutSamples)
        heldOutSampleIndices = (0..<keep).map { held[$0 * held.count / max(1, keep)] }
        heldOutLevels = Array(levels.suffix(heldOutCount))
        trainingLevels = Array(levels.prefix(levels.count - heldOutCount))
        observations = [Float](
            repeating: 0, count: config.batchSize * observationCount)
        actionSets = [ActionSet](repeating: [], count: config.batchSize)
        targets = [Float](repeating: 0, count: config.batchSize)
        softTargets = [Float](
            repeating: 0, count: teacher == nil ? 0 : config.batchSize * PolicyGeometry.actionCount)
        self.teacher = teacher
        if let teacher {
            teacherProbabilities = try Distillation.probabilities(
                teacher: teacher, data: data, cache: teacherCache, progress: teacherProgress)
        }
        let roundsDone = config.dagger.every > 0 ? trainer.step / config.dagger.every : 0
        let kept = collected.filter { (DAgger.round(ofTitle: $0.title) ?? Int.max) <= roundsDone }
        try AgentError.naming(files.imported) {
            try add(states: imported, teacherProgress: teacherProgress)
        }
        importedCount = imported.count
        try AgentError.naming(files.collected) { try add(collected: kept) }
    }

    /// Floats in one sample's observation (the policy's planes × 100).
    let observationCount: Int

    /// Positions imported from another run (sampled as DAgger positions, not saved).
    public private(set) var importedCount = 0

    /// Adds positions collected by this run's DAgger rounds to the training samples.
    func add(collected states: [Level]) throws {
        try add(states: states)
        collectedStates.append(contentsOf: states)
    }

    /// Adds solver-labelled positions (a solution from each) as DAgger samples.
    private func add(states: [Level], teacherProgress: Distillation.Progress? = nil) throws {
        guard !states.isEmpty else { return }
        let first = data.count
        try data.append(levels: states, firstStepOnly: true, indexed: false)
        if let teacher {
            teacherProbabilities += try Distillation.probabilities(
                teacher: teacher, data: data, samples: first..<data.count,
                progress: teacherProgress)
        }
        trainSamples.append(contentsOf: first..<data.count)
        collectedSamples.append(contentsOf: first..<data.count)
    }

    /// DAgger round `round`: the policy plays the next `levelsPerRound` training levels (in turn,
    /// wrapping around) and the labelled positions join the training samples.
    public func collect(round: Int, workers: Int) throws -> DAggerRound {
        let k = min(config.dagger.levelsPerRound, trainingLevels.count)
        let numbers = (0..<k).map { ((round - 1) * k + $0) % trainingLevels.count }
        let (states, report) = try DAgger.collect(
            model: trainer.model, levels: numbers.map { trainingLevels[$0] },
            levelNumbers: numbers.map { $0 + 1 },
            round: round, config: config.dagger, workers: workers)
        try add(collected: states)
        return report
    }

    /// Training samples (after holding levels out).
    public var trainingSampleCount: Int { trainSamples.count }
    public var heldOutSampleCount: Int { heldOutSampleIndices.count }

    /// One optimizer step on a freshly drawn batch.
    public func step() throws -> SupervisedResult {
        var random = Self.stream(seed: config.seed, index: trainer.step)
        let n = config.batchSize
        let a = PolicyGeometry.actionCount
        let distilling = teacher != nil
        observations.withUnsafeMutableBufferPointer { obs in
            softTargets.withUnsafeMutableBufferPointer { soft in
                teacherProbabilities.withUnsafeBufferPointer { taught in
                    for b in 0..<n {
                        let sample = drawSample(&random)
                        let symmetry =
                            config.augment
                            ? BoardSymmetry.all[Int(random.next() % 8)] : BoardSymmetry.all[0]
                        actionSets[b] = data.write(
                            sample: sample, symmetry: symmetry,
                            into: obs.baseAddress! + b * observationCount)
                        targets[b] = data.returns[sample] * config.returnScale
                        if distilling {
                            Distillation.write(
                                taught.baseAddress! + sample * a, symmetry: symmetry,
                                into: soft.baseAddress! + b * a)
                        }
                    }
                }
            }
        }
        return try trainer.supervisedStep(
            observations: observations, actionSets: actionSets, valueTargets: targets,
            valueWeight: config.valueWeight,
            soft: distilling
                ? SoftTargets(probabilities: softTargets, weight: config.distillationWeight) : nil)
    }

    /// One training sample: with probability `daggerShare` a DAgger position, otherwise any
    /// training sample.
    func drawSample(_ random: inout SplitMix64) -> Int {
        if config.daggerShare > 0 && !collectedSamples.isEmpty
            && random.nextUnit() < config.daggerShare
        {
            return collectedSamples[Int(random.next() % UInt64(collectedSamples.count))]
        }
        return trainSamples[Int(random.next() % UInt64(trainSamples.count))]
    }

    /// An independent stream per (seed, index). Seeding SplitMix64 with seed + index·γ would not
    /// do: its state advances by γ per draw, so consecutive indices would give the same stream
    /// shifted by one draw (and nearly the same batch every step).
    static func stream(seed: UInt64, index: Int) -> SplitMix64 {
        var mixer = SplitMix64(seed: seed ^ (UInt64(index) &* 0xD1B5_4A32_D192_ED03))
        _ = mixer.next()
        return SplitMix64(seed: mixer.next())
    }

    /// Loss and accuracy on the held-out samples (unaugmented).
    public func heldOutScore() throws -> HeldOutScore {
        var total = HeldOutScore()
        var seen = 0
        var start = 0
        while start < heldOutSampleIndices.count {
            let n = min(config.batchSize, heldOutSampleIndices.count - start)
            observations.withUnsafeMutableBufferPointer { obs in
                for b in 0..<n {
                    let sample = heldOutSampleIndices[start + b]
                    actionSets[b] = data.write(
                        sample: sample, symmetry: BoardSymmetry.all[0],
                        into: obs.baseAddress! + b * observationCount)
                    targets[b] = data.returns[sample] * config.returnScale
                }
            }
            let r = try trainer.evaluate(
                observations: Array(observations.prefix(n * observationCount)),
                actionSets: Array(actionSets.prefix(n)), valueTargets: Array(targets.prefix(n)))
            total.policyLoss += r.policyLoss * Double(n)
            total.valueLoss += r.valueLoss * Double(n)
            total.accuracy += r.accuracy * Double(n)
            seen += n
            start += n
        }
        let d = Double(max(1, seen))
        return HeldOutScore(
            policyLoss: total.policyLoss / d, valueLoss: total.valueLoss / d,
            accuracy: total.accuracy / d)
    }

    /// Greedy solve rate on the first `solveLevels` held-out levels.
    public func heldOutSolveRate(workers: Int) throws -> Double? {
        let levels = Array(heldOutLevels.prefix(config.solveLevels))
        guard !levels.isEmpty else { return nil }
        var options = EvaluationOptions()
        options.workers = workers
        return try Evaluator.evaluate(model: trainer.model, levels: levels, options: options)
            .summary.greedySolveRate
    }

    /// Trains until `config.steps`, calling `report` after each evaluation (the caller saves the
    /// checkpoint there), `tick` after every step and `collected` after each DAgger round (the
    /// caller saves `collectedStates` there, before the next checkpoint).
    /// With `until`, stops after that step (evaluating and reporting there) without changing the
    /// schedule, which still runs to `config.steps`: a long run split over sessions.
    public func run(
        workers: Int = PolicyThreads.workers, until: Int? = nil,
        tick: ((Int, SupervisedResult) -> Void)? = nil,
        collected: ((DAggerRound) throws -> Void)? = nil,
        report: (BehaviorCloningReport) throws -> Void
    ) throws {
        let start = Date()
        var sums = (0.0, 0.0, 0.0)
        var count = 0
        // A run resumed (or extended) at a round boundary whose round was never collected (the
        // previous run ended or was killed right there) collects it first.
        let every = config.dagger.every
        if every > 0 && trainer.step > 0 && trainer.step % every == 0 && trainer.step < config.steps
        {
            let due = trainer.step / every
            if !collectedStates.contains(where: { DAgger.round(ofTitle: $0.title) == due }) {
                try collected?(try collect(round: due, workers: workers))
            }
        }
        let last = min(config.steps, until ?? config.steps)
        while trainer.step < last {
            let r = try step()
            sums.0 += r.policyLoss
            sums.1 += r.valueLoss
            sums.2 += r.accuracy
            count += 1
            tick?(trainer.step, r)
            if config.dagger.every > 0 && trainer.step % config.dagger.every == 0
                && trainer.step < config.steps
            {
                let round = try collect(round: trainer.step / config.dagger.every, workers: workers)
                try collected?(round)
            }
            if trainer.step % config.evaluateEvery == 0 || trainer.step == last {
                let held = try heldOutScore()
                let solve = try heldOutSolveRate(workers: workers)
                let c = Double(max(1, count))
                try report(
                    BehaviorCloningReport(
                        step: trainer.step, trainPolicyLoss: sums.0 / c, trainValueLoss: sums.1 / c,
                        trainAccuracy: sums.2 / c, heldOut: held, solveRate: solve,
                        seconds: Date().timeIntervalSince(start)))
                sums = (0, 0, 0)
                count = 0
            }
        }
    }
}
