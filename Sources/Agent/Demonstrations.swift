// Solver demonstrations: levels generated from seeds and solved (in parallel, deterministic per
// seed, cached on disk with a version stamp), and the solutions replayed into training samples.
import Core
import Dispatch
import Foundation
import Synchronization
import LinearAlgebra
import Policy
import Sokoban

/// Generating and caching solved levels.
public enum Demonstrations {
    /// Cache format name and version, stamped into the cache's notes.
    public static let format = "laser-demonstrations"
    public static let version = "1"

    /// What a cache was made with, as its first `Comment` note; a cache is reused only when this
    /// matches exactly. (Level files keep only known note keys, hence comments.)
    static func stamp(_ options: GeneratorOptions, seed: UInt64) -> String {
        "\(format) version \(version); generator \(options.width)x\(options.height), \(options.boxes) boxes; seed \(seed)"
    }

    static let seedsUsedPrefix = "seeds used: "

    /// `count` solved levels from the SplitMix64 seed stream of `seed` (the same stream as
    /// `laser generate --seed`), generated over `workers` threads. With `cachePath`, levels already
    /// in the cache are reused and new ones appended (atomically, after every chunk), so an
    /// interrupted run continues where it stopped. Levels carry `Seed` and `Solution` notes.
    public static func generate(
        options: GeneratorOptions, seed: UInt64, count: Int, cachePath: String? = nil,
        workers: Int = ProcessInfo.processInfo.activeProcessorCount,
        progress: ((Int, Int) -> Void)? = nil
    ) throws -> [Level] {
        guard count >= 1 else {
            throw AgentError.invalidSetting("demonstration count must be positive")
        }
        if let problem = options.problem() { throw AgentError.invalidSetting(problem) }
        var levels: [Level] = []
        var seedsUsed = 0
        let expected = stamp(options, seed: seed)
        if let cachePath, FileManager.default.fileExists(atPath: cachePath) {
            let cache = try LevelCollection(path: cachePath)
            if let refused = cache.skipped.first {
                throw AgentError.cacheMismatch(path: cachePath, reason: "\(refused)")
            }
            let comments = cache.notes.filter { $0.key.lowercased() == "comment" }.map(\.value)
            guard comments.first == expected else {
                throw AgentError.cacheMismatch(
                    path: cachePath,
                    reason:
                        "it was made as '\(comments.first ?? "(no stamp)")', expected '\(expected)'"
                )
            }
            guard let usedText = comments.first(where: { $0.hasPrefix(seedsUsedPrefix) }),
                let used = Int(usedText.dropFirst(seedsUsedPrefix.count)),
                used >= cache.levels.count
            else {
                throw AgentError.cacheMismatch(
                    path: cachePath, reason: "no valid '\(seedsUsedPrefix)N' comment")
            }
            levels = cache.levels
            seedsUsed = used
        }
        var stream = SplitMix64(seed: seed)
        for _ in 0..<seedsUsed { _ = stream.next() }
        progress?(min(levels.count, count), count)
        while levels.count < count {
            let chunk = max(16, min(256, (count - levels.count) * 9 / 8))
            let seeds = (0..<chunk).map { _ in stream.next() }
            seedsUsed += chunk
            for case let made? in generate(seeds: seeds, options: options, workers: workers) {
                levels.append(made.level)
            }
            if let cachePath {
                var collection = LevelCollection(levels: levels)
                collection.notes = [
                    ("Title", "solver demonstrations"), ("Comment", expected),
                    ("Comment", seedsUsedPrefix + "\(seedsUsed)"),
                ]
                try AtomicFile.write(string: collection.xsb(), to: cachePath)
            }
            progress?(min(levels.count, count), count)
            if seedsUsed > 4 * count + 256 {
                throw AgentError.invalidSetting("too many seeds give no level; try other sizes")
            }
        }
        return Array(levels.prefix(count))
    }

    /// Generates one level per seed in parallel; results in seed order (nil where a seed failed).
    static func generate(seeds: [UInt64], options: GeneratorOptions, workers: Int)
        -> [GeneratedLevel?]
    {
        Generator.generateMany(
            seeds: seeds, options: options, workers: workers,
            makeGenerator: { SplitMix64(seed: $0) })
    }
}

