// Which actions are as good as the solver's: a solution fixes the next push, but the walk to it
// usually has several equally short routes. Labelling every first step of a shortest route (not just
// the solver's arbitrary pick) removes the label noise that caps imitation accuracy.
import Policy
import Sokoban

/// Optimal-action sets from solutions, on boards of cell codes (`ObservationPlane` raw values).
public enum OptimalActions {
    static let size = AgentGeometry.boardSize

    /// The actions at the board `codes` (10×10) that start a shortest walk to where `steps`' first
    /// push begins, or that push itself when it is the first step. `steps` is a solution from this
    /// board. When the solution's own first step is not among them (its walk was not shortest),
    /// the set is that step alone, so the demonstration is never contradicted.
    static func set(
        codes: UnsafePointer<UInt8>, steps: ArraySlice<(direction: Direction, push: Bool)>
    ) -> ActionSet {
        guard let first = steps.first else { return [] }
        let demonstrated = ActionSet(action: first.direction.rawValue)
        if first.push { return demonstrated }
        guard let player = playerCell(codes) else { return demonstrated }
        var target = player
        for step in steps {
            if step.push { break }
            target += step.direction.offset(width: size)
        }
        let result = shortestFirstSteps(codes: codes, from: player, to: target)
        return result.contains(demonstrated) ? result : demonstrated
    }

    /// The cell holding the player, nil when none does.
    static func playerCell(_ codes: UnsafePointer<UInt8>) -> Int? {
        for c in 0..<(size * size) {
            let code = Int(codes[c] & ~AgentGeometry.trailCode)
            if code == ObservationPlane.player.rawValue
                || code == ObservationPlane.playerOnGoal.rawValue
            {
                return c
            }
        }
        return nil
    }

    /// Whether the player may stand on cell `c` (no wall, no box).
    @inline(__always) static func walkable(_ codes: UnsafePointer<UInt8>, _ c: Int) -> Bool {
        switch Int(codes[c] & ~AgentGeometry.trailCode) {
        case ObservationPlane.floor.rawValue, ObservationPlane.goal.rawValue,
            ObservationPlane.player.rawValue, ObservationPlane.playerOnGoal.rawValue:
            return true
        default:
            return false
        }
    }

    /// Neighbour of `c` in `direction`, nil off the board.
    @inline(__always) static func neighbour(_ c: Int, _ direction: Int) -> Int? {
        let (y, x) = (c / size, c % size)
        switch direction {
        case 0: return y > 0 ? c - size : nil
        case 1: return y < size - 1 ? c + size : nil
        case 2: return x > 0 ? c - 1 : nil
        default: return x < size - 1 ? c + 1 : nil
        }
    }

    /// The directions whose neighbour of `from` is one step closer to `to` (breadth-first
    /// distances from `to` over walkable cells). Empty when `to` is unreachable or equals `from`.
    static func shortestFirstSteps(codes: UnsafePointer<UInt8>, from: Int, to: Int) -> ActionSet {
        guard from != to, walkable(codes, to) || to == from else { return [] }
        let cells = size * size
        return withUnsafeTemporaryAllocation(of: Int16.self, capacity: cells) { distance in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: cells) { queue in
                distance.initialize(repeating: -1)
                distance[to] = 0
                queue[0] = to
                var head = 0
                var tail = 1
                while head < tail {
                    let c = queue[head]
                    head += 1
                    for d in 0..<4 {
                        guard let n = neighbour(c, d), distance[n] < 0, walkable(codes, n) else {
                            continue
                        }
                        distance[n] = distance[c] + 1
                        queue[tail] = n
                        tail += 1
                    }
                }
                var set: ActionSet = []
                // The player's own cell counts as walkable (its code is player or playerOnGoal).
                var best = Int16.max
                for d in 0..<4 {
                    if let n = neighbour(from, d), distance[n] >= 0 {
                        best = min(best, distance[n])
                    }
                }
                guard best != Int16.max else { return [] }
                for d in 0..<4 {
                    if let n = neighbour(from, d), distance[n] == best {
                        set.insert(ActionSet(action: d))
                    }
                }
                return set
            }
        }
    }
}
