// The solver: A* over pushes with the Hungarian matching bound, a transposition table keyed by
// box set plus normalized player square, and deadlock pruning; optionally fewest moves second.

import Collections
import Core

/// Limits for one solver run.
public struct SolverOptions: Sendable {
    /// Wall-clock limit in seconds (nil: none).
    public var timeLimit: Double?
    /// The most positions stored before giving up (about 30 bytes each).
    public var nodeLimit: Int
    /// Among the push-optimal solutions, find one with the fewest moves. Positions are then keyed
    /// by the player's exact square instead of its region, so the search stores more of them.
    public var minimizeMoves: Bool

    /// Limits; by default no time limit, five million positions, and moves not minimized.
    public init(timeLimit: Double? = nil, nodeLimit: Int = 5_000_000, minimizeMoves: Bool = false) {
        self.timeLimit = timeLimit
        self.nodeLimit = nodeLimit
        self.minimizeMoves = minimizeMoves
    }
}

/// How a solver run ended.
public enum SolverStatus: String, Sendable, Codable {
    /// A solution with the fewest pushes (and, if asked, then the fewest moves) was found.
    case solved
    /// The search space was exhausted: no solution exists.
    case unsolvable
    /// The time limit was reached first.
    case timeLimit = "time-limit"
    /// The node limit was reached first.
    case nodeLimit = "node-limit"
}

/// What a solver run found and what it cost.
public struct SolverResult: Sendable, Codable {
    /// How the run ended.
    public var status: SolverStatus
    /// The LURD solution when solved: push-optimal (moves are not minimized).
    public var solution: String?
    /// Steps and pushes of the solution (0 when unsolved).
    public var moves: Int
    public var pushes: Int
    /// Positions expanded.
    public var expanded: Int
    /// Positions stored in the transposition table.
    public var stored: Int
    /// Wall-clock time of the run.
    public var seconds: Double
}

/// Push-optimal Sokoban solving.
public enum Solver {
    /// Solves `level` from its start.
    public static func solve(_ level: Level, options: SolverOptions = SolverOptions())
        -> SolverResult
    {
        solve(level, boxes: level.boxes, player: level.player, options: options)
    }

    /// Solves `level` from the position given by `boxes` and `player`.
    public static func solve(
        _ level: Level, boxes: [Int], player: Int, options: SolverOptions = SolverOptions()
    ) -> SolverResult {
        let start = ContinuousClock.now
        let search = PushSearch(level: level, options: options, start: start)
        var result = search.run(boxes: boxes.sorted(), player: player)
        if result.status == .solved, let pushes = search.solutionPushes {
            let lurd = PushSearch.expand(pushes: pushes, level: level, boxes: boxes, player: player)
            result.solution = lurd
            result.moves = lurd.count
            result.pushes = pushes.count
        }
        result.seconds = (ContinuousClock.now - start).inSeconds
        return result
    }
}

/// One A* search. Positions live in flat arrays indexed by node number.
final class PushSearch {
    let level: Level
    let detector: DeadlockDetector
    let options: SolverOptions
    let startTime: ContinuousClock.Instant
    let squareCount: Int
    let boxCount: Int
    let stride: Int
    let offsets: [Int]
    let isFloor: [Bool]
    let isGoal: [Bool]
    let isDead: [Bool]
    let distance: [UInt16]

    // Node storage: `keys[node * stride ..< +stride]` is the sorted boxes then the player.
    var keys: [UInt16] = []
    var parent: [Int32] = []
    var cost: [UInt16] = []
    /// Moves to reach each position (kept only when minimizing moves).
    var walk: [UInt32] = []
    /// Whether positions are keyed by the exact player square and moves are the second cost.
    let exactPlayer: Bool
    var pushFrom: [UInt16] = []
    var pushDirection: [UInt8] = []
    var closed: [Bool] = []
    var table: [Int32]
    var tableMask: Int
    var open = Heap<UInt64>()

