// The RL environment: gym-sokoban's rewards and step limit, observation planes, and a
// batched form that steps many levels at once without allocating.
import Core

/// Rewards and limits, with gym-sokoban's values as defaults.
public struct EnvironmentConfig: Sendable, Equatable {
    /// Added on every step.
    public var stepPenalty: Float = -0.1
    /// Added when a box lands on a goal.
    public var boxOnGoal: Float = 1
    /// Added (negative) when a box leaves a goal.
    public var boxOffGoal: Float = -1
    /// Added when the last box reaches its goal.
    public var solved: Float = 10
    /// Steps after which the episode ends unsolved.
    public var maxSteps = 120
    /// How squares are encoded in the observation planes.
    public var observation = ObservationEncoding.oneHot
    /// Add the trail plane after the encoding's planes: 1 on every square the player has stood on
    /// since the last push (the current square included). It is the policy's memory of where it
    /// has just been: on a solver's path the player never steps back onto its trail between two
    /// pushes, while a greedy policy that goes round in circles does.
    public var trail = false

    /// Planes per square: the encoding's, plus one for the trail.
    public var planeCount: Int { observation.planeCount + (trail ? 1 : 0) }

    public init() {}
}

/// How the environment encodes a square.
public enum ObservationEncoding: Sendable, Equatable {
    /// Seven planes (`ObservationPlane`), exactly one hot per square, as gym-sokoban's and
    /// jumanji's seven cell codes: wall, floor, goal, box, player, box on goal, player on goal.
    case oneHot
    /// Five binary planes: wall, floor (every square that is not wall), goal, box, player; a box
    /// on a goal lights both the box and the goal plane.
    case layered

    /// Planes per square.
    public var planeCount: Int { self == .oneHot ? 7 : 5 }
}

/// The observation planes of the `.oneHot` encoding, in order (`.layered` uses the first five
/// with the meanings given there).
public enum ObservationPlane: Int, CaseIterable, Sendable {
    case wall = 0
    case floor, goal, box, player, boxOnGoal, playerOnGoal
}

/// What one step gave.
public struct EnvironmentStep: Sendable, Equatable {
    /// The step's reward under `EnvironmentConfig`.
    public var reward: Float
    /// The episode ended (solved or out of steps).
    public var done: Bool
    /// Every box is on a goal.
    public var solved: Bool
}

/// Many Sokoban environments of one board size stepped together. Observations are kept up to
/// date in place, laid out `(count, planes, height, width)`; a step touches at most three squares
/// per environment and allocates nothing.
public struct BatchedEnvironment: Sendable {
    static let wallBit: UInt8 = 1, goalBit: UInt8 = 2, boxBit: UInt8 = 4, trailBit: UInt8 = 8

    /// Environments in the batch.
    public let count: Int
    /// Board size in squares; smaller levels are padded with wall.
    public let height: Int
    public let width: Int
    /// Rewards, step limit and observation encoding.
    public let config: EnvironmentConfig
    /// Planes per square (7 for `.oneHot`, 5 for `.layered`, one more with the trail).
    public let planeCount: Int
    /// Floats in one environment's observation.
    public var observationSize: Int { planeCount * height * width }
    /// All observations, `(count, planes, height, width)` row-major.
    public private(set) var observations: [Float]
    /// When true, an environment whose episode ends starts again from its last level at once
    /// (its observation shows the new start; the step's reward and done flag describe the end).
    public var autoReset: Bool

    private var cells: [UInt8]
    private var initialCells: [UInt8]
    private var player: [Int]
    private var initialPlayer: [Int]
    private var boxCount: [Int]
    private var onGoal: [Int]
    private var initialOnGoal: [Int]
    private var steps: [Int]
    private var loaded: [Bool]

