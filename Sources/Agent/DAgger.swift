// DAgger (Ross, Gordon & Bagnell 2011) with the solver as the expert: the policy plays training
// levels, the solver labels every position it reached, and those positions join the imitation data.
// Plain behavior cloning only ever sees positions on the solver's own paths, so one early mistake
// leaves the policy somewhere it has never been taught; DAgger teaches it exactly there.
import Dispatch
import Foundation
import LinearAlgebra
import Policy
import Sokoban

/// Every DAgger setting, in one place.
public struct DAggerConfig: Sendable {
    /// Optimizer steps between collection rounds (0: no DAgger, plain behavior cloning).
    public var every = 0
    /// Training levels the policy plays (greedily) per round, taken in turn from the training set.
    public var levelsPerRound = 500
    /// Positions the solver may store for one state; harder states are skipped.
    public var solverNodeLimit = 200_000
    /// Copies added of the position whose move led into an episode's first dead position (the
    /// fatal push). One is plain DAgger; more weighs the one decision that lost the level against
    /// the dozens of harmless positions around it.
    public var fatalCopies = 1
    /// Copies added of each position on the cycle of an episode that looped (returned to a
    /// position it had left, which a greedy policy then repeats until its steps run out). One is
    /// plain DAgger; more weighs the hesitation that lost a solvable level, as `fatalCopies` weighs
    /// the push that lost a dead one.
    public var loopCopies = 1
    /// Episodes stepped together per worker.
    public var batch = 32
    /// Rewards and the step limit of the rollouts.
    public var environment = EnvironmentConfig()

    public init() {}

    func validate() throws {
        guard every >= 0 else {
            throw AgentError.invalidSetting("the DAgger interval must be 0 (off) or positive")
        }
        guard levelsPerRound >= 1 else {
            throw AgentError.invalidSetting("DAgger levels per round must be positive")
        }
        guard solverNodeLimit >= 1000 else {
            throw AgentError.invalidSetting("the DAgger solver node limit must be at least 1000")
        }
        guard (1...64).contains(fatalCopies) else {
            throw AgentError.invalidSetting("DAgger fatal-position copies must be in 1...64")
        }
        guard (1...64).contains(loopCopies) else {
            throw AgentError.invalidSetting("DAgger loop-position copies must be in 1...64")
        }
        guard (1...4096).contains(batch) else {
            throw AgentError.invalidSetting("the DAgger batch must be in 1...4096")
        }
    }
}

/// What one collection round found.
public struct DAggerRound: Sendable, Equatable {
    /// 1-based round number (round r runs after optimizer step r·every).
    public var round: Int
    public var levelsPlayed = 0
    /// Levels the greedy policy solved while playing.
    public var levelsSolved = 0
    /// Distinct positions reached (per unsolved episode) before the first dead end.
    public var statesVisited = 0
    /// Positions labelled by the solver and added.
    public var statesAdded = 0
    /// Episodes that reached a position no solution exists from (a deadlock).
    public var deadEnds = 0
    /// Of those, the ones whose fatal position (the one the losing move was made from) was labelled.
    public var fatalPositions = 0
    /// Episodes that looped while solvable, whose cycle was labelled.
    public var loops = 0
    /// Positions skipped because the solver hit its node limit.
    public var skipped = 0
    public var seconds = 0.0
}

/// Collecting solver-labelled positions from the policy's own play.
public enum DAgger {
    /// Title prefix of collected positions: "dagger round R level N step T".
    static let titlePrefix = "dagger round "

    /// The round a collected position's title names, nil for other titles.
    public static func round(ofTitle title: String?) -> Int? {
        guard let title, title.hasPrefix(titlePrefix) else { return nil }
        return Int(title.dropFirst(titlePrefix.count).prefix { $0.isNumber })
    }