    // Scratch, reused for every node.
    var hasBox: [Bool]
    var reachMark: [UInt32]
    var reachStamp: UInt32 = 0
    /// Walking distance from the player for squares marked with `reachStamp`.
    var reachDistance: [UInt32]
    var normMark: [UInt32]
    var normStamp: UInt32 = 0
    var queue: [Int]
    var freezeScratch: [Bool]
    var current: [Int]
    var childKey: [UInt16]
    var hungarian: Hungarian

    var solutionPushes: [(from: Int, direction: Direction)]?

    init(level: Level, options: SolverOptions, start: ContinuousClock.Instant) {
        self.level = level
        self.options = options
        exactPlayer = options.minimizeMoves
        startTime = start
        detector = DeadlockDetector(level: level)
        squareCount = level.squares.count
        boxCount = level.boxCount
        stride = boxCount + 1
        offsets = Direction.allCases.map { $0.offset(width: level.width) }
        isFloor = level.squares.map { $0 == .floor }
        isGoal = level.isGoal
        isDead = detector.isDeadSquare
        distance = detector.pushDistance
        table = [Int32](repeating: -1, count: 1 << 12)
        tableMask = (1 << 12) - 1
        hasBox = [Bool](repeating: false, count: squareCount)
        reachMark = [UInt32](repeating: 0, count: squareCount)
        normMark = reachMark
        reachDistance = reachMark
        queue = [Int](repeating: 0, count: squareCount)
        freezeScratch = [Bool](repeating: false, count: squareCount)
        current = [Int](repeating: 0, count: boxCount)
        childKey = [UInt16](repeating: 0, count: boxCount + 1)
        hungarian = Hungarian(capacity: boxCount)
    }

    static let infinity = Int(UInt16.max)

    /// The matching lower bound for the boxes in `childKey[0..<boxCount]`.
    func lowerBound() -> Int {
        let n = squareCount
        let k = boxCount
        return childKey.withUnsafeBufferPointer { key in
            distance.withUnsafeBufferPointer { dist in
                hungarian.minimumCost(n: k, infinity: Self.infinity) { box, goal in
                    Int(dist[goal * n + Int(key[box])])
                }
            }
        }
    }

    /// Marks the squares the player reaches from `from` with `reachStamp`, with distances.
    func markReach(from: Int) {
        reachStamp &+= 1
        let stamp = reachStamp
        var head = 0
        var tail = 1
        queue[0] = from
        reachMark[from] = stamp
        reachDistance[from] = 0
        while head < tail {
            let s = queue[head]
            head += 1
            for d in offsets {
                let t = s + d
                if isFloor[t] && !hasBox[t] && reachMark[t] != stamp {
                    reachMark[t] = stamp
                    reachDistance[t] = reachDistance[s] + 1
                    queue[tail] = t
                    tail += 1
                }
            }
        }
    }

    /// The smallest square the player reaches from `from`: the canonical player square.
    func normalizedPlayer(from: Int) -> Int {
        normStamp &+= 1
        let stamp = normStamp
        var head = 0
        var tail = 1
        var least = from
        queue[0] = from
        normMark[from] = stamp
        while head < tail {
            let s = queue[head]
            head += 1
            if s < least { least = s }
            for d in offsets {
                let t = s + d
                if isFloor[t] && !hasBox[t] && normMark[t] != stamp {
                    normMark[t] = stamp
                    queue[tail] = t
                    tail += 1
                }
            }
        }
        return least
    }

    func hashKey() -> Int {
        var hash = FNV1a()
        for v in childKey { hash.combine(UInt64(v)) }
        var h = hash.value
        h ^= h >> 29
        return Int(truncatingIfNeeded: h)
    }

    /// Finds `childKey` in the table, or stores it as a new node; returns (node, isNew).
    func lookupOrInsert() -> (Int, Bool) {
        var slot = hashKey() & tableMask
        while true {
            let node = Int(table[slot])
            if node < 0 { break }
            var same = true
            let base = node * stride
            for i in 0..<stride where keys[base + i] != childKey[i] {
                same = false
                break
            }
            if same { return (node, false) }
            slot = (slot + 1) & tableMask
        }
        let node = parent.count
        keys.append(contentsOf: childKey)
        parent.append(-1)
        cost.append(UInt16.max)
        walk.append(UInt32.max)
        pushFrom.append(0)
        pushDirection.append(0)
        closed.append(false)
        table[slot] = Int32(node)
        if parent.count * 2 > table.count { growTable() }
        return (node, true)
    }