    /// `count` environments of `height` x `width` squares; levels smaller than that are placed
    /// at the top left and the rest is wall.
    public init(
        count: Int, height: Int = 10, width: Int = 10,
        config: EnvironmentConfig = EnvironmentConfig(), autoReset: Bool = false
    ) {
        precondition(count > 0 && height > 2 && width > 2, "invalid environment shape")
        self.count = count
        self.height = height
        self.width = width
        self.config = config
        self.autoReset = autoReset
        let squares = height * width
        planeCount = config.planeCount
        observations = [Float](repeating: 0, count: count * planeCount * squares)
        cells = [UInt8](repeating: Self.wallBit, count: count * squares)
        initialCells = cells
        player = [Int](repeating: 0, count: count)
        initialPlayer = player
        boxCount = player
        onGoal = player
        initialOnGoal = player
        steps = player
        loaded = [Bool](repeating: false, count: count)
    }

    /// Steps taken in environment `index`'s current episode.
    public func stepCount(_ index: Int) -> Int { steps[index] }
    /// Boxes on goals in environment `index`.
    public func boxesOnGoals(_ index: Int) -> Int { onGoal[index] }

    /// A 64-bit hash of what environment `index`'s observation shows (the player's square, the
    /// box squares and, with the trail plane, the trail): equal observations hash equal, so an
    /// evaluator can see a deterministic policy come back to one. FNV-1a over the box bitmap, the
    /// player and the trail bitmap; different ones collide with probability about 2⁻⁶⁴ per pair.
    public func positionHash(_ index: Int) -> UInt64 {
        let squares = height * width
        var hash = FNV1a()
        cells.withUnsafeBufferPointer { c in
            let base = index * squares
            for s in 0..<squares where c[base + s] & Self.boxBit != 0 { hash.combine(UInt64(s)) }
            hash.combine(UInt64(squares + player[index]))
            if config.trail {
                for s in 0..<squares where c[base + s] & Self.trailBit != 0 {
                    hash.combine(UInt64(2 * squares + s))
                }
            }
        }
        return hash.value
    }

    /// Whether square `square` (row-major on the board) is on environment `index`'s trail.
    public func isOnTrail(_ index: Int, square: Int) -> Bool {
        cells[index * height * width + square] & Self.trailBit != 0
    }

    /// Environment `index`'s current position as a level on the full `height` x `width` board
    /// (padding as wall), for example to ask the solver for an expert action mid-episode.
    public func snapshot(_ index: Int) -> Level {
        precondition(loaded[index], "environment \(index) has no level")
        let squares = height * width
        let base = index * squares
        var board = [Square](repeating: .wall, count: squares)
        var isGoal = [Bool](repeating: false, count: squares)
        var boxes: [Int] = []
        for s in 0..<squares {
            let cell = cells[base + s]
            if cell & Self.wallBit == 0 { board[s] = .floor }
            if cell & Self.goalBit != 0 { isGoal[s] = true }
            if cell & Self.boxBit != 0 { boxes.append(s) }
        }
        return Level(
            title: nil, author: nil, notes: [], width: width, height: height, squares: board,
            isGoal: isGoal, boxes: boxes, player: player[index])
    }

    /// Starts environment `index` on `level`. Throws if the level is larger than the board.
    public mutating func reset(_ index: Int, level: Level) throws {
        guard level.width <= width && level.height <= height else {
            throw LevelError(
                level: 0, line: 0, column: 0, title: level.title,
                problem: .malformed(
                    "level is \(level.width)x\(level.height); the environment is \(width)x\(height)"
                ))
        }
        let squares = height * width
        let base = index * squares
        var goals = 0
        for s in 0..<squares { initialCells[base + s] = Self.wallBit }
        for r in 0..<level.height {
            for c in 0..<level.width {
                let i = r * level.width + c
                var cell: UInt8 = level.squares[i] == .floor ? 0 : Self.wallBit
                if level.isGoal[i] { cell |= Self.goalBit }
                initialCells[base + r * width + c] = cell
            }
        }
        for b in level.boxes {
            let (r, c) = level.position(of: b)
            initialCells[base + r * width + c] |= Self.boxBit
            if level.isGoal[b] { goals += 1 }
        }
        let (pr, pc) = level.position(of: level.player)
        initialPlayer[index] = pr * width + pc
        initialOnGoal[index] = goals
        boxCount[index] = level.boxCount
        var trail: [Int] = []
        if config.trail, let note = level.note(Self.trailNote) {
            for word in note.split(separator: " ") {
                guard let s = Int(word), s >= 0, s < level.squares.count,
                    level.squares[s] == .floor,
                    !level.boxes.contains(s)
                else {
                    throw LevelError(
                        level: 0, line: 0, column: 0, title: level.title,
                        problem: .malformed("trail square '\(word)' is not an empty floor square"))
                }
                let (r, c) = level.position(of: s)
                trail.append(r * width + c)
            }
        }
        loaded[index] = true
        restart(index)
        for s in trail where cells[base + s] & Self.trailBit == 0 {
            cells[base + s] |= Self.trailBit
            writeObservation(index, s)
        }
    }

