// The one threading setting of every command that computes: worker threads and BLAS threads,
// validated and applied the same way everywhere.
import ArgumentParser
import Core
import LinearAlgebra
import Policy

struct ThreadOptions: ParsableArguments {
    @Option(
        name: [.customLong("workers"), .customLong("jobs")],
        help:
            "Worker threads that batches, levels, sweeps and the language model's products are split across (default: every core, or $LASER_WORKERS; --jobs is the same flag)."
    )
    var workers: Int?

    @Option(
        help:
            "OpenBLAS threads (default 1: beside several workers it is the fastest on shared cores)."
    )
    var blasThreads: Int?

    func validate() throws {
        if let workers, !Workers.range.contains(workers) {
            throw ValidationError("--workers must be in 1...256")
        }
        if let blasThreads, !Workers.range.contains(blasThreads) {
            throw ValidationError("--blas-threads must be in 1...256")
        }
    }

    /// --workers, else $LASER_WORKERS, else every core.
    var count: Int { workers ?? Workers.default }

    /// Sets the process's thread counts, once, first thing in `run()`: the policy networks'
    /// workers and OpenBLAS's threads (`blas`, the command's old flag, when --blas-threads is not
    /// given).
    func apply(blas: Int? = nil) {
        PolicyThreads.use(workers: count)
        OpenBLASInfo.setThreads(blasThreads ?? blas ?? 1)
    }

    /// `apply` for a command that plays levels on the workers: OpenBLAS single-threaded beside
    /// several workers, its own default beside one.
    func applyForPlaying() {
        apply(blas: count > 1 ? 1 : OpenBLASInfo.threads)
    }
}
