// A behavior-cloning run with its files: the checkpoint it writes every evaluation and resumes
// from, the DAgger positions kept beside it, and the JSON-lines log. `laser train bc` only turns
// flags into one of these; tests drive it directly.
import Core
import Foundation
import LinearAlgebra
import Policy
import Sokoban

/// What a behavior-cloning checkpoint records about its run (metadata key `run`).
public struct BehaviorCloningState: Codable, Equatable, Sendable {
    /// Where the demonstration levels came from, how many there were and how many were held out.
    public var demonstrations: String
    public var demonstrationLevels: Int
    public var heldOutLevels: Int
    /// The checkpoint the run started from, when not from fresh weights.
    public var initial: String?
    public var daggerEvery: Int
    public var daggerShare: Double
    public var daggerPositions: Int
    public var daggerImported: Int
    /// Copies of each lost episode's fatal position per DAgger round (nil: DAgger off).
    public var daggerFatalCopies: Int? = nil
    /// Copies of each solvable looped episode's cycle positions per DAgger round (nil: DAgger off).
    public var daggerLoopCopies: Int? = nil
    /// The checkpoint whose symmetry-averaged probabilities were distilled, and their weight.
    public var teacher: String? = nil
    public var distillationWeight: Float? = nil
    /// The latest evaluation.
    public var heldOutAccuracy: Double
    public var heldOutSolveRate: Double?
}

/// Something a run reports while it trains (after writing what belongs to it).
public enum BehaviorCloningEvent {
    /// An optimizer step was taken.
    case step(Int, SupervisedResult)
    /// A DAgger round collected positions (`total`: collected by this run so far); saved.
    case daggerRound(DAggerRound, total: Int)
    /// An evaluation; the checkpoint was written.
    case evaluated(BehaviorCloningReport)
}

public final class BehaviorCloningRun {
    /// The files of a run.
    public struct Files: Sendable {
        /// The checkpoint written at every evaluation (and resumed from).
        public var checkpoint: String
        /// The JSON-lines log (a line per evaluation and per DAgger round).
        public var log: String?
        /// The positions DAgger collected (XSB with solutions), rewritten after every round.
        public var daggerStates: String
        /// Another run's DAgger positions, trained on but not copied into `daggerStates`.
        public var daggerImport: String?
        /// Where the demonstration levels came from (named in errors and in the run state).
        public var demonstrations: String
        /// The teacher's targets of the demonstration samples, when distilling (see
        /// `Distillation`), so a resumed run does not compute them again.
        public var teacherTargets: String

        public init(
            checkpoint: String, log: String? = nil, daggerStates: String? = nil,
            daggerImport: String? = nil, demonstrations: String
        ) {
            self.checkpoint = checkpoint
            self.log = log
            self.daggerStates =
                daggerStates ?? ((checkpoint as NSString).deletingPathExtension + ".dagger.xsb")
            self.daggerImport = daggerImport
            self.demonstrations = demonstrations
            teacherTargets = (checkpoint as NSString).deletingPathExtension + ".teacher.f32"
        }
    }

    public let files: Files
    public let trainer: PolicyTrainer
    public let training: BehaviorCloning
    /// Whether the run continues a checkpoint (the trainer's step is where it resumed).
    public let resumed: Bool
    let levelCount: Int
    let heldOutCount: Int
    let initial: String?
    let dataSeed: UInt64?
    let teacherPath: String?
    /// What the trained network was reduced from and how, carried into every checkpoint.
    let lineage: [String: String]
    let log: RunLog
    /// The run's lock on its checkpoint, held while the run lives.
    let output: RunOutput