    func growTable() {
        let capacity = table.count * 2
        table = [Int32](repeating: -1, count: capacity)
        tableMask = capacity - 1
        let saved = childKey
        for node in 0..<parent.count {
            for i in 0..<stride { childKey[i] = keys[node * stride + i] }
            var slot = hashKey() & tableMask
            while table[slot] >= 0 { slot = (slot + 1) & tableMask }
            table[slot] = Int32(node)
        }
        childKey = saved
    }

    /// Queues `node` by f = pushes + bound, then (minimizing moves) fewer moves first, or else
    /// deeper nodes first.
    func push(node: Int, g: Int, h: Int) {
        let f = UInt64(min(g + h, 0xFFFF))
        open.insert(f << 48 | UInt64(secondaryKey(node: node, g: g)) << 32 | UInt64(node))
    }

    func secondaryKey(node: Int, g: Int) -> Int {
        exactPlayer ? Int(min(walk[node], 0xFFFF)) : 0xFFFF - g
    }

    func outOfTime(expanded: Int) -> Bool {
        guard let limit = options.timeLimit, expanded & 255 == 0 else { return false }
        return (ContinuousClock.now - startTime).inSeconds > limit
    }

    func run(boxes: [Int], player: Int) -> SolverResult {
        var result = SolverResult(
            status: .unsolvable, solution: nil, moves: 0, pushes: 0, expanded: 0, stored: 0,
            seconds: 0)
        for b in boxes { hasBox[b] = true }
        var startDead = false
        for b in boxes where !isGoal[b] {
            if isDead[b] || detector.isBlock2x2(at: b, hasBox: hasBox)
                || detector.isFreezeDeadlock(at: b, hasBox: hasBox, scratch: &freezeScratch)
            {
                startDead = true
            }
        }
        for (i, b) in boxes.enumerated() { childKey[i] = UInt16(b) }
        childKey[boxCount] = UInt16(exactPlayer ? player : normalizedPlayer(from: player))
        for b in boxes { hasBox[b] = false }
        let h0 = lowerBound()
        if startDead || h0 >= Self.infinity { return result }
        let (root, _) = lookupOrInsert()
        cost[root] = 0
        walk[root] = 0
        push(node: root, g: 0, h: h0)

        var expanded = 0
        while let entry = open.popMin() {
            let node = Int(entry & 0xFFFF_FFFF)
            let g = Int(cost[node])
            // Entries left behind by a later improvement of the node are skipped.
            // (An improvement in pushes lowers f, so the newer entry is expanded first.)
            if closed[node] || Int((entry >> 32) & 0xFFFF) != secondaryKey(node: node, g: g) {
                continue
            }
            closed[node] = true
            let base = node * stride
            var solved = true
            for i in 0..<boxCount {
                let b = Int(keys[base + i])
                current[i] = b
                hasBox[b] = true
                if !isGoal[b] { solved = false }
            }
            if solved {
                for b in current { hasBox[b] = false }
                solutionPushes = path(to: node)
                result.status = .solved
                break
            }
            expanded += 1
            if outOfTime(expanded: expanded) {
                for b in current { hasBox[b] = false }
                result.status = .timeLimit
                break
            }
            if parent.count >= options.nodeLimit {
                for b in current { hasBox[b] = false }
                result.status = .nodeLimit
                break
            }
            expand(node: node, g: g, player: Int(keys[base + boxCount]))
            for b in current { hasBox[b] = false }
        }
        result.expanded = expanded
        result.stored = parent.count
        return result
    }

