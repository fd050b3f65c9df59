// A PPO curriculum: smaller rooms with fewer boxes first, moving on once the policy solves most of
// them. Sparse rewards are the trouble with RL on Sokoban; small levels get solved (and rewarded)
// often enough to learn from, and what is learnt there carries over to the full-size rooms.
import Foundation
import LinearAlgebra
import Sokoban

/// One stage: a level pool and a name for the logs.
public struct CurriculumStage: Sendable {
    public var name: String
    public var levels: [Level]

    public init(name: String, levels: [Level]) {
        self.name = name
        self.levels = levels
    }
}

/// Stages in order, and when to move on: once the solve rate of the last `window` episodes of a
/// stage reaches `advanceAt`. The last stage is never left.
public struct Curriculum: Sendable {
    public let stages: [CurriculumStage]
    public let advanceAt: Double
    public let window: Int
    /// The current stage's index.
    public private(set) var stage: Int
    /// Outcomes of the current stage's latest episodes (a ring of `window`).
    private var recent: [Bool] = []
    private var next = 0

    /// `recent` restores the current stage's latest outcomes, oldest first (a resumed run's
    /// `recentOutcomes`); only the last `window` count.
    public init(
        stages: [CurriculumStage], advanceAt: Double = 0.7, window: Int = 200, stage: Int = 0,
        recent: [Bool] = []
    ) throws {
        guard !stages.isEmpty, stages.allSatisfy({ !$0.levels.isEmpty }) else {
            throw AgentError.noLevels("every curriculum stage needs levels")
        }
        guard advanceAt > 0 && advanceAt <= 1 else {
            throw AgentError.invalidSetting("the advance threshold must be in (0, 1]")
        }
        guard window >= 1 else {
            throw AgentError.invalidSetting("the curriculum window must be positive")
        }
        guard stage >= 0 && stage < stages.count else {
            throw AgentError.invalidSetting(
                "curriculum stage \(stage) does not exist (there are \(stages.count))")
        }
        self.stages = stages
        self.advanceAt = advanceAt
        self.window = window
        self.stage = stage
        self.recent = Array(recent.suffix(window))
        next = self.recent.count % window
    }

    /// The current stage's latest outcomes, oldest first: what a checkpoint keeps so a resumed
    /// run advances when an uninterrupted one would.
    public var recentOutcomes: [Bool] {
        recent.count < window ? recent : Array(recent[next...] + recent[..<next])
    }

    /// The pool episodes are drawn from now.
    public var levels: [Level] { stages[stage].levels }

    /// The solve rate over the current stage's recorded episodes (nil before any).
    public var recentSolveRate: Double? {
        recent.isEmpty ? nil : Double(recent.filter { $0 }.count) / Double(recent.count)
    }

    /// Records a finished episode; returns true when this moved the curriculum to the next stage.
    public mutating func record(solved: Bool) -> Bool {
        if recent.count < window { recent.append(solved) } else { recent[next] = solved }
        next = (next + 1) % window
        guard stage < stages.count - 1, recent.count == window, let rate = recentSolveRate,
            rate >= advanceAt
        else {
            return false
        }
        stage += 1
        recent.removeAll()
        next = 0
        return true
    }

    /// Stages of generated levels, one per room size ("WxHxB": width, height, boxes), `count`
    /// levels each from the seed stream of `seed` (stage i uses seed + i), then `final` (the
    /// full-size training pool) as the last stage.
    public static func generated(
        specs: [String], count: Int, seed: UInt64, final: [Level], workers: Int = 2
    ) throws -> [CurriculumStage] {
        var stages: [CurriculumStage] = []
        for (i, spec) in specs.enumerated() {
            let options = try parse(spec)
            let levels = try Demonstrations.generate(
                options: options, seed: seed &+ UInt64(i), count: count, workers: workers)
            stages.append(CurriculumStage(name: spec, levels: levels))
        }
        stages.append(CurriculumStage(name: "final", levels: final))
        return stages
    }

    /// "7x7x2" → 7 wide, 7 high, 2 boxes (checked by the generator's own rules).
    public static func parse(_ spec: String) throws -> GeneratorOptions {
        let parts = spec.lowercased().split(separator: "x").map { Int($0) }
        guard parts.count == 3, let w = parts[0], let h = parts[1], let b = parts[2] else {
            throw AgentError.invalidSetting(
                "curriculum stage '\(spec)' is not WIDTHxHEIGHTxBOXES (like 7x7x2)")
        }
        let options = GeneratorOptions(width: w, height: h, boxes: b)
        if let problem = options.problem() {
            throw AgentError.invalidSetting("curriculum stage '\(spec)': \(problem)")
        }
        guard w <= AgentGeometry.boardSize && h <= AgentGeometry.boardSize else {
            throw AgentError.invalidSetting(
                "curriculum stage '\(spec)': the policies play boards up to 10×10")
        }
        return options
    }
}
