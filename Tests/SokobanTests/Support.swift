// Helpers shared by the Sokoban tests: a seeded generator and an exhaustive state-space search.

import Core
@testable import Sokoban

/// The tests' seeded generator: the project's one.
typealias TestRNG = SplitMix64

func level(_ rows: String) throws -> Level {
    try Level(rows: rows.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
}

/// Every position reachable from a level's start by single steps, with which of them can still
/// be solved and the fewest pushes to a solution. Only for small levels.
struct StateSpace {
    struct State: Hashable {
        var boxes: [Int]
        var player: Int
    }

    var states: [State] = []
    var solvable: [Bool] = []
    /// Fewest pushes to solve from each state (Int.max if unsolvable).
    var pushesToSolve: [Int] = []

    init(level: Level, limit: Int = 400_000) {
        var index: [State: Int] = [:]
        var edges: [[(to: Int, push: Bool)]] = []
        let start = State(boxes: level.boxes.sorted(), player: level.player)
        index[start] = 0
        states = [start]
        edges = [[]]
        var head = 0
        while head < states.count {
            let s = states[head]
            var game = Game(
                level: Level(
                    title: nil, author: nil, notes: [], width: level.width, height: level.height,
                    squares: level.squares, isGoal: level.isGoal, boxes: s.boxes, player: s.player))
            for d in Direction.allCases {
                let outcome = game.step(d)
                if outcome != .blocked {
                    let t = State(boxes: game.boxes, player: game.player)
                    let id: Int
                    if let known = index[t] {
                        id = known
                    } else {
                        precondition(states.count < limit, "state space too large for a test")
                        id = states.count
                        index[t] = id
                        states.append(t)
                        edges.append([])
                    }
                    edges[head].append((id, outcome != .moved))
                    game.undo()
                }
            }
            head += 1
        }
        // Backward 0-1 search from the solved states gives pushes-to-solve.
        var reverse = [[(from: Int, push: Bool)]](repeating: [], count: states.count)
        for (from, list) in edges.enumerated() {
            for e in list { reverse[e.to].append((from, e.push)) }
        }
        var cost = [Int](repeating: Int.max, count: states.count)
        var deque: [Int] = []
        var front: [Int] = []
        for (i, s) in states.enumerated() where s.boxes.allSatisfy({ level.isGoal[$0] }) {
            cost[i] = 0
            front.append(i)
        }
        // Dial's algorithm with two buckets per level of cost.
        var currentCost = 0
        while !front.isEmpty {
            deque = front
            front = []
            var k = 0
            while k < deque.count {
                let s = deque[k]
                k += 1
                if cost[s] != currentCost { continue }
                for e in reverse[s] {
                    let c = currentCost + (e.push ? 1 : 0)
                    if c < cost[e.from] {
                        cost[e.from] = c
                        if e.push { front.append(e.from) } else { deque.append(e.from) }
                    }
                }
            }
            currentCost += 1
        }
        pushesToSolve = cost
        solvable = cost.map { $0 != Int.max }
        // Fewest pushes, then fewest moves: Dijkstra on pushes * 1_000_000 + moves.
        var best = [Int](repeating: Int.max, count: states.count)
        var heap = MinHeap()
        for (i, s) in states.enumerated() where s.boxes.allSatisfy({ level.isGoal[$0] }) {
            best[i] = 0
            heap.push((0, i))
        }
        while let (c, s) = heap.pop() {
            if c != best[s] { continue }
            for e in reverse[s] {
                let next = c + (e.push ? 1_000_001 : 1)
                if next < best[e.from] {
                    best[e.from] = next
                    heap.push((next, e.from))
                }
            }
        }
        movesToSolve = best.map { $0 == Int.max ? Int.max : $0 % 1_000_000 }
    }

    /// Moves of the push-optimal solution with the fewest moves (Int.max if unsolvable).
    var movesToSolve: [Int] = []
}

/// A binary min-heap of (cost, state) for the tests' Dijkstra.
struct MinHeap {
    private var items: [(Int, Int)] = []

    mutating func push(_ item: (Int, Int)) {
        items.append(item)
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if items[p].0 <= items[i].0 { break }
            items.swapAt(p, i)
            i = p
        }
    }

    mutating func pop() -> (Int, Int)? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if items.isEmpty { return first }
        items[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var m = i
            if l < items.count && items[l].0 < items[m].0 { m = l }
            if r < items.count && items[r].0 < items[m].0 { m = r }
            if m == i { break }
            items.swapAt(m, i)
            i = m
        }
        return first
    }
}

extension PlayerOptions {
    /// A session a test drives in-process on a pseudo-terminal: ASCII, no colour, no signal
    /// handlers (the test process's own would be replaced).
    static func onPseudoTerminal(_ name: String) -> PlayerOptions {
        var options = PlayerOptions(collectionName: name)
        options.handleSignals = false
        options.style = PlayerStyle(ascii: true, color: false)
        return options
    }
}
