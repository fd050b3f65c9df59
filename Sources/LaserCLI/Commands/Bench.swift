// `laser bench`: the benchmarks, each printing measured figures (JSON on request).
import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput (release builds: swift build -c release).",
        subcommands: Bench.allSubcommands)
}

extension Bench {
    static let allSubcommands: [any ParsableCommand.Type] = [
        BenchLinalg.self,
        BenchEnv.self,
        BenchPolicy.self,
        BenchText.self,
    ]
}
