// `laser bench linalg`: sgemm GFLOP/s, and exact vs randomized SVD times, with the OpenBLAS core in use.
import ArgumentParser
import Core
import Foundation
import Laser
import LinearAlgebra

struct BenchLinalg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "linalg",
        abstract: "sgemm GFLOP/s at 256–2048 and SVD times for 576×1536 and 2048×8192, as JSON.",
        discussion: """
            The OpenBLAS kernels in use are reported. On AVX-512 CPUs `laser` re-executes itself with OPENBLAS_CORETYPE=SKYLAKEX unless the variable is already set; --compare-cores runs the benchmark once with Haswell and once with SkylakeX kernels to show the difference.
            """)

    @Option(help: "Square sgemm sizes.") var sizes: [Int] = [256, 576, 1024, 2048]
    @Flag(help: "Skip the 2048×8192 SVD (about a minute).") var quick = false
    @Flag(help: "Run once per OpenBLAS core type (Haswell, SKYLAKEX) in child processes.")
    var compareCores = false
    @Option(help: "Minimum seconds per sgemm measurement.") var seconds = 0.5

    struct GemmResult: Codable {
        let n: Int
        let gflops: Double
        let repetitions: Int
    }
    struct SVDResult: Codable {
        let rows: Int, columns: Int
        let gesddSeconds: Double
        let randomizedRank: Int, randomizedSeconds: Double
        /// (‖A − Â_k‖ − ‖A − A_k‖) / ‖A − A_k‖: how much worse than optimal the randomized rank-k is.
        let randomizedExcessError: Double
    }
    struct Output: Codable {
        let openblasCore: String, openblasCoretypeEnv: String?, threads: Int
        let sgemm: [GemmResult], svd: [SVDResult]
    }

    func run() throws {
        if compareCores {
            // SkylakeX kernels use AVX-512 and die of SIGILL on CPUs without it (AMD EPYC here).
            let cores = FastKernels.cpuHasAVX512() ? ["Haswell", "SKYLAKEX"] : ["Haswell"]
            var outputs: [String: Output] = [:]
            for core in cores {
                outputs[core] = try runChild(core: core)
            }
            outputs["default"] = try runChild(core: nil)
            print(try jsonText(outputs))
            if cores.count == 1 {
                StandardError.write(
                    "note: this CPU lacks AVX-512, so the SKYLAKEX kernels were not run\n")
            }
            return
        }
        var rng = SplitMix64(seed: 1)
        var gemms: [GemmResult] = []
        for n in sizes {
            let a = Tensor(randomNormal: [n, n], using: &rng)
            let b = Tensor(randomNormal: [n, n], using: &rng)
            var c = Tensor(zeros: [n, n])
            gemm(a, b, into: &c)  // warm-up: thread pool and caches
            var reps = 0
            let start = Date()
            while Date().timeIntervalSince(start) < seconds || reps < 3 {
                gemm(a, b, into: &c)
                reps += 1
            }
            let t = Date().timeIntervalSince(start) / Double(reps)
            gemms.append(
                GemmResult(n: n, gflops: 2 * pow(Double(n), 3) / t / 1e9, repetitions: reps))
        }
        var svds: [SVDResult] = []
        for (m, n) in quick ? [(576, 1536)] : [(576, 1536), (2048, 8192)] {
            // A planted spectrum (rank-32 signal plus noise), like a trained weight matrix.
            let u = Tensor(randomNormal: [m, 32], using: &rng)
            let v = Tensor(randomNormal: [32, n], using: &rng)
            let a = matmul(u, v) + Tensor(randomNormal: [m, n], standardDeviation: 2, using: &rng)
            var start = Date()
            let exact = try svd(a)
            let exactTime = Date().timeIntervalSince(start)
            let k = keptRank(rho: 0.01, rows: m, columns: n)
            start = Date()
            let approx = try randomizedSVD(
                a, rank: k, options: .init(oversampling: 10, powerIterations: 2, seed: 1))
            let randTime = Date().timeIntervalSince(start)
            let optimal = (a - exact.reconstruction(rank: k)).frobeniusNorm
            let achieved = (a - approx.reconstruction(rank: k)).frobeniusNorm
            svds.append(
                SVDResult(
                    rows: m, columns: n, gesddSeconds: exactTime, randomizedRank: k,
                    randomizedSeconds: randTime,
                    randomizedExcessError: (achieved - optimal) / optimal))
        }
        let out = Output(
            openblasCore: OpenBLASInfo.coreName,
            openblasCoretypeEnv: ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"],
            threads: OpenBLASInfo.threads, sgemm: gemms, svd: svds)
        print(try jsonText(out))
    }

    private func runChild(core: String?) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        var args =
            ["bench", "linalg", "--seconds", String(seconds)]
            + sizes.flatMap { ["--sizes", String($0)] }
        if quick { args.append("--quick") }
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_CORETYPE"] = core
        if core == nil { env["LASER_NO_REEXEC"] = "1" }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CLIError("the benchmark run with OPENBLAS_CORETYPE=\(core ?? "unset") failed")
        }
        return try JSONDecoder().decode(Output.self, from: data)
    }
}
