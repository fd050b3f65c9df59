// What this process has used so far, for the benchmarks: CPU time (robust to other work on a
// shared machine) and peak resident memory.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

public enum ProcessUsage {
    /// User plus system CPU seconds, over every thread.
    public static func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// The peak resident set size in bytes (Linux reports ru_maxrss in KiB).
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if os(Linux)
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return Int(usage.ru_maxrss) * 1024
        #else
            getrusage(RUSAGE_SELF, &usage)
            return Int(usage.ru_maxrss)
        #endif
    }
}