    /// The note of a position collected mid-episode that lists its trail: the level's square
    /// indices (row-major) the player walked since the last push, separated by spaces.
    public static let trailNote = "Trail"

    /// Environment `index`'s trail as a `trailNote` value for a level from `snapshot`.
    public func trailNoteValue(_ index: Int) -> String {
        let base = index * height * width
        return (0..<height * width).filter { cells[base + $0] & Self.trailBit != 0 }
            .map(String.init).joined(separator: " ")
    }

    /// Starts environment `index` again from its last level.
    public mutating func restart(_ index: Int) {
        precondition(loaded[index], "environment \(index) has no level")
        let squares = height * width
        let base = index * squares
        for s in 0..<squares { cells[base + s] = initialCells[base + s] }
        player[index] = initialPlayer[index]
        if config.trail { cells[base + player[index]] |= Self.trailBit }
        onGoal[index] = initialOnGoal[index]
        steps[index] = 0
        for s in 0..<squares { writeObservation(index, s) }
    }

    /// Rewrites the planes of one square from `cells` and `player`.
    private mutating func writeObservation(_ index: Int, _ square: Int) {
        let squares = height * width
        let cell = cells[index * squares + square]
        let base = index * planeCount * squares + square
        if config.observation == .layered {
            let wall = cell & Self.wallBit != 0
            let values: (Float, Float, Float, Float, Float) = (
                wall ? 1 : 0, wall ? 0 : 1, cell & Self.goalBit != 0 ? 1 : 0,
                cell & Self.boxBit != 0 ? 1 : 0, square == player[index] ? 1 : 0
            )
            observations.withUnsafeMutableBufferPointer { obs in
                obs[base] = values.0
                obs[base + squares] = values.1
                obs[base + 2 * squares] = values.2
                obs[base + 3 * squares] = values.3
                obs[base + 4 * squares] = values.4
            }
            writeTrail(base, cell)
            return
        }
        let plane: ObservationPlane
        if cell & Self.wallBit != 0 {
            plane = .wall
        } else if square == player[index] {
            plane = cell & Self.goalBit != 0 ? .playerOnGoal : .player
        } else if cell & Self.boxBit != 0 {
            plane = cell & Self.goalBit != 0 ? .boxOnGoal : .box
        } else {
            plane = cell & Self.goalBit != 0 ? .goal : .floor
        }
        let planes = config.observation.planeCount
        observations.withUnsafeMutableBufferPointer { obs in
            for p in 0..<planes { obs[base + p * squares] = 0 }
            obs[base + plane.rawValue * squares] = 1
        }
        writeTrail(base, cell)
    }

    /// Writes the trail plane (the last) of the square whose first plane is at `base`.
    private mutating func writeTrail(_ base: Int, _ cell: UInt8) {
        guard config.trail else { return }
        observations[base + config.observation.planeCount * height * width] =
            cell & Self.trailBit != 0 ? 1 : 0
    }

    /// A push starts a new trail: every trail square of environment `index` is cleared.
    private mutating func clearTrail(_ index: Int) {
        let base = index * height * width
        for s in 0..<height * width where cells[base + s] & Self.trailBit != 0 {
            cells[base + s] &= ~Self.trailBit
            writeObservation(index, s)
        }
    }

