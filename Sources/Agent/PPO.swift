// Proximal policy optimisation (Schulman et al. 2017) in the shape of cleanrl's ppo.py: vectorised
// rollouts over a level pool, GAE, the clipped surrogate, clipped value loss and an entropy bonus.
import Core
import Foundation
import LinearAlgebra
import Policy
import Sokoban

/// Every PPO hyperparameter in one place (cleanrl's names; defaults tuned for fine-tuning a
/// behavior-cloned Sokoban policy on two cores rather than cleanrl's Atari values).
public struct PPOConfig: Sendable {
    /// Environments stepped together.
    public var environments = 32
    /// Steps per environment per rollout (rollout = environments × rolloutSteps samples).
    public var rolloutSteps = 64
    /// Environment steps in total.
    public var totalSteps = 500_000
    /// Adam learning rate (annealed by a cosine to 10% over the run).
    public var learningRate: Float = 1e-4
    /// Discount.
    public var gamma: Float = 0.99
    /// Rewards are multiplied by this for GAE and the value head (behavior cloning's
    /// `returnScale`), so the value stays near ±1; reported episode returns are unscaled.
    public var rewardScale: Float = 0.1
    /// GAE λ.
    public var gaeLambda: Float = 0.95
    /// Minibatches per epoch.
    public var minibatches = 4
    /// Passes over each rollout.
    public var updateEpochs = 3
    /// Normalise advantages per minibatch.
    public var normalizeAdvantages = true
    /// Surrogate clipping coefficient ε.
    public var clipCoefficient: Float = 0.1
    /// Clip the value update around the rollout's value too.
    public var clipValueLoss = true
    /// Entropy bonus coefficient.
    public var entropyCoefficient: Float = 0.01
    /// Value loss coefficient.
    public var valueCoefficient: Float = 0.5
    /// Global gradient-norm clip.
    public var maxGradientNorm: Float = 0.5
    /// Stop an update's epochs early when the approximate KL exceeds this (nil: never).
    public var targetKL: Float? = 0.03
    /// Seed of level choice and action sampling.
    public var seed: UInt64 = 1

    public init() {}

    /// Samples per rollout.
    public var batchSize: Int { environments * rolloutSteps }
    /// Samples per minibatch.
    public var minibatchSize: Int { batchSize / minibatches }
    /// Rollouts (updates) in the run.
    public var updates: Int { max(1, totalSteps / batchSize) }

    /// The optimizer schedule: no warm-up, cosine over every optimizer step of the run.
    public var optimizer: OptimizerConfig {
        var o = OptimizerConfig()
        o.learningRate = learningRate
        o.warmupSteps = 0
        o.totalSteps = updates * updateEpochs * minibatches
        o.weightDecay = 0
        o.maxGradientNorm = maxGradientNorm
        o.beta1 = 0.9
        o.epsilon = 1e-5
        return o
    }

    /// Throws for the first setting out of its range.
    public func validate() throws {
        func fail(_ m: String) -> AgentError { .invalidSetting(m) }
        guard totalSteps >= 1 else { throw fail("total environment steps must be positive") }
        guard (1...4096).contains(environments) else {
            throw fail("environments must be in 1...4096")
        }
        guard (1...4096).contains(rolloutSteps) else {
            throw fail("rollout steps must be in 1...4096")
        }
        guard minibatches >= 1 && batchSize % minibatches == 0 else {
            throw fail(
                "minibatches (\(minibatches)) must divide environments × rollout steps (\(batchSize))"
            )
        }
        guard updateEpochs >= 1 else { throw fail("update epochs must be positive") }
        guard gamma > 0 && gamma <= 1 && gaeLambda >= 0 && gaeLambda <= 1 else {
            throw fail("gamma and λ must be in (0, 1]")
        }
        guard clipCoefficient > 0 && clipCoefficient.isFinite else {
            throw fail("the clip coefficient must be positive")
        }
        guard entropyCoefficient >= 0 && entropyCoefficient.isFinite else {
            throw fail("the entropy coefficient must be a non-negative number")
        }
        try optimizer.validate()
    }
}

/// Diagnostics of one PPO update (cleanrl's set).
public struct PPOUpdateReport: Sendable {
    public var update: Int
    public var environmentSteps: Int
    public var policyLoss: Double
    public var valueLoss: Double
    public var entropy: Double
    public var approximateKL: Double
    public var clipFraction: Double
    public var explainedVariance: Double
    public var learningRate: Float
    /// Episodes that ended during the rollout, their mean return and solve rate.
    public var episodes: Int
    public var meanReturn: Double
    public var solveRate: Double
    public var stepsPerSecond: Double
    /// The curriculum stage after this update (nil without a curriculum), and whether this update
    /// moved to it.
    public var stage: Int? = nil
    public var advanced = false
}

/// A PPO run on a pool of levels; each finished episode continues on a random level of the pool.
public final class PPO {
    public let config: PPOConfig
    public let trainer: PolicyTrainer
    let levels: [Level]
    /// Levels in the training pool (the final stage of a curriculum).
    public var levelCount: Int { levels.count }
    /// When set, episodes draw from the curriculum's current stage instead of `levels`.
    public private(set) var curriculum: Curriculum?
    /// Updates completed (a resumed run starts from its checkpoint's count).
    public var update: Int

