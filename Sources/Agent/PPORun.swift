// A PPO run with its files: the checkpoint written at every evaluation (and resumed from, with the
// update count and curriculum stage in its run state) and the JSON-lines log. `laser train ppo`
// only turns flags into one of these; tests drive it directly.
import Foundation
import LinearAlgebra
import Policy
import Sokoban

/// Stages of generated levels before the training pool (see `Curriculum`).
public struct CurriculumSettings: Codable, Equatable, Sendable {
    /// One stage per room size, "WIDTHxHEIGHTxBOXES" (like 7x7x2), smallest first.
    public var stages: [String]
    public var levelsPerStage = 300
    /// Move on when the last `window` episodes of a stage solve at least this fraction.
    public var advanceAt = 0.7
    public var window = 200

    public init(stages: [String]) { self.stages = stages }

    public func validate() throws {
        guard !stages.isEmpty else {
            throw AgentError.invalidSetting("the curriculum has no stages")
        }
        guard (1...100_000).contains(levelsPerStage) else {
            throw AgentError.invalidSetting("curriculum levels per stage must be in 1...100000")
        }
        guard advanceAt > 0 && advanceAt <= 1 else {
            throw AgentError.invalidSetting("the advance threshold must be in (0, 1]")
        }
        guard window >= 1 else {
            throw AgentError.invalidSetting("the curriculum window must be positive")
        }
        for spec in stages { _ = try Curriculum.parse(spec) }
    }
}

/// What a PPO checkpoint records about its run (metadata key `run`).
public struct PPOState: Codable, Equatable, Sendable {
    public var update: Int
    public var environmentSteps: Int
    /// The checkpoint the run started from.
    public var initial: String
    /// The training pool's file.
    public var levels: String
    public var curriculum: CurriculumSettings?
    public var curriculumStage: Int
    /// The current stage's latest episode outcomes, oldest first (nil in older checkpoints).
    public var curriculumRecent: [Bool]?
    /// At the latest evaluation.
    public var heldOutSolveRate: Double

    /// The state of a checkpoint written before run states existed (one metadata key per field).
    init?(keys metadata: [String: String]) {
        guard let update = metadata["ppo_update"].flatMap({ Int($0) }) else { return nil }
        self.update = update
        environmentSteps = metadata["ppo_env_steps"].flatMap { Int($0) } ?? 0
        initial = metadata["ppo_init"] ?? ""
        levels = metadata["ppo_levels"] ?? ""
        curriculum = nil
        curriculumStage = metadata["ppo_curriculum_stage"].flatMap { Int($0) } ?? 0
        curriculumRecent = nil
        heldOutSolveRate = metadata["heldout_solve_rate"].flatMap { Double($0) } ?? 0
    }

    init(
        update: Int, environmentSteps: Int, initial: String, levels: String,
        curriculum: CurriculumSettings?, curriculumStage: Int, curriculumRecent: [Bool]? = nil,
        heldOutSolveRate: Double
    ) {
        self.update = update
        self.environmentSteps = environmentSteps
        self.initial = initial
        self.levels = levels
        self.curriculum = curriculum
        self.curriculumStage = curriculumStage
        self.curriculumRecent = curriculumRecent
        self.heldOutSolveRate = heldOutSolveRate
    }
}

/// An update, as a run reports it (after writing the log line and, at evaluations, the checkpoint).
public struct PPORunUpdate {
    public var report: PPOUpdateReport
    /// The greedy solve rate on the evaluation levels, at evaluations.
    public var heldOutSolveRate: Double?
    /// The stage the curriculum moved to in this update.
    public var newStage: String?
}

public final class PPORun {
    /// The files of a run.
    public struct Files: Sendable {
        /// The checkpoint written at every evaluation (and resumed from).
        public var checkpoint: String
        /// The JSON-lines log (a line per update).
        public var log: String?
        /// The training pool's file, for the record.
        public var levels: String