    /// Steps environment `index` with `action` (a `Direction` raw value, 0...3).
    public mutating func step(_ index: Int, action: Int) -> EnvironmentStep {
        precondition(loaded[index], "environment \(index) has no level")
        precondition(action >= 0 && action < 4, "action \(action) is not in 0...3")
        let squares = height * width
        let base = index * squares
        let d: Int
        switch action {
        case 0: d = -width
        case 1: d = width
        case 2: d = -1
        default: d = 1
        }
        var reward = config.stepPenalty
        steps[index] += 1
        let from = player[index]
        let next = from + d
        // Squares outside the board never arise: levels are closed by walls.
        let nextCell = cells[base + next]
        if nextCell & Self.wallBit == 0 {
            if nextCell & Self.boxBit != 0 {
                let beyond = next + d
                let beyondCell = cells[base + beyond]
                if beyondCell & (Self.wallBit | Self.boxBit) == 0 {
                    cells[base + next] = nextCell & ~Self.boxBit
                    cells[base + beyond] = beyondCell | Self.boxBit
                    if nextCell & Self.goalBit != 0 {
                        onGoal[index] -= 1
                        reward += config.boxOffGoal
                    }
                    if beyondCell & Self.goalBit != 0 {
                        onGoal[index] += 1
                        reward += config.boxOnGoal
                    }
                    player[index] = next
                    if config.trail {
                        clearTrail(index)
                        cells[base + next] |= Self.trailBit
                    }
                    writeObservation(index, from)
                    writeObservation(index, next)
                    writeObservation(index, beyond)
                }
            } else {
                player[index] = next
                if config.trail { cells[base + next] |= Self.trailBit }
                writeObservation(index, from)
                writeObservation(index, next)
            }
        }
        let solved = onGoal[index] == boxCount[index]
        if solved { reward += config.solved }
        let done = solved || steps[index] >= config.maxSteps
        if done && autoReset { restart(index) }
        return EnvironmentStep(reward: reward, done: done, solved: solved)
    }

    /// Steps every environment: `actions[i]` for environment `i`; writes `rewards`, `dones` and
    /// `solved` (each `count` long).
    public mutating func step(
        actions: [Int], rewards: inout [Float], dones: inout [Bool], solved: inout [Bool]
    ) {
        precondition(
            actions.count == count && rewards.count == count && dones.count == count
                && solved.count == count, "batch arrays must have \(count) entries")
        for i in 0..<count {
            let r = step(i, action: actions[i])
            rewards[i] = r.reward
            dones[i] = r.done
            solved[i] = r.solved
        }
    }
}

/// One Sokoban environment: reset(level) and step(action).
public struct SokobanEnvironment: Sendable {
    private var batch: BatchedEnvironment

    /// An environment for levels up to `height` x `width` (they are padded with wall).
    public init(height: Int = 10, width: Int = 10, config: EnvironmentConfig = EnvironmentConfig())
    {
        batch = BatchedEnvironment(count: 1, height: height, width: width, config: config)
    }

    /// Board size in squares.
    public var height: Int { batch.height }
    public var width: Int { batch.width }
    /// The current observation, `(planes, height, width)` row-major.
    public var observation: [Float] { batch.observations }
    /// Steps taken in the current episode.
    public var stepCount: Int { batch.stepCount(0) }
    /// Planes in the observation.
    public var planeCount: Int { batch.planeCount }
    /// The current position as a level (see `BatchedEnvironment.snapshot`).
    public var snapshot: Level { batch.snapshot(0) }
    /// `BatchedEnvironment.positionHash` of the position.
    public var positionHash: UInt64 { batch.positionHash(0) }

    /// Starts an episode on `level`.
    public mutating func reset(level: Level) throws { try batch.reset(0, level: level) }

    /// Takes one action (`Direction` raw value).
    public mutating func step(_ action: Int) -> EnvironmentStep { batch.step(0, action: action) }

    /// Takes one action by direction.
    public mutating func step(_ direction: Direction) -> EnvironmentStep {
        batch.step(0, action: direction.rawValue)
    }
}
