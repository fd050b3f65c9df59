// The floating-point environment of the threads that run the kernels. Subnormal floats (below
// 1.2e-38) cost a microcode assist per operation on many x86 cores, a hundred times a normal
// multiply-add: a training step whose gradients or optimizer moments decay into that range slows
// to a crawl (measured: conv training at batch 1 at a tenth of its speed). Neural-network
// runtimes flush them to zero; so do we, on every thread that runs a kernel.
import CBLAS

public enum FloatEnvironment {
    /// Makes this thread treat subnormal floats as zero, as inputs and as results (x86's
    /// flush-to-zero and denormals-are-zero; nothing elsewhere). Cheap enough to call per task.
    @inline(__always)
    public static func flushSubnormals() { laser_flush_denormals() }

    /// Runs `body` with subnormals flushed on this thread and restores the thread's mode after:
    /// for work run on shared threads (Dispatch's pool), whose other users expect IEEE floats.
    @inline(__always)
    public static func withSubnormalsFlushed<T>(_ body: () throws -> T) rethrows -> T {
        let saved = laser_float_mode()
        laser_flush_denormals()
        defer { laser_set_float_mode(saved) }
        return try body()
    }

    /// Restores IEEE gradual underflow on this thread (threads inherit the mode of the thread
    /// that starts them).
    public static func keepSubnormals() { laser_keep_denormals() }

    /// Whether this machine's floats have a flush mode the calls below set (x86-64).
    public static var isSupported: Bool {
        #if arch(x86_64)
            true
        #else
            false
        #endif
    }

    /// Whether this thread flushes subnormal floats to zero.
    public static var flushesSubnormals: Bool { laser_flushes_denormals() != 0 }
}
