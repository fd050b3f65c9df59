// Measuring a policy's solve rate: greedy and best-of-k sampled rollouts over a level set, batched
// per worker thread, deterministic for a seed.
import Core
import Dispatch
import Foundation
import LinearAlgebra
import Policy
import Sokoban

/// How to evaluate.
public struct EvaluationOptions: Sendable {
    /// Attempts per level: the first is greedy (argmax), the others sample from the policy.
    public var attempts = 1
    /// Seed of the sampled attempts (attempt j of level i uses its own stream, so results do not
    /// depend on scheduling).
    public var seed: UInt64 = 0
    /// Worker threads, each with its own environments and network workspace (default: every core).
    public var workers = PolicyThreads.workers
    /// Episodes stepped together per worker.
    public var batch = 32
    /// Rewards and the step limit.
    public var environment = EnvironmentConfig()
    /// Ask the solver whether each failed greedy attempt ended in a dead position (one no push
    /// sequence solves), which tells a fatal push from aimless play. Costs a solver run per failure.
    public var diagnose = false
    /// Play the symmetry-averaged policy (`SymmetryAveraging`): eight forward passes per step.
    public var symmetryAveraging = false
    /// The solver's position budget per diagnosed failure (beyond it the answer is "unknown").
    public var diagnoseNodeLimit = 300_000

    public init() {}

    func validate() throws {
        guard (1...1000).contains(attempts) else {
            throw AgentError.invalidSetting("attempts must be in 1...1000")
        }
        guard (1...64).contains(workers) else {
            throw AgentError.invalidSetting("workers must be in 1...64")
        }
        guard (1...4096).contains(batch) else {
            throw AgentError.invalidSetting("batch must be in 1...4096")
        }
        guard environment.maxSteps >= 1 else {
            throw AgentError.invalidSetting("the step limit must be positive")
        }
        guard diagnoseNodeLimit >= 1 else {
            throw AgentError.invalidSetting("the diagnosis node limit must be positive")
        }
    }
}

/// How a greedy attempt ended.
public enum GreedyEnd: String, Codable, Sendable {
    case solved
    /// It came back to a position it had been in: policy and rules are deterministic, so it
    /// would go round the same cycle until the step limit. The attempt stops there.
    case looped
    /// It reached the step limit without repeating a position.
    case outOfSteps = "out-of-steps"
}

/// Why a dead position is dead, by the cheapest check that proves it: the mistakes a policy makes
/// differ in kind (a box pushed where it can never reach a goal is a local pattern; a position only
/// the solver can prove dead needs the whole board).
public enum DeadEndKind: String, Codable, Sendable, CaseIterable {
    /// A box stands on a square from which no push sequence reaches any goal.
    case deadSquare = "dead-square"
    /// Boxes are frozen against walls and each other (freeze or 2x2 deadlock), some off a goal.
    case frozen
    /// Only the solver's exhaustive search proves it (e.g. boxes sealing off an area).
    case searched

    /// The kind of `position`, known to be unsolvable.
    public static func of(_ position: Level) -> DeadEndKind {
        let detector = DeadlockDetector(level: position)
        if position.boxes.contains(where: { detector.isDeadSquare[$0] }) { return .deadSquare }
        return detector.isDeadlocked(boxes: position.boxes) ? .frozen : .searched
    }
}

/// How the policy did on one level.
public struct LevelOutcome: Codable, Sendable, Equatable {
    /// 1-based position in the level set.
    public var level: Int
    public var title: String
    /// The greedy attempt solved it.
    public var greedySolved: Bool
    /// Steps the greedy attempt took (when unsolved: until it repeated a position or hit the
    /// step limit).
    public var greedySteps: Int
    /// How the greedy attempt ended.
    public var greedyEnd: GreedyEnd
    /// With `diagnose`: whether an unsolved greedy attempt ended in a dead position (nil when
    /// solved, not diagnosed, or the solver ran out of budget).
    public var greedyDeadEnd: Bool?
    /// With `diagnose`: what makes a dead greedy end dead (nil unless `greedyDeadEnd` is true).
    public var greedyDeadEndKind: DeadEndKind?
    /// Sampled attempts that solved it (of `attempts - 1`).
    public var sampledSolved: Int
    /// The greedy attempt's return under the environment's rewards (gym-sokoban's by default). An
    /// attempt stopped on a repeated position is charged the step penalty for the steps it had
    /// left, as the cycle would have cost (nil in logs written before it was measured).
    public var greedyReturn: Double?
    /// Fewest steps of any solving attempt, nil when none solved it.
    public var bestSteps: Int?
    /// Some attempt solved it.
    public var solved: Bool { greedySolved || sampledSolved > 0 }

