// Re-executes the tool with OPENBLAS_CORETYPE=SKYLAKEX on AVX-512 CPUs, because OpenBLAS 0.3.21
// takes Sapphire Rapids for Haswell and its AVX-512 kernels run sgemm about twice as fast here.
import Foundation

enum FastKernels {
    /// Called first thing in `main`: OpenBLAS reads the variable when the library loads, so the
    /// only way to change it for this process is to start the process again with it set.
    static func reexecIfUseful() {
        let env = ProcessInfo.processInfo.environment
        guard env["OPENBLAS_CORETYPE"] == nil, env["LASER_NO_REEXEC"] == nil, cpuHasAVX512() else {
            return
        }
        setenv("OPENBLAS_CORETYPE", "SKYLAKEX", 1)
        let args = CommandLine.arguments
        var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
        cArgs.append(nil)
        execv("/proc/self/exe", &cArgs)
        // execv only returns on failure: carry on with the default kernels.
        unsetenv("OPENBLAS_CORETYPE")
    }

    static func cpuHasAVX512() -> Bool {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else {
            return false
        }
        guard let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else {
            return false
        }
        let set = Set(flags.split(separator: " ").map(String.init))
        return set.contains("avx512f") && set.contains("avx512bw") && set.contains("avx512vl")
    }
}
