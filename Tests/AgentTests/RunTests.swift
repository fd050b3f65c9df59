// Training runs as library types: a behavior-cloning run split by `until` and resumed from its own
// files ends where an uninterrupted one does; a PPO run resumes at its update and curriculum
// stage; both record their state in the checkpoint and a line per event in the log; a checkpoint
// of another run is refused.
import Foundation
import Policy
import Sokoban
import Testing

@testable import Agent

@Suite struct RunTests {
    func bcConfig(steps: Int) -> BehaviorCloningConfig {
        var c = BehaviorCloningConfig()
        c.batchSize = 16
        c.steps = steps
        c.warmupSteps = 2
        c.evaluateEvery = 2
        c.heldOutSamples = 16
        c.solveLevels = 1
        c.dagger.every = 3
        c.dagger.levelsPerRound = 2
        return c
    }

    func folder(_ name: String) -> String {
        let path = Fixtures.temporaryPath(name)
        try? FileManager.default.removeItem(atPath: path)
        return path
    }

    func weights(_ model: any PolicyNetwork) throws -> [Float] {
        try model.parameters.infos.flatMap { try model.parameters.tensor(named: $0.name).scalars }
    }

    func lines(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }

    @Test func aBehaviorCloningRunSplitAndResumedEndsWhereAnUninterruptedOneDoes() throws {
        let levels = try Fixtures.corridorLevels()
        let dir = folder("bc-run")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func files(_ name: String) -> BehaviorCloningRun.Files {
            BehaviorCloningRun.Files(
                checkpoint: "\(dir)/\(name).safetensors", log: "\(dir)/\(name).jsonl",
                demonstrations: "corridors")
        }
        var config = bcConfig(steps: 8)
        config.dagger.fatalCopies = 2
        config.dagger.loopCopies = 3
        let whole = try BehaviorCloningRun(
            network: try Fixtures.tinyConv(), levels: levels, heldOutLevels: 1, config: config,
            files: files("whole"), resume: true)
        #expect(!whole.resumed)
        var events: [String] = []
        try whole.run(workers: 1) { event in
            switch event {
            case .step: break
            case .daggerRound(let round, _): events.append("dagger \(round.round)")
            case .evaluated(let report): events.append("eval \(report.step)")
            }
        }
        #expect(events == ["eval 2", "dagger 1", "eval 4", "dagger 2", "eval 6", "eval 8"])

        // The first part's run holds the checkpoint's lock until it goes away.
        let firstCollected: Int
        do {
            let first = try BehaviorCloningRun(
                network: try Fixtures.tinyConv(), levels: levels, heldOutLevels: 1, config: config,
                files: files("split"), resume: true)
            try first.run(workers: 1, until: 5)
            firstCollected = first.training.collectedStates.count
        }
        let second = try BehaviorCloningRun(
            network: try Fixtures.tinyConv(seed: 99), levels: levels, heldOutLevels: 1,
            config: config, files: files("split"), resume: true)
        #expect(second.resumed && second.trainer.step == 5)
        #expect(second.training.collectedStates.count == firstCollected)
        try second.run(workers: 1)
        // Equal up to float rounding: the same samples, DAgger rounds and optimizer state. (A CI
        // run once saw the bit-exact comparison fail under a fully loaded machine, which BLAS's
        // threading may reorder sums under; a wrong batch or a lost round moves weights by 1e-3.)
        let resumed = try weights(second.trainer.model)
        let uninterrupted = try weights(whole.trainer.model)
        #expect(resumed.count == uninterrupted.count)
        let largest = zip(resumed, uninterrupted).map { abs($0 - $1) }.max() ?? 0
        #expect(largest <= 1e-6, "largest weight difference \(largest)")
        #expect(
            try String(contentsOfFile: "\(dir)/split.dagger.xsb", encoding: .utf8)
                .components(separatedBy: "DAgger").count
                == String(contentsOfFile: "\(dir)/whole.dagger.xsb", encoding: .utf8)
                .components(separatedBy: "DAgger").count)