    enum CodingKeys: String, CodingKey {
        case level, title
        case greedySolved = "greedy_solved"
        case greedySteps = "greedy_steps"
        case sampledSolved = "sampled_solved"
        case bestSteps = "best_steps"
        case solved
        case greedyEnd = "greedy_end"
        case greedyDeadEnd = "greedy_dead_end"
        case greedyDeadEndKind = "greedy_dead_end_kind"
        case greedyReturn = "greedy_return"
    }

    public init(
        level: Int, title: String, greedySolved: Bool, greedySteps: Int,
        greedyEnd: GreedyEnd? = nil,
        greedyDeadEnd: Bool? = nil, greedyDeadEndKind: DeadEndKind? = nil, sampledSolved: Int,
        bestSteps: Int?, greedyReturn: Double? = nil
    ) {
        self.greedyReturn = greedyReturn
        self.level = level
        self.title = title
        self.greedySolved = greedySolved
        self.greedySteps = greedySteps
        self.greedyEnd = greedyEnd ?? (greedySolved ? .solved : .outOfSteps)
        self.greedyDeadEnd = greedyDeadEnd
        self.greedyDeadEndKind = greedyDeadEndKind
        self.sampledSolved = sampledSolved
        self.bestSteps = bestSteps
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        level = try c.decode(Int.self, forKey: .level)
        title = try c.decode(String.self, forKey: .title)
        greedySolved = try c.decode(Bool.self, forKey: .greedySolved)
        greedySteps = try c.decode(Int.self, forKey: .greedySteps)
        greedyEnd =
            try c.decodeIfPresent(GreedyEnd.self, forKey: .greedyEnd)
            ?? (greedySolved ? .solved : .outOfSteps)
        greedyDeadEnd = try c.decodeIfPresent(Bool.self, forKey: .greedyDeadEnd)
        greedyDeadEndKind = try c.decodeIfPresent(DeadEndKind.self, forKey: .greedyDeadEndKind)
        sampledSolved = try c.decode(Int.self, forKey: .sampledSolved)
        bestSteps = try c.decodeIfPresent(Int.self, forKey: .bestSteps)
        greedyReturn = try c.decodeIfPresent(Double.self, forKey: .greedyReturn)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(level, forKey: .level)
        try c.encode(title, forKey: .title)
        try c.encode(greedySolved, forKey: .greedySolved)
        try c.encode(greedySteps, forKey: .greedySteps)
        try c.encode(greedyEnd, forKey: .greedyEnd)
        try c.encodeIfPresent(greedyDeadEnd, forKey: .greedyDeadEnd)
        try c.encodeIfPresent(greedyDeadEndKind, forKey: .greedyDeadEndKind)
        try c.encode(sampledSolved, forKey: .sampledSolved)
        try c.encode(bestSteps, forKey: .bestSteps)
        try c.encodeIfPresent(greedyReturn, forKey: .greedyReturn)
        try c.encode(solved, forKey: .solved)
    }
}

