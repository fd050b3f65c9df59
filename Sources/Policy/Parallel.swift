// Splitting a batch across the cores for the kernels BLAS does not parallelise itself.
import Dispatch
import Core
import Foundation
import LinearAlgebra

enum Parallel {
    /// Workers a batch is split across: the machine's cores, or `LASER_WORKERS` (1...256) when set,
    /// or what `PolicyThreads.use(workers:)` chose at startup. A context sizes its per-worker
    /// scratch for the count when it is made, and never splits wider.
    nonisolated(unsafe) static var workers: Int = Workers.default
    /// Below this many samples per worker the split costs more than it saves.
    static let minimumSamplesPerWorker = 4

    /// Samples a worker runs through the whole network at a time, so the activations and im2col
    /// buffers of one chunk stay in cache (batch 256 in one piece measured slower than 32).
    static let chunkSize = 16

    /// `range` cut into consecutive pieces of at most `chunkSize`.
    static func chunks(_ range: Range<Int>) -> [Range<Int>] {
        stride(from: range.lowerBound, to: range.upperBound, by: chunkSize).map {
            $0..<min($0 + chunkSize, range.upperBound)
        }
    }

    /// How many workers `split` uses for `count` samples with at most `limit` workers.
    static func workerCount(_ count: Int, limit: Int = workers) -> Int {
        max(1, min(limit, count / minimumSamplesPerWorker))
    }

    /// The kernels handed to a worker write disjoint ranges of buffers they share, which the
    /// compiler cannot check; this box tells it so.
    private struct Body: @unchecked Sendable {
        let run: (Range<Int>, Int) -> Void
    }

    /// Runs `body` over `0..<count` in up to `workers` contiguous ranges at once;
    /// the second argument is the worker index (for per-worker scratch).
    static func split(_ count: Int, limit: Int = workers, _ body: (Range<Int>, Int) -> Void) {
        let workers = workerCount(count, limit: limit)
        if workers == 1 {
            FloatEnvironment.withSubnormalsFlushed { body(0..<count, 0) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            let box = Body(run: escapable)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let start = count * worker / workers
                let end = count * (worker + 1) / workers
                FloatEnvironment.withSubnormalsFlushed { box.run(start..<end, worker) }
            }
        }
    }

}