        public init(checkpoint: String, log: String? = nil, levels: String) {
            self.checkpoint = checkpoint
            self.log = log
            self.levels = levels
        }
    }

    public let files: Files
    public let ppo: PPO
    /// Where the run started: nil for a new run, the update it continues from when resumed.
    public let resumedAt: Int?
    /// The checkpoint the run (or the run it continues) started from.
    public let initial: String
    /// What the trained network was reduced from and how (`RunRecord.lineageKeys`), carried
    /// into every checkpoint.
    let lineage: [String: String]
    let evaluationLevels: [Level]
    let evaluateEvery: Int
    let curriculum: CurriculumSettings?
    let log: RunLog
    /// The run's lock on its checkpoint, held while the run lives.
    let output: RunOutput

    /// A run from the checkpoint `initial` on the `pool` levels, evaluated greedily on
    /// `evaluationLevels` every `evaluateEvery` updates; with `resume` and an existing checkpoint,
    /// that run continued (its update count, curriculum stage and starting point from its state,
    /// log lines past that update dropped). `output` is the hold on the checkpoint (see
    /// `RunOutput`: its lock, and whether it is resumed).
    public init(
        initial: String?, pool: [Level], evaluationLevels: [Level], config: PPOConfig,
        evaluateEvery: Int, curriculum: CurriculumSettings? = nil, files: Files, output: RunOutput
    ) throws {
        try config.validate()
        try curriculum?.validate()
        guard evaluateEvery >= 1 else {
            throw AgentError.invalidSetting("the evaluation interval must be positive")
        }
        guard !evaluationLevels.isEmpty else {
            throw AgentError.noLevels("PPO needs evaluation levels")
        }
        self.files = files
        self.evaluationLevels = evaluationLevels
        self.evaluateEvery = evaluateEvery
        self.curriculum = curriculum
        log = RunLog(path: files.log)
        self.output = try output.checked(for: files.checkpoint)
        let trainer: PolicyTrainer
        var stage = 0
        var recent: [Bool] = []
        if output.resumes {
            let path = files.checkpoint
            let metadata = try PolicyCheckpoint.load(from: path).metadata
            guard
                let state = try RunRecord.state(PPOState.self, in: metadata, path: path)
                    ?? PPOState(keys: metadata)
            else {
                throw AgentError.cannotResume(path: path, reason: "it records no PPO run")
            }
            trainer = try PolicyCheckpoint.resume(
                from: path, batchCapacity: config.minibatchSize, config: config.optimizer)
            resumedAt = state.update
            try log.dropLines(after: state.update, key: "update")
            self.initial = state.initial
            stage = state.curriculumStage
            recent = state.curriculumRecent ?? []
            lineage = RunRecord.lineage(in: metadata)
        } else {
            guard let initial else {
                throw AgentError.invalidSetting("a PPO run starts from a checkpoint")
            }
            let loaded = try PolicyCheckpoint.load(from: initial)
            trainer = try PolicyTrainer(
                model: loaded.model, config: config.optimizer,
                batchCapacity: config.minibatchSize)
            resumedAt = nil
            self.initial = initial
            lineage = RunRecord.lineage(in: loaded.metadata)
        }
        var schedule: Curriculum?
        if let curriculum {
            let stages = try Curriculum.generated(
                specs: curriculum.stages, count: curriculum.levelsPerStage,
                seed: config.seed &+ 7000, final: pool)
            schedule = try Curriculum(
                stages: stages, advanceAt: curriculum.advanceAt, window: curriculum.window,
                stage: stage, recent: recent)
        }
        ppo = try PPO(
            trainer: trainer, levels: pool, config: config, startUpdate: resumedAt ?? 0,
            curriculum: schedule)
    }

