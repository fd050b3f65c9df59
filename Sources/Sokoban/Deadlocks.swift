// Deadlock detection: dead squares, freeze deadlocks and 2x2 blocks, plus push distances.

/// Precomputed static analysis of a level: push distances from every square to every goal, dead
/// squares, and the position checks that prove a position can no longer be solved.
///
/// Every check here is sound: if it reports a deadlock, no sequence of moves solves the position
/// (the tests confirm this by exhaustive search on small levels). It is not complete.
public struct DeadlockDetector: Sendable {
    /// The distance that stands for "unreachable".
    public static let unreachable = Int(UInt16.max)

    /// The level's width (the stride between rows of square indices).
    public let width: Int
    /// Floor squares (inside the player's region).
    let isFloor: [Bool]
    let isGoal: [Bool]
    /// Goal squares, in ascending order; row `g` of `pushDistance` belongs to `goals[g]`.
    public let goals: [Int]
    /// `pushDistance[g * squareCount + s]`: the fewest pushes taking a box from `s` to `goals[g]`
    /// on the empty board (other boxes ignored, the player assumed able to reach any side).
    let pushDistance: [UInt16]
    /// `true` where a box can never reach any goal.
    public let isDeadSquare: [Bool]

    /// Analyses `level`: one reverse breadth-first search per goal.
    public init(level: Level) {
        width = level.width
        let n = level.squares.count
        isFloor = level.squares.map { $0 == .floor }
        isGoal = level.isGoal
        goals = level.goals
        var distance = [UInt16](repeating: UInt16.max, count: goals.count * n)
        var queue = [Int](repeating: 0, count: n)
        let offsets = Direction.allCases.map { $0.offset(width: level.width) }
        for (g, goal) in goals.enumerated() {
            // Reverse search: a box reaches x = p + d by a push from p when p and p - d are floor.
            let base = g * n
            distance[base + goal] = 0
            var head = 0
            var tail = 0
            queue[tail] = goal
            tail += 1
            while head < tail {
                let x = queue[head]
                head += 1
                let next = distance[base + x] + 1
                for d in offsets {
                    let p = x - d
                    let behind = p - d
                    guard p >= 0, p < n, behind >= 0, behind < n else { continue }
                    if isFloor[p] && isFloor[behind] && distance[base + p] == UInt16.max {
                        distance[base + p] = next
                        queue[tail] = p
                        tail += 1
                    }
                }
            }
        }
        pushDistance = distance
        var dead = [Bool](repeating: true, count: n)
        for s in 0..<n where isFloor[s] {
            for g in 0..<goals.count where distance[g * n + s] != UInt16.max {
                dead[s] = false
                break
            }
        }
        isDeadSquare = dead
    }

    /// The fewest pushes taking a box from `square` to goal number `goal` on the empty board.
    public func distance(from square: Int, toGoal goal: Int) -> Int {
        Int(pushDistance[goal * isFloor.count + square])
    }

    private func isWall(_ s: Int) -> Bool { !isFloor[s] }

    /// Whether the box on `square` is part of a freeze deadlock: it can move along neither axis,
    /// counting walls, pairs of dead squares and other frozen boxes, and some box in the frozen
    /// group is off its goal. `hasBox` must describe the current position.
    public func isFreezeDeadlock(at square: Int, hasBox: [Bool]) -> Bool {
        var asWall = [Bool](repeating: false, count: isFloor.count)
        return isFreezeDeadlock(at: square, hasBox: hasBox, scratch: &asWall)
    }

    /// `isFreezeDeadlock(at:hasBox:)` with caller-owned scratch (all false, as many as squares).
    func isFreezeDeadlock(at square: Int, hasBox: [Bool], scratch asWall: inout [Bool]) -> Bool {
        let result = frozen(square, hasBox: hasBox, asWall: &asWall)
        return result.frozen && result.offGoal
    }

    private func frozen(_ b: Int, hasBox: [Bool], asWall: inout [Bool])
        -> (frozen: Bool, offGoal: Bool)
    {
        asWall[b] = true
        defer { asWall[b] = false }
        let horizontal = axisBlocked(b, step: 1, hasBox: hasBox, asWall: &asWall)
        guard horizontal.blocked else { return (false, false) }
        let vertical = axisBlocked(b, step: width, hasBox: hasBox, asWall: &asWall)
        guard vertical.blocked else { return (false, false) }
        return (true, !isGoal[b] || horizontal.offGoal || vertical.offGoal)
    }

    private func axisBlocked(_ b: Int, step: Int, hasBox: [Bool], asWall: inout [Bool])
        -> (blocked: Bool, offGoal: Bool)
    {
        let a = b - step
        let c = b + step
        if isWall(a) || isWall(c) || asWall[a] || asWall[c] { return (true, false) }
        if isDeadSquare[a] && isDeadSquare[c] { return (true, false) }
        if hasBox[a] {
            let r = frozen(a, hasBox: hasBox, asWall: &asWall)
            if r.frozen { return (true, r.offGoal) }
        }
        if hasBox[c] {
            let r = frozen(c, hasBox: hasBox, asWall: &asWall)
            if r.frozen { return (true, r.offGoal) }
        }
        return (false, false)
    }

    /// Whether one of the four 2x2 squares containing `square` is filled with walls and boxes,
    /// at least one box being off a goal.
    public func isBlock2x2(at square: Int, hasBox: [Bool]) -> Bool {
        for dr in [-width, 0] {
            for dc in [-1, 0] {
                let corner = square + dr + dc
                let cells = [corner, corner + 1, corner + width, corner + width + 1]
                guard cells.allSatisfy({ $0 >= 0 && $0 < isFloor.count }) else { continue }
                var offGoal = false
                var filled = true
                for s in cells {
                    if isWall(s) { continue }
                    if hasBox[s] {
                        if !isGoal[s] { offGoal = true }
                    } else {
                        filled = false
                        break
                    }
                }
                if filled && offGoal { return true }
            }
        }
        return false
    }

    /// Whether the position is provably unsolvable by any of the three checks.
    public func isDeadlocked(boxes: [Int]) -> Bool {
        var hasBox = [Bool](repeating: false, count: isFloor.count)
        for b in boxes { hasBox[b] = true }
        for b in boxes {
            if isDeadSquare[b] || isBlock2x2(at: b, hasBox: hasBox)
                || isFreezeDeadlock(at: b, hasBox: hasBox)
            {
                return true
            }
        }
        return false
    }
}