    private var env: BatchedEnvironment
    private var random: SplitMix64
    private let rolloutContext: PolicyContext
    // Rollout storage, (T, N, ...) flattened with t major.
    private var observations: [Float]
    private var actions: [Int]
    private var logProbabilities: [Float]
    private var rewards: [Float]
    private var endsEpisode: [Bool]
    private var values: [Float]
    private var advantages: [Float]
    private var returns: [Float]
    // Per-environment episode accumulators.
    private var episodeReturn: [Float]
    // Minibatch scratch.
    private var batchObservations: [Float]
    private var gradLogits: [Float]
    private var gradValues: [Float]
    private var logits: [Float] = []
    private var outValues: [Float] = []
    private var order: [Int]
    private var samples: [PPOLoss.Sample] = []
    private let loss: PPOLoss

    public init(
        trainer: PolicyTrainer, levels: [Level], config: PPOConfig, startUpdate: Int = 0,
        curriculum: Curriculum? = nil
    ) throws {
        try config.validate()
        guard !levels.isEmpty else { throw AgentError.noLevels("PPO needs training levels") }
        guard trainer.context.batchCapacity >= config.minibatchSize else {
            throw AgentError.invalidSetting(
                "the trainer holds batches of \(trainer.context.batchCapacity), fewer than the minibatch \(config.minibatchSize)"
            )
        }
        self.config = config
        self.trainer = trainer
        self.levels = levels
        self.curriculum = curriculum
        update = startUpdate
        env = BatchedEnvironment(
            count: config.environments,
            config: try AgentGeometry.environment(for: trainer.model, EnvironmentConfig()))
        // The stream depends on the update, so a resumed run continues with fresh draws.
        random = BehaviorCloning.stream(seed: config.seed, index: startUpdate)
        rolloutContext = trainer.model.makeContext(batchCapacity: config.environments)
        let n = config.batchSize
        let o = env.observationSize
        observations = [Float](repeating: 0, count: n * o)
        actions = [Int](repeating: 0, count: n)
        logProbabilities = [Float](repeating: 0, count: n)
        rewards = [Float](repeating: 0, count: n)
        endsEpisode = [Bool](repeating: false, count: n)
        values = [Float](repeating: 0, count: n)
        advantages = [Float](repeating: 0, count: n)
        returns = [Float](repeating: 0, count: n)
        episodeReturn = [Float](repeating: 0, count: config.environments)
        batchObservations = [Float](repeating: 0, count: config.minibatchSize * o)
        gradLogits = [Float](repeating: 0, count: config.minibatchSize * 4)
        gradValues = [Float](repeating: 0, count: config.minibatchSize)
        order = Array(0..<n)
        loss = PPOLoss(config)
        samples.reserveCapacity(config.minibatchSize)
        for i in 0..<config.environments { try resetRandom(i) }
    }

    /// Starts every environment on a new level, drawn from the update's own stream: what a run
    /// resumed at this update does, so a run that does it at each checkpoint continues, after a
    /// kill, exactly as if it had not stopped (an episode in progress is not saved).
    public func restartEpisodes() throws {
        random = BehaviorCloning.stream(seed: config.seed, index: update)
        // The minibatch order is shuffled in place from update to update: start it afresh too.
        order = Array(0..<config.batchSize)
        for i in 0..<config.environments { try resetRandom(i) }
    }

    private func resetRandom(_ i: Int) throws {
        let pool = curriculum?.levels ?? levels
        try env.reset(i, level: pool[Int(random.next() % UInt64(pool.count))])
        episodeReturn[i] = 0
    }

    /// Runs updates until `config.totalSteps`, calling `report` after each.
    public func run(report: (PPOUpdateReport) throws -> Void) throws {
        while update < config.updates {
            try report(try step())
        }
    }