    /// Generates the children of `node`, whose boxes are loaded into `current` and `hasBox`.
    func expand(node: Int, g: Int, player: Int) {
        // Costs are stored in 16 bits; no level within the size limit needs that many pushes.
        guard g + 1 < Int(UInt16.max) else { return }
        markReach(from: player)
        for i in 0..<boxCount {
            let b = current[i]
            for (dirIndex, d) in offsets.enumerated() {
                let target = b + d
                guard reachMark[b - d] == reachStamp, isFloor[target], !hasBox[target],
                    !isDead[target]
                else { continue }
                hasBox[b] = false
                hasBox[target] = true
                defer {
                    hasBox[target] = false
                    hasBox[b] = true
                }
                if detector.isFreezeDeadlock(at: target, hasBox: hasBox, scratch: &freezeScratch)
                    || detector.isBlock2x2(at: target, hasBox: hasBox)
                {
                    continue
                }
                // The child's sorted box list with `b` replaced by `target`.
                var j = 0
                var placed = false
                for m in 0..<boxCount where m != i {
                    let other = current[m]
                    if !placed && target < other {
                        childKey[j] = UInt16(target)
                        j += 1
                        placed = true
                    }
                    childKey[j] = UInt16(other)
                    j += 1
                }
                if !placed { childKey[j] = UInt16(target) }
                let h = lowerBound()
                if h >= Self.infinity { continue }
                childKey[boxCount] = UInt16(exactPlayer ? b : normalizedPlayer(from: b))
                let (child, _) = lookupOrInsert()
                if closed[child] { continue }
                let moves = exactPlayer ? walk[node] + reachDistance[b - d] + 1 : 0
                let better =
                    g + 1 < Int(cost[child])
                    || (exactPlayer && g + 1 == Int(cost[child]) && moves < walk[child])
                if !better { continue }
                cost[child] = UInt16(g + 1)
                walk[child] = moves
                parent[child] = Int32(node)
                pushFrom[child] = UInt16(b)
                pushDirection[child] = UInt8(dirIndex)
                push(node: child, g: g + 1, h: h)
            }
        }
    }

    func path(to node: Int) -> [(from: Int, direction: Direction)] {
        var pushes: [(Int, Direction)] = []
        var n = node
        while parent[n] >= 0 {
            pushes.append((Int(pushFrom[n]), Direction(rawValue: Int(pushDirection[n]))!))
            n = Int(parent[n])
        }
        return pushes.reversed()
    }

    /// Turns a list of pushes into LURD by walking the player to each push along shortest paths.
    static func expand(
        pushes: [(from: Int, direction: Direction)], level: Level, boxes: [Int], player: Int
    ) -> String {
        var hasBox = [Bool](repeating: false, count: level.squares.count)
        for b in boxes { hasBox[b] = true }
        var at = player
        var out = ""
        for push in pushes {
            let d = push.direction.offset(width: level.width)
            let walk =
                PlayerPaths.path(
                    level: level, hasBox: hasBox, from: at, to: push.from - d) ?? []
            out.append(contentsOf: walk.map(\.letter))
            out.append(Character(push.direction.letter.uppercased()))
            hasBox[push.from] = false
            hasBox[push.from + d] = true
            at = push.from
        }
        return out
    }
}

/// Shortest player walks that push nothing.
public enum PlayerPaths {
    /// The directions of a shortest walk from `from` to `to` around the boxes, or nil.
    public static func path(level: Level, hasBox: [Bool], from: Int, to: Int) -> [Direction]? {
        if from == to { return [] }
        let n = level.squares.count
        var previous = [Int8](repeating: -1, count: n)
        var queue = [from]
        var head = 0
        previous[from] = 4
        while head < queue.count {
            let s = queue[head]
            head += 1
            for d in Direction.allCases {
                let t = s + d.offset(width: level.width)
                guard level.squares[t] == .floor, !hasBox[t], previous[t] < 0 else { continue }
                previous[t] = Int8(d.rawValue)
                if t == to {
                    var steps: [Direction] = []
                    var c = t
                    while c != from {
                        let dir = Direction(rawValue: Int(previous[c]))!
                        steps.append(dir)
                        c -= dir.offset(width: level.width)
                    }
                    return steps.reversed()
                }
                queue.append(t)
            }
        }
        return nil
    }
}