    /// A run training `network` on `levels` (the last `heldOutLevels` held out), or, with `resume`
    /// and an existing checkpoint, continuing that checkpoint: it must hold the same architecture
    /// as `network` and have held out the same levels, so a wrong checkpoint is refused instead of
    /// being trained and overwritten. `output` is the hold on the checkpoint (see `RunOutput`:
    /// its lock, and whether it is resumed); resuming drops the log lines and DAgger positions
    /// past the checkpoint's step. `initial` names the checkpoint `network` came from and
    /// `dataSeed` the seed the levels were generated from, both for the record. With `teacher`
    /// (a network and the checkpoint it came from) the run distills its symmetry-averaged policy;
    /// `teacherProgress` hears (samples done, samples to do) while the teacher labels the samples.
    /// `lineage` (see `RunRecord.lineageKeys`, from `initial`'s metadata) goes into every
    /// checkpoint; a resumed run takes it from the checkpoint it continues.
    public init(
        network: any PolicyNetwork, levels: [Level], heldOutLevels: Int,
        config: BehaviorCloningConfig, files: Files, output: RunOutput, initial: String? = nil,
        dataSeed: UInt64? = nil, teacher: (network: any PolicyNetwork, path: String)? = nil,
        lineage: [String: String] = [:], teacherProgress: ((Int, Int) -> Void)? = nil
    ) throws {
        try config.validate()
        self.files = files
        levelCount = levels.count
        heldOutCount = heldOutLevels
        self.initial = initial
        self.dataSeed = dataSeed
        teacherPath = teacher?.path
        log = RunLog(path: files.log)
        self.output = try output.checked(for: files.checkpoint)
        resumed = output.resumes
        if resumed {
            trainer = try Self.resumeTrainer(
                files.checkpoint, like: network, levelCount: levels.count,
                heldOut: heldOutLevels, config: config)
            try log.dropLines(after: trainer.step, key: "step")
            self.lineage = RunRecord.lineage(
                in: try PolicyCheckpoint.load(from: files.checkpoint).metadata)
        } else {
            self.lineage = RunRecord.lineage(in: lineage)
            trainer = try PolicyTrainer(
                model: network, config: config.optimizer, batchCapacity: config.batchSize)
        }
        let imported = try files.daggerImport.map { try Self.readLevels($0) } ?? []
        // Positions collected by earlier DAgger rounds of this run (only when resuming).
        var collected: [Level] = []
        if config.dagger.every > 0 && resumed && trainer.step > 0
            && FileManager.default.fileExists(atPath: files.daggerStates)
        {
            // Rounds after the checkpoint's step are collected again, as an uninterrupted run
            // would; their positions, saved before a kill, are not kept twice.
            let lastRound = trainer.step / config.dagger.every
            collected = try Self.readLevels(files.daggerStates).filter {
                (DAgger.round(ofTitle: $0.title) ?? 0) <= lastRound
            }
        }
        training = try BehaviorCloning(
            trainer: trainer, levels: levels, heldOutLevels: heldOutLevels, config: config,
            collected: collected, imported: imported,
            files: (files.demonstrations, files.daggerStates, files.daggerImport),
            teacher: teacher?.network, teacherCache: files.teacherTargets,
            teacherProgress: teacherProgress)
    }

    /// A run that takes its own hold on `files.checkpoint`: an existing checkpoint is continued
    /// with `resume`, replaced with `overwrite`, and otherwise refused untouched.
    public convenience init(
        network: any PolicyNetwork, levels: [Level], heldOutLevels: Int,
        config: BehaviorCloningConfig, files: Files, resume: Bool, overwrite: Bool = false,
        initial: String? = nil, dataSeed: UInt64? = nil,
        teacher: (network: any PolicyNetwork, path: String)? = nil
    ) throws {
        try self.init(
            network: network, levels: levels, heldOutLevels: heldOutLevels, config: config,
            files: files,
            output: RunOutput(checkpoint: files.checkpoint, resume: resume, overwrite: overwrite),
            initial: initial, dataSeed: dataSeed, teacher: teacher)
    }

    /// The trainer of `path`, checked against what this run trains.
    static func resumeTrainer(
        _ path: String, like network: any PolicyNetwork, levelCount: Int, heldOut: Int,
        config: BehaviorCloningConfig
    ) throws -> PolicyTrainer {
        let trainer = try PolicyCheckpoint.resume(
            from: path, batchCapacity: config.batchSize, config: config.optimizer)
        let saved = trainer.model
        guard saved.architectureName == network.architectureName,
            saved.hyperparameters == network.hyperparameters
        else {
            throw AgentError.cannotResume(
                path: path,
                reason:
                    "it holds a \(describe(saved)) policy, but this run trains a \(describe(network)) one; choose another checkpoint or matching options"
            )
        }
        let metadata = try PolicyCheckpoint.load(from: path).metadata
        if let state = try RunRecord.state(BehaviorCloningState.self, in: metadata, path: path),
            state.demonstrationLevels != levelCount || state.heldOutLevels != heldOut
        {
            throw AgentError.cannotResume(
                path: path,
                reason:
                    "it trained on \(state.demonstrationLevels) levels with \(state.heldOutLevels) held out, this run has \(levelCount) with \(heldOut) held out (its held-out levels would differ)"
            )
        }
        return trainer
    }

    /// "conv blocks=4 channels=32": an architecture and its sizes.
    static func describe(_ model: any PolicyNetwork) -> String {
        model.architectureName + " "
            + model.hyperparameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            .joined(separator: " ")
    }

    static func readLevels(_ path: String) throws -> [Level] {
        try LevelCollection(path: path).levels
    }

