// The Boxoban level generator: random-walk room topology, random goals and player, then reverse
// play (pulls from the solved state) scored by box displacement times box switches.
import Core

/// Settings of the generator; the defaults are Boxoban's for a 10x10, 4-box room.
public struct GeneratorOptions: Sendable {
    /// Room size including the border wall, and the number of boxes.
    public var width: Int
    public var height: Int
    public var boxes: Int
    /// Random-walk steps carving the room (Boxoban: 1.7 * (width + height)).
    public var walkSteps: Int
    /// Chance of turning at each walk step.
    public var turnProbability: Double = 0.35
    /// Rooms tried per level before giving up (a room whose best score is 0 is discarded).
    public var tries = 4
    /// Depth limit of the reverse-play search.
    public var searchDepth = 300
    /// Positions explored by the reverse-play search at most.
    public var maxExplored = 300_000
    /// Solver limits for the final check: a node limit and no time limit, so the result does
    /// not depend on the machine's speed.
    public var solver = SolverOptions(nodeLimit: 2_000_000)
    /// Record a solution with the fewest moves among the push-optimal ones (the agent's
    /// demonstrations then fit the environment's step limit more often). If that larger search
    /// hits the node limit, the push-optimal solution found first is kept.
    public var minimizeMoves = true

    /// Boxoban's settings for a room of this size.
    public init(width: Int = 10, height: Int = 10, boxes: Int = 4) {
        self.width = width
        self.height = height
        self.boxes = boxes
        walkSteps = Int(1.7 * Double(width + height))
    }

    /// Checks the sizes; returns a message for the first problem.
    public func problem() -> String? {
        if width < 5 || height < 5 { return "width and height must be at least 5" }
        if width > Level.maxSide || height > Level.maxSide {
            return "width and height must be at most \(Level.maxSide)"
        }
        if boxes < 1 { return "at least one box is needed" }
        if boxes > (width - 2) * (height - 2) / 3 { return "too many boxes for the room" }
        return nil
    }
}

/// A generated level with what it took to make it.
public struct GeneratedLevel: Sendable {
    /// The level, titled with its seed and optimal push count.
    public var level: Level
    /// The seed that reproduces exactly this level with the same options.
    public var seed: UInt64
    /// The optimal number of pushes, from the solver.
    public var pushes: Int
    /// A push-optimal solution in LURD.
    public var solution: String
    /// The reverse-play score (box switches times total displacement).
    public var score: Int
}

/// Boxoban-style procedural generation (Racanière et al. 2017; gym-sokoban's room_utils).
public enum Generator {
    static let masks: [[Int]] = [
        [0, 0, 0, 1, 1, 1, 0, 0, 0],
        [0, 1, 0, 0, 1, 0, 0, 1, 0],
        [0, 0, 0, 1, 1, 0, 0, 1, 0],
        [0, 0, 0, 1, 1, 0, 1, 1, 0],
        [0, 0, 0, 0, 1, 1, 0, 1, 0],
    ]

    /// A uniform integer in `0..<n` without modulo bias.
    static func uniform(_ n: Int, _ rng: inout some RandomNumberGenerator) -> Int {
        precondition(n > 0)
        let bound = UInt64(n)
        let limit = UInt64.max - UInt64.max % bound
        while true {
            let x = rng.next()
            if x < limit { return Int(x % bound) }
        }
    }

