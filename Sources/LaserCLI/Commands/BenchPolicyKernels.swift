// `laser bench policy --kernels`: the direct 3×3 conv kernels alone, in GFLOP/s on one core.
import Policy

extension BenchPolicy {
    struct KernelOutput: Codable {
        let rows: [ConvKernelBenchmarkRow]
    }

    func runKernels() throws {
        let rows = try ConvKernelBenchmark.run(channels: channels, seconds: 3 * seconds)
        if json {
            print(try jsonText(KernelOutput(rows: rows)))
            return
        }
        print("one core, \(rows.first?.batch ?? 0) boards per call")
        print("kernel            channels   GFLOP/s")
        for r in rows {
            let name = r.kernel.padding(toLength: 17, withPad: " ", startingAt: 0)
            print("\(name) \(String(format: "%8d %9.1f", r.channels, r.gflops))")
        }
    }
}