    /// One rollout and one update.
    public func step() throws -> PPOUpdateReport {
        let start = Date()
        let nEnv = config.environments
        let o = env.observationSize
        var finishedReturns = 0.0
        var finished = 0
        var solved = 0
        var advanced = false
        // Rollout.
        for t in 0..<config.rolloutSteps {
            try rolloutContext.setObservations(env.observations, batch: nEnv)
            trainer.model.forward(rolloutContext, batch: nEnv)
            rolloutContext.copyOutputs(logits: &logits, values: &outValues)
            observations.withUnsafeMutableBufferPointer { dst in
                env.observations.withUnsafeBufferPointer { src in
                    (dst.baseAddress! + t * nEnv * o).update(
                        from: src.baseAddress!, count: nEnv * o)
                }
            }
            for i in 0..<nEnv {
                let k = t * nEnv + i
                let distribution = ActionDistribution(logits, sample: i)
                let action = distribution.sample(&random)
                actions[k] = action
                logProbabilities[k] = distribution.logProbability(of: action)
                values[k] = outValues[i]
                let result = env.step(i, action: action)
                rewards[k] = result.reward * config.rewardScale
                endsEpisode[k] = result.done
                episodeReturn[i] += result.reward
                if result.done {
                    finished += 1
                    finishedReturns += Double(episodeReturn[i])
                    if result.solved { solved += 1 }
                    if curriculum?.record(solved: result.solved) == true { advanced = true }
                    try resetRandom(i)
                }
            }
        }
        // Bootstrap value of the state after the rollout.
        try rolloutContext.setObservations(env.observations, batch: nEnv)
        trainer.model.forward(rolloutContext, batch: nEnv)
        rolloutContext.copyOutputs(logits: &logits, values: &outValues)
        // GAE, backwards in time.
        var lastAdvantage = [Float](repeating: 0, count: nEnv)
        for t in stride(from: config.rolloutSteps - 1, through: 0, by: -1) {
            for i in 0..<nEnv {
                let k = t * nEnv + i
                let nonTerminal: Float = endsEpisode[k] ? 0 : 1
                let nextValue = t == config.rolloutSteps - 1 ? outValues[i] : values[k + nEnv]
                let delta = rewards[k] + config.gamma * nextValue * nonTerminal - values[k]
                lastAdvantage[i] =
                    delta + config.gamma * config.gaeLambda * nonTerminal * lastAdvantage[i]
                advantages[k] = lastAdvantage[i]
                returns[k] = advantages[k] + values[k]
            }
        }
        // Update.
        let m = config.minibatchSize
        var sums = (pg: 0.0, v: 0.0, ent: 0.0, kl: 0.0, clip: 0.0)
        var batches = 0
        var lr: Float = 0
        epochs: for _ in 0..<config.updateEpochs {
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                order.swapAt(i, Int(random.next() % UInt64(i + 1)))
            }
            var epochKL = 0.0
            var epochBatches = 0
            for b in 0..<config.minibatches {
                let indices = order[(b * m)..<((b + 1) * m)]
                batchObservations.withUnsafeMutableBufferPointer { dst in
                    observations.withUnsafeBufferPointer { src in
                        for (j, k) in indices.enumerated() {
                            (dst.baseAddress! + j * o).update(
                                from: src.baseAddress! + k * o, count: o)
                        }
                    }
                }
                try trainer.forward(observations: batchObservations, batch: m)
                trainer.context.copyOutputs(logits: &logits, values: &outValues)
                var mean: Float = 0
                var variance: Float = 0
                if config.normalizeAdvantages {
                    for k in indices { mean += advantages[k] }
                    mean /= Float(m)
                    for k in indices { variance += (advantages[k] - mean) * (advantages[k] - mean) }
                    variance /= Float(max(1, m - 1))
                }
                let std = config.normalizeAdvantages ? variance.squareRoot() + 1e-8 : 1
                samples.removeAll(keepingCapacity: true)
                for k in indices {
                    samples.append(
                        PPOLoss.Sample(
                            action: actions[k], oldLogProbability: logProbabilities[k],
                            advantage: config.normalizeAdvantages
                                ? (advantages[k] - mean) / std : advantages[k],
                            oldValue: values[k], target: returns[k]))
                }
                let terms = loss.evaluate(
                    logits: logits, values: outValues, samples: samples, gradLogits: &gradLogits,
                    gradValues: &gradValues)
                sums.pg += terms.policy
                sums.v += terms.value
                sums.ent += terms.entropy
                sums.kl += terms.approximateKL
                sums.clip += terms.clipFraction
                epochKL += terms.approximateKL
                try trainer.context.setOutputGradients(logits: gradLogits, values: gradValues)
                try trainer.backward()
                lr = try trainer.applyGradients().learningRate
                batches += 1
                epochBatches += 1
            }
            if let target = config.targetKL, epochKL / Double(max(1, epochBatches)) > Double(target)
            {
                break epochs
            }
        }
        update += 1
        // Explained variance of the rollout's values against its returns.
        var meanReturn: Float = 0
        for r in returns { meanReturn += r }
        meanReturn /= Float(returns.count)
        var varReturn: Float = 0
        var varResidual: Float = 0
        for k in 0..<returns.count {
            varReturn += (returns[k] - meanReturn) * (returns[k] - meanReturn)
            varResidual += (returns[k] - values[k]) * (returns[k] - values[k])
        }
        let c = Double(max(1, batches))
        return PPOUpdateReport(
            update: update, environmentSteps: update * config.batchSize, policyLoss: sums.pg / c,
            valueLoss: sums.v / c, entropy: sums.ent / c, approximateKL: sums.kl / c,
            clipFraction: sums.clip / c,
            explainedVariance: varReturn > 0 ? Double(1 - varResidual / varReturn) : 0,
            learningRate: lr,
            episodes: finished, meanReturn: finished > 0 ? finishedReturns / Double(finished) : 0,
            solveRate: finished > 0 ? Double(solved) / Double(finished) : 0,
            stepsPerSecond: Double(config.batchSize) / Date().timeIntervalSince(start),
            stage: curriculum?.stage, advanced: advanced)
    }
}