    /// A run that takes its own hold on `files.checkpoint`: an existing checkpoint is continued
    /// with `resume`, replaced with `overwrite`, and otherwise refused untouched.
    public convenience init(
        initial: String?, pool: [Level], evaluationLevels: [Level], config: PPOConfig,
        evaluateEvery: Int, curriculum: CurriculumSettings? = nil, files: Files, resume: Bool,
        overwrite: Bool = false
    ) throws {
        try self.init(
            initial: initial, pool: pool, evaluationLevels: evaluationLevels, config: config,
            evaluateEvery: evaluateEvery, curriculum: curriculum, files: files,
            output: RunOutput(checkpoint: files.checkpoint, resume: resume, overwrite: overwrite))
    }

    /// Runs to the end of the schedule, or to update `until` (the schedule still runs to
    /// `config.totalSteps`, so `resume` continues it). Every update writes a log line; every
    /// `evaluateEvery`-th, and the last, plays the evaluation levels, writes the checkpoint and
    /// starts every environment on a new level (as a run resumed there does, so a kill loses
    /// nothing); then `events` hears of it.
    public func run(until: Int? = nil, events: (PPORunUpdate) throws -> Void = { _ in }) throws {
        let folder = (files.checkpoint as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true)
        }
        let started = Date()
        let last = min(ppo.config.updates, until ?? ppo.config.updates)
        while ppo.update < last {
            let r = try ppo.step()
            var update = PPORunUpdate(report: r)
            if r.advanced, let stage = r.stage, let name = ppo.curriculum?.stages[stage].name {
                update.newStage = name
            }
            if r.update % evaluateEvery == 0 || r.update == last {
                update.heldOutSolveRate = try evaluateAndSave(after: r)
                try ppo.restartEpisodes()
            }
            try log.append(
                UpdateLine(
                    r, heldOut: update.heldOutSolveRate,
                    seconds: Date().timeIntervalSince(started)))
            try events(update)
        }
    }

    /// Plays the evaluation levels greedily and writes the checkpoint; returns the solve rate.
    func evaluateAndSave(after r: PPOUpdateReport) throws -> Double {
        let model = ppo.trainer.model
        let rate = try Evaluator.evaluate(model: model, levels: evaluationLevels).summary
            .greedySolveRate
        let state = PPOState(
            update: r.update, environmentSteps: r.environmentSteps, initial: initial,
            levels: files.levels, curriculum: curriculum,
            curriculumStage: ppo.curriculum?.stage ?? 0,
            curriculumRecent: ppo.curriculum?.recentOutcomes, heldOutSolveRate: rate)
        try PolicyCheckpoint.save(
            model: model, trainer: ppo.trainer, to: files.checkpoint,
            metadata: try RunRecord.metadata(kind: "laser train ppo", state: state)
                .merging(lineage) { run, _ in run })
        return rate
    }

    /// The log line of an update.
    struct UpdateLine: Encodable {
        var update: Int
        var envSteps: Int
        var policyLoss: Double
        var valueLoss: Double
        var entropy: Double
        var approxKl: Double
        var clipFraction: Double
        var explainedVariance: Double
        var learningRate: Double
        var episodes: Int
        var episodeReturn: Double
        var episodeSolveRate: Double
        var sps: Double
        var seconds: Double
        var curriculumStage: Int?
        var heldoutSolveRate: Double?

        init(_ r: PPOUpdateReport, heldOut: Double?, seconds: Double) {
            update = r.update
            envSteps = r.environmentSteps
            policyLoss = r.policyLoss
            valueLoss = r.valueLoss
            entropy = r.entropy
            approxKl = r.approximateKL
            clipFraction = r.clipFraction
            explainedVariance = r.explainedVariance
            learningRate = Double(r.learningRate)
            episodes = r.episodes
            episodeReturn = r.meanReturn
            episodeSolveRate = r.solveRate
            sps = r.stepsPerSecond
            self.seconds = seconds
            curriculumStage = r.stage
            heldoutSolveRate = heldOut
        }
    }
}
