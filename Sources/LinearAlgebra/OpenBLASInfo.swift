// Which OpenBLAS kernels and how many threads are in use, for benchmarks and reports.
import CBLAS

public enum OpenBLASInfo {
    /// The core name OpenBLAS chose its kernels for (for example "Haswell" or "SkylakeX").
    public static var coreName: String { String(cString: openblas_get_corename()) }
    /// OpenBLAS's build configuration string.
    public static var config: String { String(cString: openblas_get_config()) }
    public static var threads: Int { Int(openblas_get_num_threads()) }
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }
}