/// The totals of an evaluation.
public struct EvaluationSummary: Codable, Sendable, Equatable {
    public var levels: Int
    public var attempts: Int
    /// Fraction solved by the greedy attempt.
    public var greedySolveRate: Double
    /// Fraction solved by any of the attempts (equals the greedy rate for one attempt).
    public var bestOfKSolveRate: Double
    /// Mean steps of the greedy attempt over the levels it solved (nil when none).
    public var meanStepsSolved: Double?
    /// Mean return of the greedy attempts (see `LevelOutcome.greedyReturn`).
    public var greedyMeanReturn: Double?
    /// Unsolved greedy attempts that repeated a position (optional only so older logs decode).
    public var greedyLooped: Int?
    /// Unsolved greedy attempts that hit the step limit without repeating a position.
    public var greedyOutOfSteps: Int?
    /// With `diagnose`: unsolved greedy attempts that ended in a dead position, and those the
    /// solver could not decide within its budget.
    public var greedyDeadEnds: Int?
    public var greedyUndiagnosed: Int?
    /// With `diagnose`: the dead ends by kind (`DeadEndKind` raw values).
    public var greedyDeadEndKinds: [String: Int]?
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case levels, attempts
        case greedySolveRate = "greedy_solve_rate"
        case bestOfKSolveRate = "best_of_k_solve_rate"
        case meanStepsSolved = "mean_steps_solved"
        case greedyMeanReturn = "greedy_mean_return"
        case seconds
        case greedyLooped = "greedy_looped"
        case greedyOutOfSteps = "greedy_out_of_steps"
        case greedyDeadEnds = "greedy_dead_ends"
        case greedyUndiagnosed = "greedy_undiagnosed"
        case greedyDeadEndKinds = "greedy_dead_end_kinds"
    }

    init(outcomes: [LevelOutcome], attempts: Int, diagnosed: Bool, seconds: Double) {
        levels = outcomes.count
        self.attempts = attempts
        let n = Double(max(1, outcomes.count))
        greedySolveRate = Double(outcomes.filter(\.greedySolved).count) / n
        bestOfKSolveRate = Double(outcomes.filter(\.solved).count) / n
        let solvedSteps = outcomes.filter(\.greedySolved).map { Double($0.greedySteps) }
        meanStepsSolved =
            solvedSteps.isEmpty ? nil : solvedSteps.reduce(0, +) / Double(solvedSteps.count)
        let returns = outcomes.compactMap(\.greedyReturn)
        greedyMeanReturn =
            returns.isEmpty || returns.count < outcomes.count
            ? nil : returns.reduce(0, +) / Double(returns.count)
        greedyLooped = outcomes.filter { $0.greedyEnd == .looped }.count
        greedyOutOfSteps = outcomes.filter { $0.greedyEnd == .outOfSteps }.count
        if diagnosed {
            let failed = outcomes.filter { !$0.greedySolved }
            greedyDeadEnds = failed.filter { $0.greedyDeadEnd == true }.count
            greedyUndiagnosed = failed.filter { $0.greedyDeadEnd == nil }.count
            greedyDeadEndKinds = Dictionary(
                uniqueKeysWithValues: DeadEndKind.allCases.map { kind in
                    (kind.rawValue, failed.filter { $0.greedyDeadEndKind == kind }.count)
                })
        }
        self.seconds = seconds
    }

    /// Metrics for the Laser search and reports.
    public var metrics: [String: Double] {
        var m = ["solve_rate": greedySolveRate, "levels": Double(levels)]
        if attempts > 1 { m["best_of_\(attempts)"] = bestOfKSolveRate }
        if let meanStepsSolved { m["mean_steps"] = meanStepsSolved }
        if let greedyMeanReturn { m["mean_return"] = greedyMeanReturn }
        return m
    }
}

