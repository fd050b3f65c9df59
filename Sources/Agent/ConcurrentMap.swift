// A map over items on several threads, for work whose items are independent (levels to play or
// solve).
import Foundation

/// `body` of every item, `workers` at a time, results in item order.
func concurrentMap<Item: Sendable, Result: Sendable>(
    _ items: [Item], workers: Int, _ body: @Sendable (Item) throws -> Result
) throws -> [Result] {
    let results = LockedArray<Result?>(repeating: nil, count: items.count)
    let failure = LockedArray<Error?>(repeating: nil, count: 1)
    let n = max(1, min(workers, items.count))
    DispatchQueue.concurrentPerform(iterations: n) { worker in
        for i in stride(from: worker, to: items.count, by: n) {
            do { results[i] = try body(items[i]) } catch {
                failure[0] = error
                return
            }
        }
    }
    if let error = failure[0] { throw error }
    return results.values.map { $0! }
}