/// Training samples replayed from solved levels: per step the board (as cell codes), the solver's
/// action, every action as good as it (see `OptimalActions`) and the discounted return-to-go under
/// the environment's rewards.
public struct DemonstrationData: Sendable {
    /// (samples, 100) cell codes: the `ObservationPlane` raw value of each cell, with
    /// `AgentGeometry.trailCode` on trail cells when the config has the trail plane.
    public private(set) var codes: [UInt8] = []
    /// The demonstrated action of each sample (a `Direction` raw value).
    public private(set) var actions: [UInt8] = []
    /// The actions as good as the demonstrated one (`ActionSet` raw values; always holds it).
    public private(set) var actionSets: [UInt8] = []
    /// Discounted return from each sample's state to the end of its episode.
    public private(set) var returns: [Float] = []
    /// Undiscounted return from each sample's state to the end of its episode (a Decision
    /// Transformer's return-to-go).
    public private(set) var returnsToGo: [Float] = []
    /// Each sample's step in its episode (0 for its starting position).
    public private(set) var stepIndex: [Int32] = []
    /// Set for a sequence policy: `write` then writes each sample with the K − 1 steps before it
    /// in its episode (see `DecisionInputLayout`).
    public var sequence: DecisionInputLayout?
    /// The level each sample came from (index into the levels given), or -1 for states added with
    /// `append(levels:firstStepOnly:)` without an index.
    public private(set) var levelIndex: [Int32] = []

    /// Levels given with `indexed` so far.
    public private(set) var indexedLevels = 0
    let gamma: Float
    let config: EnvironmentConfig

    public var count: Int { actions.count }
    /// Observation planes per sample (the config's, or the sequence layout's).
    public var planeCount: Int { sequence?.planeCount ?? config.planeCount }

    /// Replays each level's `Solution` note in the environment. Levels larger than 10×10 or whose
    /// solution does not solve them are errors naming the level.
    public init(levels: [Level], gamma: Float, config: EnvironmentConfig = EnvironmentConfig())
        throws
    {
        self.gamma = gamma
        self.config = config
        try append(levels: levels, firstStepOnly: false, indexed: true)
    }

    /// Adds samples replayed from more solved levels. With `firstStepOnly`, only each level's
    /// starting position becomes a sample (as for states the policy visited, labelled by the
    /// solver), its return still that of the whole solution. With `indexed`, sample level indices
    /// continue from the levels given so far; otherwise they are -1.
    public mutating func append(levels: [Level], firstStepOnly: Bool, indexed: Bool) throws {
        var env = BatchedEnvironment(count: 1, config: config)
        let cells = AgentGeometry.cells
        var boards: [UInt8] = []
        var rewards: [Float] = []
        let firstIndex = Int32(indexedLevels)
        for (n, level) in levels.enumerated() {
            let title = level.title ?? "untitled"
            guard let solution = level.note("Solution") else {
                throw AgentError.badSolution(
                    level: n + 1, title: title, reason: "is missing (no Solution note)")
            }
            let steps: [(direction: Direction, push: Bool)]
            do { steps = try LURD.parse(solution) } catch {
                throw AgentError.badSolution(
                    level: n + 1, title: title, reason: "does not parse: \(error)")
            }
            do { try env.reset(0, level: level) } catch {
                throw AgentError.badSolution(
                    level: n + 1, title: title, reason: "cannot be played: \(error)")
            }
            boards.removeAll(keepingCapacity: true)
            rewards.removeAll(keepingCapacity: true)
            var solved = false
            for (i, step) in steps.enumerated() {
                boards.append(contentsOf: repeatElement(0, count: cells))
                boards.withUnsafeMutableBufferPointer {
                    AgentGeometry.codes(of: env, index: 0, into: $0.baseAddress! + i * cells)
                }
                let result = env.step(0, action: step.direction.rawValue)
                rewards.append(result.reward)
                if result.solved {
                    guard i == steps.count - 1 else {
                        throw AgentError.badSolution(
                            level: n + 1, title: title, reason: "solves it before its last move")
                    }
                    solved = true
                }
            }
            guard solved else {
                throw AgentError.badSolution(
                    level: n + 1, title: title, reason: "does not solve it")
            }
            var running: Float = 0
            var undiscounted: Float = 0
            var tail = [Float](repeating: 0, count: rewards.count)
            var toGo = [Float](repeating: 0, count: rewards.count)
            for i in stride(from: rewards.count - 1, through: 0, by: -1) {
                running = rewards[i] + gamma * running
                undiscounted += rewards[i]
                tail[i] = running
                toGo[i] = undiscounted
            }
            let kept = firstStepOnly ? 1 : steps.count
            boards.withUnsafeBufferPointer { b in
                for i in 0..<kept {
                    let board = b.baseAddress! + i * cells
                    codes.append(contentsOf: UnsafeBufferPointer(start: board, count: cells))
                    actions.append(UInt8(steps[i].direction.rawValue))
                    actionSets.append(OptimalActions.set(codes: board, steps: steps[i...]).rawValue)
                    levelIndex.append(indexed ? firstIndex + Int32(n) : -1)
                    stepIndex.append(Int32(i))
                }
            }
            returns.append(contentsOf: tail.prefix(kept))
            returnsToGo.append(contentsOf: toGo.prefix(kept))
        }
        if indexed { indexedLevels += levels.count }
    }

