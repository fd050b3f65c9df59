// `laser train ppo`: PPO fine-tuning of a policy checkpoint on a pool of levels, with checkpoints,
// resume, and held-out greedy solve rate as it trains.
import Agent
import ArgumentParser
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
    @Option(help: "OpenBLAS threads (1 is fastest when the cores are shared).") var threads = 1
    @Flag(help: "Continue from --out if it exists.") var resume = false
    @Option(
        help:
            "Curriculum: stages of generated levels before --levels, as WIDTHxHEIGHTxBOXES, comma-separated (like 7x7x2,8x8x3)."
    )
    var curriculum: String?
    @Option(help: "Curriculum: levels generated per stage.") var curriculumLevels = 300
    @Option(
        help:
            "Curriculum: move on when the last --curriculum-window episodes of a stage solve at least this fraction."
    )
    var advanceAt = 0.7
    @Option(help: "Curriculum: episodes the advance rule looks back over.") var curriculumWindow =
        200

    func validate() throws {
        guard (1...256).contains(threads) else {
            throw ValidationError("--threads must be in 1...256")
        }
        guard evalEvery >= 1 else { throw ValidationError("--eval-every must be positive") }
        guard evalLimit >= 1 else { throw ValidationError("--eval-limit must be positive") }
        guard curriculumLevels >= 1 else {
            throw ValidationError("--curriculum-levels must be positive")
        }
        guard curriculumWindow >= 1 else {
            throw ValidationError("--curriculum-window must be positive")
        }
        guard advanceAt > 0 && advanceAt <= 1 else {
            throw ValidationError("--advance-at must be in (0, 1]")
        }
        do { try makeConfig().validate() } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        OpenBLASInfo.setThreads(threads)
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
        let pool = try loadLevels(levels)
        let held = try loadLevels(evalLevels, limit: evalLimit)
        let trainer: PolicyTrainer
        var startUpdate = 0
        var origin = initial ?? ""
        var startStage = 0
        if resume && FileManager.default.fileExists(atPath: out) {
            let loaded = try loadPolicy(out)
            startUpdate = Int(loaded.metadata["ppo_update"] ?? "") ?? 0
            startStage = Int(loaded.metadata["ppo_curriculum_stage"] ?? "") ?? 0
            origin = loaded.metadata["ppo_init"] ?? origin
            do {
                trainer = try PolicyCheckpoint.resume(
                    from: out, batchCapacity: config.minibatchSize, config: config.optimizer)
            } catch {
                throw CLIError("cannot resume \(out): \(error)")
            }
            FileHandle.standardError.write(Data("resuming \(out) at update \(startUpdate)\n".utf8))
        } else {
            guard let initial else {
                throw CLIError("give --init CKPT (or --resume with an existing --out)")
            }
            let loaded = try loadPolicy(initial)
            trainer = try PolicyTrainer(
                model: loaded.model, config: config.optimizer, batchCapacity: config.minibatchSize)
        }
        var schedule: Curriculum?
        if let curriculum {
            guard (1...100_000).contains(curriculumLevels) else {
                throw ValidationError("--curriculum-levels must be in 1...100000")
            }
            do {
                let specs = curriculum.split(separator: ",").map {
                    String($0).trimmingCharacters(in: .whitespaces)
                }
                let stages = try Curriculum.generated(
                    specs: specs, count: curriculumLevels, seed: seed &+ 7000, final: pool)
                schedule = try Curriculum(
                    stages: stages, advanceAt: advanceAt, window: curriculumWindow,
                    stage: startStage)
            } catch {
                throw CLIError("--curriculum: \(error)")
            }
            FileHandle.standardError.write(
                Data(
                    "curriculum: \(schedule!.stages.map(\.name).joined(separator: " → ")), \(curriculumLevels) levels per generated stage; now at \(schedule!.stages[startStage].name)\n"
                        .utf8))
        }
        let ppo: PPO
        do {
            ppo = try PPO(
                trainer: trainer, levels: pool, config: config, startUpdate: startUpdate,
                curriculum: schedule)
        } catch {
            throw CLIError("\(error)")
        }
        let dir = (out as NSString).deletingLastPathComponent
        if !dir.isEmpty {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        let model = trainer.model
        FileHandle.standardError.write(
            Data(
                "ppo: \(model.architectureName) policy from \(origin); \(pool.count) training levels; \(config.updates) updates of \(config.batchSize) steps\n"
                    .utf8))
        let bar = ProgressBar(
            label: "ppo \(startUpdate)→\(config.updates)",
            total: max(1, config.updates - startUpdate))
        let started = Date()
        try ppo.run { r in
            bar.update(
                r.update - startUpdate,
                status: String(
                    format: "solve %.2f return %.2f kl %.4f", r.solveRate, r.meanReturn,
                    r.approximateKL))
            var entry: [String: Any] = [
                "update": r.update, "env_steps": r.environmentSteps, "policy_loss": r.policyLoss,
                "value_loss": r.valueLoss,
                "entropy": r.entropy, "approx_kl": r.approximateKL, "clip_fraction": r.clipFraction,
                "explained_variance": r.explainedVariance, "learning_rate": Double(r.learningRate),
                "episodes": r.episodes,
                "episode_return": r.meanReturn, "episode_solve_rate": r.solveRate,
                "sps": r.stepsPerSecond,
                "seconds": Date().timeIntervalSince(started),
            ]
            if let stage = r.stage {
                entry["curriculum_stage"] = stage
                if r.advanced, let name = ppo.curriculum?.stages[stage].name {
                    FileHandle.standardError.write(
                        Data(
                            "update \(r.update): curriculum moves to stage \(stage + 1) (\(name))\n"
                                .utf8))
                }
            }
            if r.update % evalEvery == 0 || r.update == config.updates {
                let summary = try Evaluator.evaluate(model: model, levels: held).summary
                entry["heldout_solve_rate"] = summary.greedySolveRate
                FileHandle.standardError.write(
                    Data(
                        String(
                            format:
                                "update %d  env steps %d  rollout solve %.3f  held-out greedy solve %.3f  kl %.4f  clip %.3f  ev %.2f  %.0f sps\n",
                            r.update, r.environmentSteps, r.solveRate, summary.greedySolveRate,
                            r.approximateKL, r.clipFraction,
                            r.explainedVariance, r.stepsPerSecond
                        ).utf8))
                try PolicyCheckpoint.save(
                    model: model, trainer: trainer, to: out,
                    metadata: [
                        "trained_by": "laser train ppo", "ppo_update": "\(r.update)",
                        "ppo_env_steps": "\(r.environmentSteps)",
                        "ppo_init": origin, "ppo_levels": levels,
                        "ppo_curriculum": curriculum ?? "",
                        "ppo_curriculum_stage": "\(ppo.curriculum?.stage ?? 0)",
                        "heldout_solve_rate": String(format: "%.4f", summary.greedySolveRate),
                    ])
            }
            try appendLogLine(log, entry)
        }
        FileHandle.standardError.write(
            Data(
                String(
                    format: "ppo: done in %.0fs; wrote %@\n", Date().timeIntervalSince(started), out
                ).utf8))
    }
}
