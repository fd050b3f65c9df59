// How the policy networks use the cores: each batch is split across workers, BLAS runs inside them.

/// The networks split every batch of at least 8 samples across `workers` threads themselves, each
/// calling BLAS on its share. Run OpenBLAS single-threaded (`OpenBLASInfo.setThreads(1)`) while
/// using them: OpenBLAS's own threads only compete with the workers (measured 3–6× slower on
/// these 2 cores with both), and its threading never pays off on these small products.
public enum PolicyThreads {
    /// Threads a batch is split across.
    public static var workers: Int { Parallel.workers }

    /// Splits batches across `count` threads from now on (1...256). Call it at startup, before
    /// other threads run: contexts made earlier keep the count they were made with.
    public static func use(workers count: Int) {
        precondition((1...256).contains(count), "worker count \(count) outside 1...256")
        Parallel.workers = count
    }
}