    /// Plays `model` greedily on `levels` and returns the distinct positions of each unsolved episode up to
    /// its first dead end (the solver proves no solution exists; later positions are lost causes),
    /// each as a level whose `Solution` note is the solver's (fewest pushes, then fewest moves).
    /// `levelNumbers[i]` names level i in the titles. Deterministic: the greedy play depends only on
    /// the weights, and the solver is exact.
    public static func collect(
        model: any PolicyNetwork, levels: [Level], levelNumbers: [Int], round: Int,
        config: DAggerConfig,
        workers: Int = 2
    ) throws -> (states: [Level], report: DAggerRound) {
        try config.validate()
        precondition(levelNumbers.count == levels.count, "one number per level")
        let start = Date()
        let workers = max(1, min(workers, levels.count))
        // Phase 1: play, recording each episode's distinct positions and, for each, the index of
        // the position its first visit was reached from.
        let trajectories = LockedArray<[Level]>(repeating: [], count: levels.count)
        let predecessors = LockedArray<[Int]>(repeating: [], count: levels.count)
        let cycles = LockedArray<Cycle?>(repeating: nil, count: levels.count)
        let solvedByPolicy = LockedArray<Bool>(repeating: false, count: levels.count)
        let failure = LockedArray<Error?>(repeating: nil, count: 1)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let mine = Array(stride(from: worker, to: levels.count, by: workers))
            do {
                try play(
                    mine, model: model, levels: levels, config: config,
                    maximumWorkers: workers > 1 ? 1 : nil
                ) { i, episode in
                    trajectories[i] = episode.states
                    predecessors[i] = episode.from
                    cycles[i] = episode.cycle
                    solvedByPolicy[i] = episode.solved
                }
            } catch {
                failure[0] = error
            }
        }
        if let error = failure[0] { throw error }
        // Phase 2: label, episode by episode, stopping at each episode's first dead end.
        let labelled = LockedArray<[Level]>(repeating: [], count: levels.count)
        let counts = LockedArray<
            (visited: Int, dead: Bool, fatal: Bool, looped: Bool, skipped: Int)
        >(repeating: (0, false, false, false, 0), count: levels.count)
        let next = LockedCounter()
        let options = SolverOptions(nodeLimit: config.solverNodeLimit, minimizeMoves: true)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let i = next.claim(below: levels.count) {
                var out: [Level] = []
                var visited = 0
                var skipped = 0
                var dead = false
                var fatal = false
                // Where in `out` each position's label went.
                var labelIndex: [Int: Int] = [:]
                // A solved episode needs no teaching (and the solver's time is better spent elsewhere).
                for (t, state) in (solvedByPolicy[i] ? [] : trajectories[i]).enumerated() {
                    let result = Solver.solve(state, options: options)
                    if result.status == .unsolvable {
                        dead = true
                        if let from = labelIndex[predecessors[i][t]] {
                            fatal = true
                            let position = out[from]
                            for _ in 1..<config.fatalCopies { out.append(position) }
                        }
                        break
                    }
                    visited += 1
                    guard result.status == .solved, let solution = result.solution,
                        !solution.isEmpty
                    else {
                        skipped += 1
                        continue
                    }
                    var labelledState = state
                    labelledState.title =
                        "\(titlePrefix)\(round) level \(levelNumbers[i]) step \(t)"
                    labelledState.notes =
                        state.notes.filter { $0.key == BatchedEnvironment.trailNote }
                        + [("Solution", solution)]
                    labelIndex[t] = out.count
                    out.append(labelledState)
                }
                // A loop never follows a dead end (the greedy policy repeats its cycle forever), so
                // a labelled cycle was entered while the level was still solvable.
                var looped = false
                if !dead, let cycle = cycles[i] {
                    for t in cycle.positions(predecessors: predecessors[i]) {
                        guard let at = labelIndex[t] else { continue }
                        looped = true
                        let position = out[at]
                        for _ in 1..<config.loopCopies { out.append(position) }
                    }
                }
                labelled[i] = out
                counts[i] = (visited, dead, fatal, looped, skipped)
            }
        }
        var report = DAggerRound(round: round)
        report.levelsPlayed = levels.count
        report.levelsSolved = solvedByPolicy.values.filter { $0 }.count
        let states = labelled.values.flatMap { $0 }
        for c in counts.values {
            report.statesVisited += c.visited
            report.skipped += c.skipped
            if c.dead { report.deadEnds += 1 }
            if c.fatal { report.fatalPositions += 1 }
            if c.looped { report.loops += 1 }
        }
        report.statesAdded = states.count
        report.seconds = Date().timeIntervalSince(start)
        return (states, report)
    }

    /// The first cycle of a greedy episode: the move made from position `from` returned to
    /// position `to`, reached earlier (indices into the episode's distinct positions).
    struct Cycle: Sendable, Equatable {
        var from: Int
        var to: Int

        /// The cycle's positions, from `from` back along first-visit predecessors to `to`.
        func positions(predecessors: [Int]) -> [Int] {
            var out: [Int] = []
            var t = from
            while t >= 0 {
                out.append(t)
                if t == to { return out }
                t = predecessors[t]
            }
            // `to` lies on no first-visit path to `from` (the walk came back by another way):
            // the cycle is then only the move that closed it.
            return [from]
        }
    }

    /// One greedy episode as `play` saw it.
    struct Episode {
        /// Distinct positions before each move (solved positions are not recorded: there is
        /// nothing left to do there).
        var states: [Level] = []
        /// For each position, the index of the position it was first reached from (-1: the start).
        var from: [Int] = []
        /// The return to an earlier position that ended the episode, if any.
        var cycle: Cycle?
        var solved = false
        /// Moves played.
        var moves = 0
    }

    /// One worker's greedy episodes over `indices`; calls `finished(level index, episode)` as
    /// each ends.
    static func play(
        _ indices: [Int], model: any PolicyNetwork, levels: [Level], config: DAggerConfig,
        maximumWorkers: Int?,
        finished: (Int, Episode) -> Void
    ) throws {
        guard !indices.isEmpty else { return }
        let batch = min(config.batch, indices.count)
        var env = BatchedEnvironment(
            count: batch, config: try AgentGeometry.environment(for: model, config.environment))
        let context = model.makeContext(batchCapacity: batch)
        if let maximumWorkers { context.maximumWorkers = maximumWorkers }
        var slotLevel = [Int](repeating: -1, count: batch)
        var slotEpisode = [Episode](repeating: Episode(), count: batch)
        // Each distinct position's index in its episode's `states`, and the index of the current one.
        var slotSeen = [[UInt64: Int]](repeating: [:], count: batch)
        var slotCurrent = [Int](repeating: -1, count: batch)
        var nextIndex = 0
        func load(_ slot: Int) throws {
            slotEpisode[slot] = Episode()
            slotSeen[slot] = [:]
            slotCurrent[slot] = -1
            guard nextIndex < indices.count else {
                slotLevel[slot] = -1
                return
            }
            slotLevel[slot] = indices[nextIndex]
            nextIndex += 1
            try env.reset(slot, level: levels[slotLevel[slot]])
        }
        for slot in 0..<batch { try load(slot) }
        while slotLevel.contains(where: { $0 >= 0 }) {
            for slot in 0..<batch {
                // Distinct observations (the hash covers the trail when the policy sees one). The
                // greedy policy is deterministic, so once an observation repeats the episode
                // repeats its cycle to the step limit and meets no new position: it ends there,
                // and the slot takes the next level.
                guard slotLevel[slot] >= 0 else { continue }
                var hash = env.positionHash(slot)
                if let seen = slotSeen[slot][hash] {
                    slotEpisode[slot].cycle = Cycle(from: slotCurrent[slot], to: seen)
                    finished(slotLevel[slot], slotEpisode[slot])
                    try load(slot)
                    guard slotLevel[slot] >= 0 else { continue }
                    hash = env.positionHash(slot)
                }
                var state = env.snapshot(slot)
                if env.config.trail {
                    state.notes = [(BatchedEnvironment.trailNote, env.trailNoteValue(slot))]
                }
                let index = slotEpisode[slot].states.count
                slotSeen[slot][hash] = index
                slotEpisode[slot].from.append(slotCurrent[slot])
                slotCurrent[slot] = index
                slotEpisode[slot].states.append(state)
            }
            try context.setObservations(env.observations, batch: batch)
            model.forward(context, batch: batch)
            for slot in 0..<batch where slotLevel[slot] >= 0 {
                let step = env.step(slot, action: context.greedyAction(sample: slot))
                slotEpisode[slot].moves += 1
                if step.done {
                    slotEpisode[slot].solved = step.solved
                    finished(slotLevel[slot], slotEpisode[slot])
                    try load(slot)
                }
            }
        }
    }
}