    static func unit(_ rng: inout some RandomNumberGenerator) -> Double {
        Double(rng.next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Generates one level from `seed`, or nil when every try scored 0 or the solver failed.
    /// Deterministic: the same options and seed give the same level.
    public static func generate<R: RandomNumberGenerator>(
        options: GeneratorOptions, seed: UInt64, makeGenerator: (UInt64) -> R
    ) -> GeneratedLevel? {
        var rng = makeGenerator(seed)
        for _ in 0..<options.tries {
            let floor = topology(options, &rng)
            guard let (goals, player) = place(floor, options, &rng) else { continue }
            guard
                let best = reversePlay(
                    floor: floor, goals: goals, player: player,
                    options: options), best.score > 0
            else { continue }
            let level = makeLevel(
                options, floor: floor, goals: goals, boxes: best.boxes,
                player: best.player)
            let result = Solver.solve(level, options: options.solver)
            guard result.status == .solved, var solution = result.solution else { continue }
            if options.minimizeMoves {
                var movesFirst = options.solver
                movesFirst.minimizeMoves = true
                let shorter = Solver.solve(level, options: movesFirst)
                if shorter.status == .solved, let s = shorter.solution { solution = s }
            }
            var titled = level
            titled.title = "seed \(seed), \(result.pushes) pushes"
            titled.notes = [
                ("Seed", "\(seed)"), ("Pushes", "\(result.pushes)"),
                ("Moves", "\(solution.count)"), ("Solution", solution),
            ]
            return GeneratedLevel(
                level: titled, seed: seed, pushes: result.pushes,
                solution: solution, score: best.score)
        }
        return nil
    }

    /// The room: a random walk stamping 3x3 floor masks, border kept as wall.
    static func topology(_ o: GeneratorOptions, _ rng: inout some RandomNumberGenerator) -> [Bool] {
        let w = o.width
        let h = o.height
        var floor = [Bool](repeating: false, count: w * h)
        let directions = [(1, 0), (0, 1), (-1, 0), (0, -1)]
        var direction = directions[uniform(4, &rng)]
        var r = 1 + uniform(h - 2, &rng)
        var c = 1 + uniform(w - 2, &rng)
        for _ in 0..<o.walkSteps {
            if unit(&rng) < o.turnProbability { direction = directions[uniform(4, &rng)] }
            r = max(min(r + direction.0, h - 2), 1)
            c = max(min(c + direction.1, w - 2), 1)
            let mask = masks[uniform(masks.count, &rng)]
            for dr in 0..<3 {
                for dc in 0..<3 where mask[dr * 3 + dc] == 1 {
                    floor[(r - 1 + dr) * w + (c - 1 + dc)] = true
                }
            }
        }
        for i in 0..<w {
            floor[i] = false
            floor[(h - 1) * w + i] = false
        }
        for j in 0..<h {
            floor[j * w] = false
            floor[j * w + w - 1] = false
        }
        return floor
    }

    /// Player then goals at random distinct floor squares; nil if the room is too small.
    static func place(
        _ floor: [Bool], _ o: GeneratorOptions, _ rng: inout some RandomNumberGenerator
    )
        -> (goals: [Int], player: Int)?
    {
        var free = floor.indices.filter { floor[$0] }
        guard free.count > o.boxes + 1 else { return nil }
        let player = free.remove(at: uniform(free.count, &rng))
        var goals: [Int] = []
        for _ in 0..<o.boxes { goals.append(free.remove(at: uniform(free.count, &rng))) }
        return (goals.sorted(), player)
    }

    struct Best {
        var score: Int
        var boxes: [Int]
        var player: Int
    }

    /// Depth-first reverse play from the solved state, as gym-sokoban does it: walk or pull in
    /// four directions, remember visited positions, keep the position with the highest
    /// `box switches * total displacement` among those with every box off its goal.
    static func reversePlay(floor: [Bool], goals: [Int], player: Int, options o: GeneratorOptions)
        -> Best?
    {
        let w = o.width
        var search = ReversePlay(
            floor: floor, width: w, goals: goals, player: player, maxExplored: o.maxExplored)
        search.dfs(depthLeft: o.searchDepth, switches: 0, lastPulled: -1)
        return search.best
    }

    static func makeLevel(
        _ o: GeneratorOptions, floor: [Bool], goals: [Int], boxes: [Int],
        player: Int
    ) -> Level {
        let squares = floor.map { $0 ? Square.floor : Square.wall }
        var isGoal = [Bool](repeating: false, count: floor.count)
        for g in goals { isGoal[g] = true }
        // Boxoban keeps the full rectangle of walls; so do we (the environment expects it).
        return Level(
            title: nil, author: nil, notes: [], width: o.width, height: o.height,
            squares: squares, isGoal: isGoal, boxes: boxes.sorted(), player: player)
    }
}

/// The reverse-play search state, mutated in place and undone on return.
struct ReversePlay {
    let floor: [Bool]
    let width: Int
    let goals: [Int]
    let maxExplored: Int
    var boxAt: [Int]  // square -> box number (its goal index) or -1
    var position: [Int]  // box number -> square
    var player: Int
    var explored = Set<UInt64>()
    var best: Generator.Best?
    let offsets: [Int]

    init(floor: [Bool], width: Int, goals: [Int], player: Int, maxExplored: Int) {
        self.floor = floor
        self.width = width
        self.goals = goals
        self.maxExplored = maxExplored
        self.player = player
        boxAt = [Int](repeating: -1, count: floor.count)
        for (n, g) in goals.enumerated() { boxAt[g] = n }
        position = goals
        offsets = [-width, width, -1, 1]
    }

    /// A 64-bit key of the position (box set and player): a sum of mixed squares, so box order
    /// does not matter and nothing is allocated. A collision only prunes one position.
    func key() -> UInt64 {
        var h = SplitMix64.mix(UInt64(player) &+ 0x5151_0000)
        for p in position { h &+= SplitMix64.mix(UInt64(p)) }
        return h
    }

    func score(switches: Int) -> Int {
        var displacement = 0
        for (n, p) in position.enumerated() {
            let g = goals[n]
            displacement += abs(p / width - g / width) + abs(p % width - g % width)
            if boxAt[g] >= 0 || g == player { return 0 }  // every goal must be uncovered
        }
        return switches * displacement
    }

    mutating func dfs(depthLeft: Int, switches: Int, lastPulled: Int) {
        let depth = depthLeft - 1
        if depth <= 0 || explored.count >= maxExplored { return }
        guard explored.insert(key()).inserted else { return }
        let s = score(switches: switches)
        if s > (best?.score ?? -1) {
            best = Generator.Best(score: s, boxes: position.sorted(), player: player)
        }
        // Pulls first (gym-sokoban's actions 0-3), then plain moves (4-7).
        for pull in [true, false] {
            for d in offsets {
                let next = player + d
                guard floor[next] && boxAt[next] < 0 else { continue }
                let from = player
                let behind = player - d
                let pulled = pull ? boxAt[behind] : -1
                player = next
                if pulled >= 0 {
                    boxAt[behind] = -1
                    boxAt[from] = pulled
                    position[pulled] = from
                }
                dfs(
                    depthLeft: depth,
                    switches: switches + (pulled >= 0 && pulled != lastPulled ? 1 : 0),
                    lastPulled: pulled >= 0 ? pulled : lastPulled)
                if pulled >= 0 {
                    boxAt[from] = -1
                    boxAt[behind] = pulled
                    position[pulled] = behind
                }
                player = from
            }
        }
    }
}
