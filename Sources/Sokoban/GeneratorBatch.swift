// Many levels at once: one per seed, generated on several threads, results in seed order.
import Foundation

extension Generator {
    /// One level per seed (nil where a seed gives none) on up to `workers` threads, in seed order;
    /// the same as calling `generate` for each seed in turn.
    public static func generateMany<R: RandomNumberGenerator & SendableMetatype>(
        seeds: [UInt64], options: GeneratorOptions, workers: Int,
        makeGenerator: @escaping @Sendable (UInt64) -> R
    ) -> [GeneratedLevel?] {
        let work = SeedWork(count: seeds.count)
        DispatchQueue.concurrentPerform(iterations: max(1, min(workers, seeds.count))) { _ in
            while let i = work.claim() {
                work.store(
                    generate(options: options, seed: seeds[i], makeGenerator: makeGenerator), at: i)
            }
        }
        return work.results
    }
}

/// The shared state of `generateMany`: the next seed to take and the levels made so far.
private final class SeedWork: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private var levels: [GeneratedLevel?]

    init(count: Int) { levels = [GeneratedLevel?](repeating: nil, count: count) }

    func claim() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < levels.count else { return nil }
        next += 1
        return next - 1
    }

    func store(_ level: GeneratedLevel?, at i: Int) {
        lock.lock()
        levels[i] = level
        lock.unlock()
    }

    var results: [GeneratedLevel?] {
        lock.lock()
        defer { lock.unlock() }
        return levels
    }
}