    /// Writes sample `sample` transformed by `symmetry` as planes at `out` (with `sequence`, the
    /// K steps ending at it) and returns its (transformed) optimal-action set.
    func write(sample: Int, symmetry: BoardSymmetry, into out: UnsafeMutablePointer<Float>)
        -> ActionSet
    {
        if let sequence {
            writeHistory(sample: sample, layout: sequence, symmetry: symmetry, into: out)
        } else {
            writeBoard(sample: sample, symmetry: symmetry, into: out)
        }
        // Map each member through the symmetry bit by bit (this runs per sample of every batch).
        let raw = actionSets[sample]
        var mapped: UInt8 = 0
        for a in 0..<4 where raw & (1 << UInt8(a)) != 0 { mapped |= 1 << UInt8(symmetry.action[a]) }
        return ActionSet(rawValue: mapped)
    }

    /// The K steps ending at `sample`, oldest first, padded before its episode's start; every
    /// board and action transformed by `symmetry`.
    private func writeHistory(
        sample: Int, layout: DecisionInputLayout, symmetry: BoardSymmetry,
        into out: UnsafeMutablePointer<Float>
    ) {
        let k = layout.steps
        let t = Int(stepIndex[sample])
        for step in 0..<k {
            let index = t - (k - 1) + step
            guard index >= 0 else {
                layout.writePadding(step: step, into: out)
                continue
            }
            let earlier = sample - (t - index)
            writeBoard(sample: earlier, symmetry: symmetry, into: layout.state(step: step, in: out))
            layout.writeSide(
                step: step, into: out, returnToGo: returnsToGo[earlier],
                action: index < t ? symmetry.action[Int(actions[earlier])] : nil, timestep: index)
        }
    }

    private func writeBoard(
        sample: Int, symmetry: BoardSymmetry, into out: UnsafeMutablePointer<Float>
    ) {
        codes.withUnsafeBufferPointer { c in
            symmetry.writePlanes(
                codes: c.baseAddress! + sample * AgentGeometry.cells,
                planeCount: config.planeCount, into: out)
        }
    }
}

/// An array written by several threads at distinct indices.
final class LockedArray<Element: Sendable>: Sendable {
    private let items: Mutex<[Element]>

    init(repeating value: Element, count: Int) {
        items = Mutex(Array(repeating: value, count: count))
    }

    subscript(i: Int) -> Element {
        get { items.withLock { $0[i] } }
        set { items.withLock { $0[i] = newValue } }
    }

    var values: [Element] { items.withLock { $0 } }
}

/// A shared work counter handing out indices once each.
final class LockedCounter: Sendable {
    private let next = Mutex(0)

    func claim(below limit: Int) -> Int? {
        next.withLock { next in
            guard next < limit else { return nil }
            next += 1
            return next - 1
        }
    }
}
