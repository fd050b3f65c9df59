// `laser train ppo`: PPO fine-tuning of a policy checkpoint on a pool of levels, with checkpoints,
// resume, and held-out greedy solve rate as it trains.
import Agent
import ArgumentParser
import Core
import Foundation
import Laser
import LinearAlgebra
import Policy
import Sokoban

struct TrainPPO: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppo",
        abstract:
            "Reinforcement learning with PPO from a checkpoint (usually a behavior-cloned one).",
        discussion: """
            Environments step levels drawn at random from --levels (a finished episode continues on a new random level); rollouts of --envs × --rollout steps feed GAE advantages, the clipped surrogate, a clipped value loss and an entropy bonus (see PPOConfig for every hyperparameter and its default). Every --eval-every updates the policy is played greedily on --eval-levels and the checkpoint (with optimizer state) is saved; --resume continues from --out.
            """)

    @Option(name: .customLong("init"), help: "Checkpoint to start from.") var initial: String?
    @OptionGroup var threading: ThreadOptions
    @Option(help: "Training level pool (XSB).") var levels = "levels/train-sample-10x10-4.xsb"
    @Option(help: "Held-out levels played greedily at each evaluation.") var evalLevels =
        "levels/valid-10x10-4.xsb"
    @Option(help: "Use the first N held-out levels.") var evalLimit = 200
    @Option(help: "Updates between evaluations and checkpoints.") var evalEvery = 10
    @Option(help: "Checkpoint to write.") var out = "out/policy-ppo.safetensors"
    @Option(help: "Append a JSON line per update to this file.") var log: String?
    @Option(help: "Environments stepped together.") var envs = PPOConfig().environments
    @Option(help: "Steps per environment per rollout.") var rollout = PPOConfig().rolloutSteps
    @Option(help: "Environment steps in total.") var totalSteps = PPOConfig().totalSteps
    @Option(help: "Learning rate.") var lr = PPOConfig().learningRate
    @Option(help: "Epochs per rollout.") var epochs = PPOConfig().updateEpochs
    @Option(help: "Minibatches per epoch.") var minibatches = PPOConfig().minibatches
    @Option(help: "Clip coefficient.") var clip = PPOConfig().clipCoefficient
    @Option(help: "Entropy coefficient.") var entropy = PPOConfig().entropyCoefficient
    @Option(help: "Seed of level choice and sampling.") var seed: UInt64 = 1
    /// Earlier releases' name for --blas-threads.
    @Option(help: .hidden) var threads: Int?
    @Flag(help: "Continue from --out if it exists.") var resume = false
    @Flag(
        help: "Replace an existing --out with a new run (without this or --resume it is refused).")
    var overwrite = false
    @Option(
        help:
            "Stop after this update (checkpoint written) without shortening the schedule; --resume continues."
    )
    var until: Int?
    @OptionGroup(title: "Curriculum") var curriculum: CurriculumOptions

    func validate() throws {
        if let threads, !(1...256).contains(threads) {
            throw ValidationError("--threads must be in 1...256")
        }
        if let until, until < 1 { throw ValidationError("--until must be positive") }
        guard evalEvery >= 1 else { throw ValidationError("--eval-every must be positive") }
        guard evalLimit >= 1 else { throw ValidationError("--eval-limit must be positive") }
        do { try makeConfig().validate() } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        threading.apply(blas: threads)
        let config = makeConfig()
        try checkWritable(out, option: "--out")
        if let log { try checkWritable(log, option: "--log") }
        try run(config: config)
    }

    func makeConfig() -> PPOConfig {
        var config = PPOConfig()
        config.environments = envs
        config.rolloutSteps = rollout
        config.totalSteps = totalSteps
        config.learningRate = lr
        config.updateEpochs = epochs
        config.minibatches = minibatches
        config.clipCoefficient = clip
        config.entropyCoefficient = entropy
        config.seed = seed
        return config
    }

    func run(config: PPOConfig) throws {
        guard initial != nil || (resume && FileManager.default.fileExists(atPath: out)) else {
            throw CLIError("give --init CKPT (or --resume with an existing --out)")
        }
        let settings = try curriculum.settings()
        let run = try PPORun(
            initial: initial, pool: try loadLevels(levels),
            evaluationLevels: try loadLevels(evalLevels, limit: evalLimit), config: config,
            evaluateEvery: evalEvery, curriculum: settings,
            files: PPORun.Files(checkpoint: out, log: log, levels: levels),
            output: RunOutput(checkpoint: out, resume: resume, overwrite: overwrite))
        let startUpdate = run.resumedAt ?? 0
        if run.resumedAt != nil { stderrLine("resuming \(out) at update \(startUpdate)") }
        if let schedule = run.ppo.curriculum, let settings {
            stderrLine(
                "curriculum: \(schedule.stages.map(\.name).joined(separator: " → ")), \(settings.levelsPerStage) levels per generated stage; now at \(schedule.stages[schedule.stage].name)"
            )
        }
        stderrLine(
            "ppo: \(run.ppo.trainer.model.architectureName) policy from \(run.initial); \(run.ppo.levelCount) training levels; \(config.updates) updates of \(config.batchSize) steps"
        )
        let bar = ProgressBar(
            label: "ppo \(startUpdate)→\(min(config.updates, until ?? config.updates))",
            total: max(1, min(config.updates, until ?? config.updates) - startUpdate))
        let started = Date()
        try run.run(until: until) { u in
            let r = u.report
            bar.update(
                r.update - startUpdate,
                status: String(
                    format: "solve %.2f return %.2f kl %.4f", r.solveRate, r.meanReturn,
                    r.approximateKL))
            if let stage = u.newStage, let index = r.stage {
                stderrLine("update \(r.update): curriculum moves to stage \(index + 1) (\(stage))")
            }
            if let held = u.heldOutSolveRate {
                stderrLine(
                    String(
                        format:
                            "update %d  env steps %d  rollout solve %.3f  held-out greedy solve %.3f  kl %.4f  clip %.3f  ev %.2f  %.0f sps",
                        r.update, r.environmentSteps, r.solveRate, held, r.approximateKL,
                        r.clipFraction, r.explainedVariance, r.stepsPerSecond))
            }
        }
        stderrLine(
            String(format: "ppo: done in %.0fs; wrote %@", Date().timeIntervalSince(started), out))
    }
}