    /// The state recorded with the checkpoint after `report`.
    func state(after report: BehaviorCloningReport) -> BehaviorCloningState {
        BehaviorCloningState(
            demonstrations: files.demonstrations, demonstrationLevels: levelCount,
            heldOutLevels: heldOutCount, initial: initial,
            daggerEvery: training.config.dagger.every, daggerShare: training.config.daggerShare,
            daggerPositions: training.collectedStates.count,
            daggerImported: training.importedCount,
            daggerFatalCopies: training.config.dagger.every > 0
                ? training.config.dagger.fatalCopies : nil,
            daggerLoopCopies: training.config.dagger.every > 0
                ? training.config.dagger.loopCopies : nil,
            teacher: teacherPath,
            distillationWeight: teacherPath == nil ? nil : training.config.distillationWeight,
            heldOutAccuracy: report.heldOut.accuracy, heldOutSolveRate: report.solveRate)
    }

    /// Trains to the end of the schedule, or to `until` (the schedule still runs to
    /// `config.steps`, so `resume` continues it). Every evaluation writes the checkpoint and a log
    /// line; every DAgger round rewrites the positions file and writes a log line; then `events`
    /// hears of it.
    public func run(
        workers: Int = PolicyThreads.workers, until: Int? = nil,
        events: (BehaviorCloningEvent) throws -> Void = { _ in }
    ) throws {
        let folder = (files.checkpoint as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true)
        }
        // The step and DAgger callbacks are optional parameters, so formally escaping.
        try withoutActuallyEscaping(events) { events in
            try training.run(
                workers: workers, until: until,
                tick: { step, result in try? events(.step(step, result)) },
                collected: { round in
                    try self.log.append(
                        DAggerLine(
                            daggerRound: round.round, levelsPlayed: round.levelsPlayed,
                            levelsSolved: round.levelsSolved, statesAdded: round.statesAdded,
                            deadEnds: round.deadEnds, fatalPositions: round.fatalPositions,
                            loops: round.loops, skipped: round.skipped,
                            collected: self.training.collectedStates.count, seconds: round.seconds))
                    var file = LevelCollection(levels: self.training.collectedStates)
                    file.notes = [
                        ("Title", "DAgger positions labelled by the solver"),
                        ("Comment", "for \(self.files.checkpoint)"),
                    ]
                    try AtomicFile.write(string: file.xsb(), to: self.files.daggerStates)
                    try events(.daggerRound(round, total: self.training.collectedStates.count))
                },
                report: { report in
                    // The checkpoint first: a log line never names a step no checkpoint holds.
                    try PolicyCheckpoint.save(
                        model: self.trainer.model, trainer: self.trainer, to: self.files.checkpoint,
                        dataSeed: self.dataSeed,
                        metadata: try RunRecord.metadata(
                            kind: "laser train bc", state: self.state(after: report)
                        ).merging(self.lineage) { run, _ in run })
                    try self.log.append(EvaluationLine(report))
                    try events(.evaluated(report))
                })
        }
    }

    /// The log line of an evaluation.
    struct EvaluationLine: Encodable {
        var step: Int
        var trainLoss: Double
        var trainAccuracy: Double
        var heldoutLoss: Double
        var heldoutAccuracy: Double
        var heldoutValueMse: Double
        /// −1 when no levels were played.
        var solveRate: Double
        var seconds: Double

        init(_ r: BehaviorCloningReport) {
            step = r.step
            trainLoss = r.trainPolicyLoss
            trainAccuracy = r.trainAccuracy
            heldoutLoss = r.heldOut.policyLoss
            heldoutAccuracy = r.heldOut.accuracy
            heldoutValueMse = r.heldOut.valueLoss
            solveRate = r.solveRate ?? -1
            seconds = r.seconds
        }
    }

    /// The log line of a DAgger round.
    struct DAggerLine: Encodable {
        var daggerRound: Int
        var levelsPlayed: Int
        var levelsSolved: Int
        var statesAdded: Int
        var deadEnds: Int
        var fatalPositions: Int
        var loops: Int
        var skipped: Int
        var collected: Int
        var seconds: Double
    }
}

extension BehaviorCloningEvent {
    /// The line a run prints for a DAgger round or an evaluation (nil for a step: the progress
    /// bar shows those).
    public var line: String? {
        switch self {
        case .step: return nil
        case .daggerRound(let round, let total):
            return String(
                format:
                    "dagger round %d: %d levels played, %d solved; %d positions labelled (%d dead ends, %d fatal positions, %d loops, %d skipped at the node limit); %d collected in all  %.0fs",
                round.round, round.levelsPlayed, round.levelsSolved, round.statesAdded,
                round.deadEnds, round.fatalPositions, round.loops, round.skipped, total,
                round.seconds)
        case .evaluated(let report):
            return String(
                format:
                    "step %d  train loss %.3f acc %.3f  held-out loss %.3f acc %.3f value mse %.2f%@  %.0fs",
                report.step, report.trainPolicyLoss, report.trainAccuracy,
                report.heldOut.policyLoss, report.heldOut.accuracy, report.heldOut.valueLoss,
                report.solveRate.map { String(format: "  solve %.3f", $0) } ?? "", report.seconds)
        }
    }
}
