// The environment benchmark behind `laser bench env`: random actions on a level set, timed for
// one environment and for a batch, with and without handing out each step's observation.
import Core
import Foundation

public struct EnvironmentBenchmark: Sendable {
    /// Steps for the single environment.
    public var steps = 2_000_000
    /// Environments in the batch.
    public var batch = 64
    /// Batched steps per environment.
    public var batchSteps = 50_000
    /// Seed of the random actions.
    public var seed: UInt64 = 0

    public init() {}

    public struct Measure: Codable, Sendable {
        public var steps: Int
        public var seconds: Double
        public var stepsPerSecond: Double
        /// CPU time of the process: robust to other work on a shared machine.
        public var cpuSeconds: Double
        public var stepsPerCpuSecond: Double
        public var episodes: Int
        public var solved: Int
        /// The sum of rewards: equal to gym-sokoban's on the same levels and actions.
        public var totalReward: Double
    }

    public struct Report: Codable, Sendable {
        public var levels: String
        public var levelCount: Int
        public var implementation = "laser (Swift)"
        /// The rules alone (the observation planes are still kept up to date in place).
        public var single: Measure
        public var batched: Measure
        /// The same steps, each also handing out a copy of its observation (gym's contract).
        public var singleWithObservation: Measure
        public var batchedWithObservation: Measure
        public var batch: Int
    }

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

    /// Plays `levels` (named `name` in the report) in all four modes.
    public func run(levels: [Level], name: String) throws -> Report {
        var rng = SplitMix64(seed: seed)
        let actions = (0..<Self.actionCount).map { _ in Int(rng.next() & 3) }
        let single = try measureSingle(levels: levels, actions: actions, copyObservation: false)
        let singleObserved = try measureSingle(
            levels: levels, actions: actions, copyObservation: true)
        let batched = try measureBatched(levels: levels, actions: actions, copyObservations: false)
        let batchedObserved = try measureBatched(
            levels: levels, actions: actions, copyObservations: true)
        return Report(
            levels: name, levelCount: levels.count, single: single, batched: batched,
            singleWithObservation: singleObserved, batchedWithObservation: batchedObserved,
            batch: batch)
    }

    static let actionCount = 1 << 16

    /// One environment, `steps` random actions, resetting to the next level when an episode ends.
    /// With `copyObservation`, each step also hands out its observation planes as a fresh copy, as
    /// gym-sokoban and jumanji return one from every step (the environment keeps its planes up to
    /// date in place either way; the copy is the like-for-like cost).
    private func measureSingle(levels: [Level], actions: [Int], copyObservation: Bool) throws
        -> Measure
    {
        var env = SokobanEnvironment()
        var next = 0
        try env.reset(level: levels[0])
        var observation = [Float](repeating: 0, count: env.observation.count)
        var episodes = 0
        var solved = 0
        var totalReward = 0.0
        var checksum: Float = 0
        let start = ContinuousClock.now
        let cpuStart = ProcessUsage.cpuSeconds()
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
        let cpu = ProcessUsage.cpuSeconds() - cpuStart
        _ = checksum
        return Measure(
            steps: steps, seconds: seconds, stepsPerSecond: Double(steps) / seconds,
            cpuSeconds: cpu, stepsPerCpuSecond: Double(steps) / cpu, episodes: episodes,
            solved: solved,
            totalReward: (totalReward * 1000).rounded() / 1000)
    }

    /// `batch` environments stepped together; with `copyObservations`, every step also copies all
    /// their observation planes out, as a batched gym/jumanji step returns them.
    private func measureBatched(levels: [Level], actions: [Int], copyObservations: Bool) throws
        -> Measure
    {
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
        let cpuStart = ProcessUsage.cpuSeconds()
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
        let cpu = ProcessUsage.cpuSeconds() - cpuStart
        _ = checksum
        let total = batch * batchSteps
        return Measure(
            steps: total, seconds: seconds, stepsPerSecond: Double(total) / seconds,
            cpuSeconds: cpu,
            stepsPerCpuSecond: Double(total) / cpu, episodes: episodes, solved: solved,
            totalReward: (totalReward * 1000).rounded() / 1000)
    }
}