/// Runs a policy on levels.
public enum Evaluator {
    /// Plays every level `options.attempts` times and returns per-level outcomes (in level order)
    /// and the summary. `progress` is called with (episodes finished, episodes in total).
    ///
    /// Deterministic for a seed: the greedy attempt depends only on the weights, and sampled attempt
    /// j of level i draws from its own seeded stream. Work is split statically over the workers.
    /// With several workers, set OpenBLAS to one thread first (`OpenBLASInfo.setThreads(1)`): the
    /// workers are the parallelism, and nested BLAS threads only contend with them.
    public static func evaluate(
        model: any PolicyNetwork, levels: [Level], options: EvaluationOptions = EvaluationOptions(),
        progress: (@Sendable (Int, Int) -> Void)? = nil
    ) throws -> (outcomes: [LevelOutcome], summary: EvaluationSummary) {
        try options.validate()
        guard !levels.isEmpty else { throw AgentError.noLevels("the level set is empty") }
        var playing = options
        playing.environment = try AgentGeometry.environment(for: model, options.environment)
        let options = playing
        for (i, level) in levels.enumerated()
        where level.width > AgentGeometry.boardSize || level.height > AgentGeometry.boardSize {
            throw AgentError.invalidSetting(
                "level \(i + 1) (\(level.title ?? "untitled")) is \(level.width)×\(level.height); the policy plays boards up to 10×10"
            )
        }
        let start = Date()
        let episodes = levels.count * options.attempts
        let workers = max(1, min(options.workers, episodes))
        let results = LockedArray<EpisodeResult?>(repeating: nil, count: episodes)
        let finished = LockedCounter()
        let failure = LockedArray<Error?>(repeating: nil, count: 1)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let mine = Array(stride(from: worker, to: episodes, by: workers))
            do {
                try runEpisodes(
                    mine, model: model, levels: levels, options: options,
                    batch: min(options.batch, max(1, mine.count))
                ) { episode, result in
                    results[episode] = result
                    if let done = finished.claim(below: Int.max) { progress?(done + 1, episodes) }
                }
            } catch {
                failure[0] = error
            }
        }
        if let error = failure[0] { throw error }
        let all = results.values
        var outcomes: [LevelOutcome] = []
        for (i, level) in levels.enumerated() {
            let tries = (0..<options.attempts).map { all[i * options.attempts + $0]! }
            let solving = tries.filter(\.solved).map(\.steps)
            outcomes.append(
                LevelOutcome(
                    level: i + 1, title: level.title ?? "level \(i + 1)",
                    greedySolved: tries[0].solved,
                    greedySteps: tries[0].steps,
                    greedyEnd: tries[0].solved ? .solved : tries[0].looped ? .looped : .outOfSteps,
                    greedyDeadEnd: tries[0].deadEnd,
                    greedyDeadEndKind: tries[0].deadEndKind,
                    sampledSolved: tries.dropFirst().filter(\.solved).count,
                    bestSteps: solving.min(), greedyReturn: tries[0].totalReward))
        }
        let summary = EvaluationSummary(
            outcomes: outcomes, attempts: options.attempts, diagnosed: options.diagnose,
            seconds: Date().timeIntervalSince(start))
        return (outcomes, summary)
    }

    struct EpisodeResult: Sendable {
        var solved: Bool
        var steps: Int
        /// The rewards collected (for a looped attempt, with the step penalty of the steps left).
        var totalReward: Double = 0
        /// A greedy attempt stopped because it repeated a position.
        var looped = false
        /// A diagnosed greedy failure ended in a dead position (nil: not asked or undecided).
        var deadEnd: Bool?
        var deadEndKind: DeadEndKind?
    }

    /// The seed of sampled attempt `attempt` of level `level`.
    static func attemptSeed(_ seed: UInt64, level: Int, attempt: Int) -> UInt64 {
        var mix = SplitMix64(
            seed: seed ^ (UInt64(level) &* 0x9E37_79B9_7F4A_7C15)
                ^ (UInt64(attempt) &* 0xC2B2_AE3D_27D4_EB4F))
        return mix.next()
    }

    /// One worker: keeps `batch` episodes running, loading the next of `episodes` into a slot as
    /// soon as its episode ends. A greedy attempt ends early when it repeats a position (it could
    /// only cycle from there), which also saves most of the time failures used to cost.
    static func runEpisodes(
        _ episodes: [Int], model: any PolicyNetwork, levels: [Level], options: EvaluationOptions,
        batch: Int, report: (Int, EpisodeResult) -> Void
    ) throws {
        guard !episodes.isEmpty else { return }
        var env = BatchedEnvironment(count: batch, config: options.environment)
        let sequence = model as? any SequencePolicy
        if sequence != nil && options.symmetryAveraging {
            throw AgentError.invalidSetting(
                "symmetry averaging is for one-board policies; a \(model.architectureName) reads a history"
            )
        }
        // A sequence policy reads each episode's history, kept per slot and written into `inputs`.
        var histories = sequence.map { s in
            [DecisionHistory](
                repeating: DecisionHistory(layout: s.inputLayout, targetReturn: s.targetReturn),
                count: batch)
        }
        var inputs = [Float](
            repeating: 0, count: sequence.map { batch * $0.inputLayout.floatCount } ?? 0)
        let views = options.symmetryAveraging ? SymmetryAveraging.views : 1
        let context = model.makeContext(batchCapacity: batch * views)
        // The evaluation's own workers are the parallelism: no nested batch split.
        if options.workers > 1 { context.maximumWorkers = 1 }
        var slotEpisode = [Int](repeating: -1, count: batch)
        var slotRandom = [SplitMix64](repeating: SplitMix64(seed: 0), count: batch)
        var slotVisited = [Set<UInt64>](repeating: [], count: batch)
        var slotReward = [Double](repeating: 0, count: batch)
        var nextEpisode = 0
        func load(_ slot: Int) throws {
            guard nextEpisode < episodes.count else {
                slotEpisode[slot] = -1
                return
            }
            let episode = episodes[nextEpisode]
            nextEpisode += 1
            let level = episode / options.attempts
            let attempt = episode % options.attempts
            try env.reset(slot, level: levels[level])
            slotEpisode[slot] = episode
            slotRandom[slot] = SplitMix64(
                seed: attemptSeed(options.seed, level: level, attempt: attempt))
            slotVisited[slot].removeAll(keepingCapacity: true)
            slotReward[slot] = 0
            if attempt == 0 { slotVisited[slot].insert(env.positionHash(slot)) }
            if let sequence { histories?[slot].reset(targetReturn: sequence.targetReturn) }
        }
        func finish(_ slot: Int, solved: Bool, looped: Bool) throws {
            let episode = slotEpisode[slot]
            var result = EpisodeResult(solved: solved, steps: env.stepCount(slot), looped: looped)
            let stepsLeft = looped ? options.environment.maxSteps - env.stepCount(slot) : 0
            result.totalReward =
                slotReward[slot] + Double(options.environment.stepPenalty) * Double(stepsLeft)
            if options.diagnose && !solved && episode % options.attempts == 0 {
                let position = env.snapshot(slot)
                let verdict = Solver.solve(
                    position, options: SolverOptions(nodeLimit: options.diagnoseNodeLimit))
                result.deadEnd =
                    verdict.status == .unsolvable ? true : verdict.status == .solved ? false : nil
                if result.deadEnd == true { result.deadEndKind = DeadEndKind.of(position) }
            }
            report(episode, result)
            try load(slot)
        }
        for slot in 0..<batch { try load(slot) }
        var logits: [Float] = []
        var values: [Float] = []
        var scratch = SymmetryAveraging.Scratch()
        while slotEpisode.contains(where: { $0 >= 0 }) {
            if let sequence, histories != nil {
                let floats = sequence.inputLayout.floatCount
                let stride = env.planeCount * AgentGeometry.cells
                env.observations.withUnsafeBufferPointer { obs in
                    inputs.withUnsafeMutableBufferPointer { input in
                        for slot in 0..<batch where slotEpisode[slot] >= 0 {
                            histories![slot].observe(obs.baseAddress! + slot * stride)
                            histories![slot].write(into: input.baseAddress! + slot * floats)
                        }
                    }
                }
                try context.setObservations(inputs, batch: batch)
                model.forward(context, batch: batch)
                context.copyOutputs(logits: &logits, values: &values)
            } else if views > 1 {
                try SymmetryAveraging.forward(
                    model, context: context, observations: env.observations, batch: batch,
                    planeCount: env.planeCount,
                    scratch: &scratch, logits: &logits, values: &values)
            } else {
                try context.setObservations(env.observations, batch: batch)
                model.forward(context, batch: batch)
                context.copyOutputs(logits: &logits, values: &values)
            }
            for slot in 0..<batch where slotEpisode[slot] >= 0 {
                let episode = slotEpisode[slot]
                let greedy = episode % options.attempts == 0
                let action: Int
                let distribution = ActionDistribution(logits, sample: slot)
                action = greedy ? distribution.argmax : distribution.sample(&slotRandom[slot])
                let step = env.step(slot, action: action)
                histories?[slot].acted(action, reward: step.reward)
                slotReward[slot] += Double(step.reward)
                // A repeated position ends a greedy attempt only for a policy of the board alone: a
                // sequence policy's return-to-go and timestep differ the second time round.
                if step.done {
                    try finish(slot, solved: step.solved, looped: false)
                } else if greedy && sequence == nil
                    && !slotVisited[slot].insert(env.positionHash(slot)).inserted
                {
                    try finish(slot, solved: false, looped: true)
                }
            }
        }
    }
}
