// `laser bench env`: environment steps per second, single and batched, printed as JSON.

import ArgumentParser
import Core
import Foundation
import LinearAlgebra
import Sokoban

struct BenchEnv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Measure Sokoban environment steps per second (single-threaded and batched).",
        discussion: """
            Random actions (pre-drawn from --seed) are played on the levels of FILE in turn; an episode that ends (solved or at the step limit) resets to the next level, and resets are timed too. Every step keeps the observation planes the policy reads up to date in place (a step rewrites at most three squares). `single` and `batched` time that; `singleWithObservation` and `batchedWithObservation` also copy each step's full observation out, as gym-sokoban and jumanji return one from every step: the like-for-like figure. Prints one JSON object. scripts/bench-env.sh runs gym-sokoban and jumanji on the same levels for comparison.
            """)

    @Argument(help: "Levels to play (10x10 or smaller, e.g. a Boxoban file).") var file: String
    @Option(name: .long, help: "Steps for the single environment.") var steps = 2_000_000
    @Option(name: .long, help: "Environments in the batch.") var batch = 64
    @Option(name: .long, help: "Batched steps per environment.") var batchSteps = 50_000
    @Option(name: .long, help: "Seed of the random actions.") var seed: UInt64 = 0

    func validate() throws {
        if steps < 1 || batch < 1 || batchSteps < 1 {
            throw ValidationError("--steps, --batch and --batch-steps must be positive")
        }
        if steps > 1_000_000_000 || batch > 100_000 || batch * batchSteps > 2_000_000_000 {
            throw ValidationError("the run is too large")
        }
    }

    struct Measure: Codable {
        var steps: Int
        var seconds: Double
        var stepsPerSecond: Double
        /// CPU time of the process: robust to other work on a shared machine.
        var cpuSeconds: Double
        var stepsPerCpuSecond: Double
        var episodes: Int
        var solved: Int
        /// The sum of rewards: equal to gym-sokoban's on the same levels and actions.
        var totalReward: Double
    }

    struct Report: Codable {
        var levels: String
        var levelCount: Int
        var implementation = "laser (Swift)"
        /// The rules alone (the observation planes are still kept up to date in place).
        var single: Measure
        var batched: Measure
        /// The same steps, each also handing out a copy of its observation (gym's contract).
        var singleWithObservation: Measure
        var batchedWithObservation: Measure
        var batch: Int
    }

    /// CPU seconds used by this process so far.
    /// Copies a step's observation out, as gym-sokoban and jumanji return one per step, and reads
    /// one element of the copy so the copy is not optimised away.
    static func copyOut(_ source: [Float], into copy: inout [Float], reading index: Int) -> Float {
        source.withUnsafeBufferPointer { from in
            copy.withUnsafeMutableBufferPointer {
                $0.baseAddress!.update(from: from.baseAddress!, count: from.count)
            }
        }
        return copy[index % copy.count]
    }

    static func cpuTime() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    func run() throws {
        let levels = try readCollection(file).levels
        var rng = SplitMix64(seed: seed)
        let actions = (0..<Self.actionCount).map { _ in Int(rng.next() & 3) }
        let single = try measureSingle(levels: levels, actions: actions, copyObservation: false)
        let singleObserved = try measureSingle(
            levels: levels, actions: actions, copyObservation: true)
        let batched = try measureBatched(levels: levels, actions: actions, copyObservations: false)
        let batchedObserved = try measureBatched(
            levels: levels, actions: actions, copyObservations: true)
        let report = Report(
            levels: file, levelCount: levels.count, single: single, batched: batched,
            singleWithObservation: singleObserved, batchedWithObservation: batchedObserved,
            batch: batch)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(terminalSafeJSON(String(decoding: try encoder.encode(report), as: UTF8.self)))
    }

    static let actionCount = 1 << 16

    /// One environment, `steps` random actions, resetting to the next level when an episode ends.
    /// With `copyObservation`, each step also hands out its observation planes as a fresh copy, as
    /// gym-sokoban and jumanji return one from every step (the environment keeps its planes up to
    /// date in place either way; the copy is the like-for-like cost).
    func measureSingle(levels: [Level], actions: [Int], copyObservation: Bool) throws -> Measure {
        var env = SokobanEnvironment()
        var next = 0
        try env.reset(level: levels[0])
        var observation = [Float](repeating: 0, count: env.observation.count)
        var episodes = 0
        var solved = 0
        var totalReward = 0.0
        var checksum: Float = 0
        let start = ContinuousClock.now
        let cpuStart = Self.cpuTime()
        for i in 0..<steps {
            let r = env.step(actions[i & (Self.actionCount - 1)])
            totalReward += Double(r.reward)
            if r.done {
                episodes += 1
                if r.solved { solved += 1 }
                next = (next + 1) % levels.count
                try env.reset(level: levels[next])
            }
            if copyObservation {
                checksum += Self.copyOut(env.observation, into: &observation, reading: i)
            }
        }
        let seconds = (ContinuousClock.now - start).inSeconds
        let cpu = Self.cpuTime() - cpuStart
        _ = checksum
        return Measure(
            steps: steps, seconds: seconds, stepsPerSecond: Double(steps) / seconds,
            cpuSeconds: cpu, stepsPerCpuSecond: Double(steps) / cpu, episodes: episodes,
            solved: solved,
            totalReward: (totalReward * 1000).rounded() / 1000)
    }

    /// `batch` environments stepped together; with `copyObservations`, every step also copies all
    /// their observation planes out, as a batched gym/jumanji step returns them.
    func measureBatched(levels: [Level], actions: [Int], copyObservations: Bool) throws -> Measure {
        var envs = BatchedEnvironment(count: batch)
        for i in 0..<batch { try envs.reset(i, level: levels[i % levels.count]) }
        var next = batch % levels.count
        var rewards = [Float](repeating: 0, count: batch)
        var dones = [Bool](repeating: false, count: batch)
        var solvedFlags = dones
        var batchActions = [Int](repeating: 0, count: batch)
        var observations = [Float](repeating: 0, count: envs.observations.count)
        var episodes = 0
        var solved = 0
        var cursor = 0
        var totalReward = 0.0
        var checksum: Float = 0
        let start = ContinuousClock.now
        let cpuStart = Self.cpuTime()
        for step in 0..<batchSteps {
            for i in 0..<batch {
                batchActions[i] = actions[cursor & (Self.actionCount - 1)]
                cursor += 1
            }
            envs.step(actions: batchActions, rewards: &rewards, dones: &dones, solved: &solvedFlags)
            for r in rewards { totalReward += Double(r) }
            for i in 0..<batch where dones[i] {
                episodes += 1
                if solvedFlags[i] { solved += 1 }
                try envs.reset(i, level: levels[next])
                next = (next + 1) % levels.count
            }
            if copyObservations {
                checksum += Self.copyOut(envs.observations, into: &observations, reading: step)
            }
        }
        let seconds = (ContinuousClock.now - start).inSeconds
        let cpu = Self.cpuTime() - cpuStart
        _ = checksum
        let total = batch * batchSteps
        return Measure(
            steps: total, seconds: seconds, stepsPerSecond: Double(total) / seconds,
            cpuSeconds: cpu,
            stepsPerCpuSecond: Double(total) / cpu, episodes: episodes, solved: solved,
            totalReward: (totalReward * 1000).rounded() / 1000)
    }
}
