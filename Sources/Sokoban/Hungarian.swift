// Minimum-cost perfect matching (Hungarian algorithm) for the solver's box-to-goal lower bound.

/// Solves square assignment problems of up to `capacity` rows with no allocation per call.
struct Hungarian {
    let capacity: Int
    private var u: [Int], v: [Int], p: [Int], way: [Int], minv: [Int]
    private var used: [Bool]

    init(capacity: Int) {
        self.capacity = capacity
        u = [Int](repeating: 0, count: capacity + 1)
        v = u
        p = u
        way = u
        minv = u
        used = [Bool](repeating: false, count: capacity + 1)
    }

    /// The minimum total of `cost(row, column)` over perfect matchings of an `n`x`n` matrix.
    /// Costs at or above `infinity` mean "not allowed"; returns `infinity` when every matching
    /// uses one.
    mutating func minimumCost(n: Int, infinity: Int, cost: (Int, Int) -> Int) -> Int {
        precondition(n <= capacity)
        let big = infinity * (n + 1)
        for i in 0...n {
            u[i] = 0
            v[i] = 0
            p[i] = 0
            way[i] = 0
        }
        for i in 1...n {
            p[0] = i
            var j0 = 0
            for j in 0...n {
                minv[j] = Int.max
                used[j] = false
            }
            repeat {
                used[j0] = true
                let i0 = p[j0]
                var delta = Int.max
                var j1 = 0
                for j in 1...n where !used[j] {
                    var c = cost(i0 - 1, j - 1)
                    if c >= infinity { c = big }
                    let cur = c - u[i0] - v[j]
                    if cur < minv[j] {
                        minv[j] = cur
                        way[j] = j0
                    }
                    if minv[j] < delta {
                        delta = minv[j]
                        j1 = j
                    }
                }
                for j in 0...n {
                    if used[j] {
                        u[p[j]] += delta
                        v[j] -= delta
                    } else {
                        minv[j] -= delta
                    }
                }
                j0 = j1
            } while p[j0] != 0
            repeat {
                let j1 = way[j0]
                p[j0] = p[j1]
                j0 = j1
            } while j0 != 0
        }
        var total = 0
        for j in 1...n {
            let c = cost(p[j] - 1, j - 1)
            if c >= infinity { return infinity }
            total += c
        }
        return total
    }
}
