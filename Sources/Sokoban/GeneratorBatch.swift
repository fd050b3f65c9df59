// Many levels at once: one per seed, generated on several threads, results in seed order.
import Foundation
import Synchronization

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
private final class SeedWork: Sendable {
    private let state: Mutex<(next: Int, levels: [GeneratedLevel?])>

    init(count: Int) { state = Mutex((0, [GeneratedLevel?](repeating: nil, count: count))) }

    func claim() -> Int? {
        state.withLock { state in
            guard state.next < state.levels.count else { return nil }
            state.next += 1
            return state.next - 1
        }
    }

    func store(_ level: GeneratedLevel?, at i: Int) { state.withLock { $0.levels[i] = level } }

    var results: [GeneratedLevel?] { state.withLock { $0.levels } }
}