        // The checkpoint records the run; the log has a line per evaluation and DAgger round.
        let loaded = try PolicyCheckpoint.load(from: "\(dir)/whole.safetensors")
        let state = try #require(
            try RunRecord.state(BehaviorCloningState.self, in: loaded.metadata, path: "x"))
        #expect(state.demonstrationLevels == levels.count && state.heldOutLevels == 1)
        #expect(
            state.daggerEvery == 3 && state.daggerPositions == whole.training.collectedStates.count)
        #expect(state.daggerFatalCopies == 2 && state.daggerLoopCopies == 3)
        #expect(loaded.step == 8 && loaded.metadata["trained_by"] == "laser train bc")
        let log = try lines("\(dir)/whole.jsonl")
        #expect(log.compactMap { $0["step"] as? Int } == [2, 4, 6, 8])
        #expect(log.compactMap { $0["dagger_round"] as? Int } == [1, 2])
        #expect(log.allSatisfy { $0["heldout_accuracy"] != nil || $0["dagger_round"] != nil })
    }

    @Test func aBehaviorCloningRunRefusesACheckpointOfAnotherRun() throws {
        let levels = try Fixtures.corridorLevels()
        let dir = folder("bc-refuse")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = bcConfig(steps: 2)
        config.dagger.every = 0
        let files = BehaviorCloningRun.Files(
            checkpoint: "\(dir)/a.safetensors", demonstrations: "corridors")
        try BehaviorCloningRun(
            network: try Fixtures.tinyConv(), levels: levels, heldOutLevels: 1, config: config,
            files: files, resume: false
        ).run(workers: 1)
        // Other sizes.
        let wider = try ConvPolicy(config: ConvPolicyConfig(channels: 6, blocks: 1), seed: 1)
        #expect {
            try BehaviorCloningRun(
                network: wider, levels: levels, heldOutLevels: 1, config: config, files: files,
                resume: true)
        } throws: { "\($0)".contains("holds a conv") && "\($0)".contains("channels=6") }
        // Other held-out levels: the held-out score would mix trained-on levels in.
        #expect {
            try BehaviorCloningRun(
                network: try Fixtures.tinyConv(), levels: levels, heldOutLevels: 2,
                config: config, files: files, resume: true)
        } throws: { "\($0)".contains("2 held out") }
        // Without --resume or --overwrite an existing checkpoint is refused and left as it was.
        let saved = try Data(contentsOf: URL(fileURLWithPath: files.checkpoint))
        #expect {
            try BehaviorCloningRun(
                network: wider, levels: levels, heldOutLevels: 2, config: config, files: files,
                resume: false)
        } throws: {
            "\($0)".contains("a.safetensors already exists") && "\($0)".contains("--resume")
                && "\($0)".contains("--overwrite")
        }
        #expect {
            try BehaviorCloningRun(
                network: wider, levels: levels, heldOutLevels: 2, config: config, files: files,
                resume: true, overwrite: true)
        } throws: { "\($0)".contains("contradict") }
        #expect(try Data(contentsOf: URL(fileURLWithPath: files.checkpoint)) == saved)
        // With --overwrite the run starts afresh, and holds the file: a second run is refused.
        let fresh = try BehaviorCloningRun(
            network: wider, levels: levels, heldOutLevels: 2, config: config, files: files,
            resume: false, overwrite: true)
        #expect(!fresh.resumed && fresh.trainer.step == 0)
        #expect {
            try BehaviorCloningRun(
                network: wider, levels: levels, heldOutLevels: 2, config: config, files: files,
                resume: true)
        } throws: { "\($0)".contains("in use by another run (pid \(getpid()))") }
        #expect(try Data(contentsOf: URL(fileURLWithPath: files.checkpoint)) == saved)
        withExtendedLifetime(fresh) {}
    }

    @Test func aResumedRunDropsTheLogLinesPastItsCheckpoint() throws {
        let dir = folder("log-trim")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = "\(dir)/run.jsonl"
        // Evaluations at 2 and 4 (checkpointed at 4), then a DAgger round and step 6 the kill
        // left without a checkpoint.
        let text = """
            {"step":2,"a":1}
            {"dagger_round":1}
            {"step":4,"a":2}
            {"dagger_round":2}
            {"step":6,"a":3}

            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try RunLog(path: path).dropLines(after: 4, key: "step")
        #expect(
            try String(contentsOfFile: path, encoding: .utf8)
                == "{\"step\":2,\"a\":1}\n{\"dagger_round\":1}\n{\"step\":4,\"a\":2}\n")
        // Nothing past the checkpoint: the file is left alone.
        let before = try String(contentsOfFile: path, encoding: .utf8)
        try RunLog(path: path).dropLines(after: 9, key: "step")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == before)
        // A log that starts after the checkpoint keeps nothing of it.
        try RunLog(path: path).dropLines(after: 1, key: "step")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "")
    }

    func ppoConfig(updates: Int) -> PPOConfig {
        var config = PPOConfig()
        config.environments = 4
        config.rolloutSteps = 8
        config.minibatches = 2
        config.totalSteps = updates * config.batchSize
        return config
    }

    /// Four corridor levels, a fresh folder and a starting checkpoint in it.
    func ppoSetup(_ name: String) throws -> (levels: [Level], dir: String, start: String) {
        let dir = folder(name)
        let start = "\(dir)/start.safetensors"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try PolicyCheckpoint.save(model: try Fixtures.tinyConv(seed: 5), to: start)
        return (Array(try Fixtures.corridorLevels().suffix(4)), dir, start)
    }

    @Test func aPPORunResumesAtItsUpdateAndCurriculumStage() throws {
        let (levels, dir, start) = try ppoSetup("ppo-run")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = PPORun.Files(
            checkpoint: "\(dir)/ppo.safetensors", log: "\(dir)/ppo.jsonl", levels: "corridors")
        var curriculum = CurriculumSettings(stages: ["5x5x1"])
        curriculum.levelsPerStage = 3
        curriculum.window = 1
        curriculum.advanceAt = 0.01
        let config = ppoConfig(updates: 5)
        let stage: Int
        do {
            let first = try PPORun(
                initial: start, pool: levels, evaluationLevels: levels, config: config,
                evaluateEvery: 2, curriculum: curriculum, files: files, resume: true)
            #expect(first.resumedAt == nil)
            var evaluated: [Int] = []
            try first.run(until: 3) {
                if $0.heldOutSolveRate != nil { evaluated.append($0.report.update) }
            }
            #expect(evaluated == [2, 3])
            stage = first.ppo.curriculum?.stage ?? -1
        }
        // A line the kill left past the checkpoint (update 3) is dropped on resume.
        let handle = try #require(FileHandle(forWritingAtPath: files.log!))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"update\":4}\n".utf8))
        try handle.close()
        let second = try PPORun(
            initial: nil, pool: levels, evaluationLevels: levels, config: config,
            evaluateEvery: 2, curriculum: curriculum, files: files, resume: true)
        #expect(second.resumedAt == 3 && second.ppo.update == 3)
        #expect(second.initial == start)
        #expect(second.ppo.curriculum?.stage == stage)
        try second.run()
        let loaded = try PolicyCheckpoint.load(from: files.checkpoint)
        let state = try #require(
            try RunRecord.state(PPOState.self, in: loaded.metadata, path: "x"))
        #expect(state.update == 5 && state.initial == start && state.curriculum == curriculum)
        #expect(state.environmentSteps == 5 * config.batchSize)
        let log = try lines(files.log!)
        #expect(log.compactMap { $0["update"] as? Int } == [1, 2, 3, 4, 5])
        // Evaluated every 2 updates and where each part stopped.
        #expect(log.compactMap { $0["heldout_solve_rate"] as? Double }.count == 4)
    }

    @Test func aPPORunStoppedAtACheckpointAndResumedEndsWhereAnUninterruptedOneDoes() throws {
        let (levels, dir, start) = try ppoSetup("ppo-split")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = ppoConfig(updates: 6)
        func run(_ name: String, until: Int? = nil) throws -> [Float] {
            let ppo = try PPORun(
                initial: start, pool: levels, evaluationLevels: levels, config: config,
                evaluateEvery: 2,
                files: PPORun.Files(checkpoint: "\(dir)/\(name).safetensors", levels: "corridors"),
                resume: true)
            try ppo.run(until: until)
            return try weights(ppo.ppo.trainer.model)
        }
        let whole = try run("whole")
        // Stopped at update 4, a checkpoint (a kill resumes from the last one), then resumed.
        _ = try run("split", until: 4)
        let resumed = try run("split")
        let largest = zip(resumed, whole).map { abs($0 - $1) }.max() ?? 1
        #expect(resumed.count == whole.count && largest <= 1e-6, "largest difference \(largest)")
    }

    @Test func aPPOCheckpointFromBeforeRunStatesStillResumes() throws {
        let metadata = [
            "ppo_update": "12", "ppo_env_steps": "4096", "ppo_init": "a.safetensors",
            "ppo_levels": "pool.xsb", "ppo_curriculum_stage": "1", "heldout_solve_rate": "0.5",
        ]
        let state = try #require(PPOState(keys: metadata))
        #expect(state.update == 12 && state.environmentSteps == 4096 && state.curriculumStage == 1)
        #expect(state.initial == "a.safetensors" && state.heldOutSolveRate == 0.5)
        #expect(PPOState(keys: ["trained_by": "laser train bc"]) == nil)
    }
}
