// `laser bench policy`: training and inference samples/s of the policy networks at several batches.
import ArgumentParser
import Core
import Foundation
import LinearAlgebra
import Policy

struct BenchPolicy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Training steps/s and inference samples/s of ConvPolicy and TransformerPolicy.",
        discussion: """
            A training step is forward, cross-entropy + value loss, backward, global-norm clipping and an AdamW update. Inputs are random one-hot 10×10 boards. scripts/bench-policy.sh runs this beside the same networks in PyTorch.
            """)

    @Option(help: "Architectures to measure: conv, transformer.") var arch: [String] = [
        "conv", "transformer",
    ]
    @Option(help: "Batch sizes.") var batches: [Int] = [1, 32, 256]
    @Option(help: "Minimum seconds per measurement.") var seconds = 1.0
    @OptionGroup var threading: ThreadOptions
    @Option(
        help: ArgumentHelp(
            "Instead of fresh networks, measure inference of these checkpoints (repeatable; a factored one runs through its factors; parameters are counted as computed with).",
            valueName: "path"))
    var policy: [String] = []
    @Flag(help: "Inference only.") var inferOnly = false
    @Flag(help: "Training only (e.g. to count a training step's cycles with perf stat).")
    var trainOnly = false
    @Flag(
        help:
            "Instead of the networks, time the direct 3×3 conv kernels alone (forward, input gradient, weight gradient) on one core at --channels, in GFLOP/s."
    )
    var kernels = false
    @Flag(help: "Print JSON.") var json = false
    @Option(
        help: ArgumentHelp(
            "Instead of timing, write for each architecture a checkpoint, an input batch and our outputs into this directory (for scripts/bench_policy.py --check).",
            valueName: "dir"))
    var exportCheck: String?
    @Option(help: "Observation planes.") var planes = 7
    @Option(help: "ConvPolicy channels.") var channels = ConvPolicyConfig().channels
    @Option(help: "ConvPolicy residual blocks.") var blocks = ConvPolicyConfig().blocks
    @Option(help: "TransformerPolicy width.") var dim = TransformerPolicyConfig().dim
    @Option(help: "TransformerPolicy layers.") var layers = TransformerPolicyConfig().layers
    @Option(help: "TransformerPolicy heads.") var heads = TransformerPolicyConfig().heads
    @Option(help: "TransformerPolicy MLP hidden units.") var mlpHidden = TransformerPolicyConfig()
        .mlpHidden
    @Option(help: "TransformerPolicy conv trunk channels (0: tokens embed the planes).")
    var convChannels = 0
    @Option(help: "TransformerPolicy conv trunk residual blocks.") var convBlocks = 0

    func validate() throws {
        for a in arch where a != "conv" && a != "transformer" {
            throw ValidationError("unknown architecture '\(a)' (expected conv or transformer)")
        }
        guard !(inferOnly && trainOnly) else {
            throw ValidationError("--infer-only and --train-only exclude each other")
        }
        guard !kernels || ConvKernelBenchmark.handles(channels: channels) else {
            throw ValidationError(
                "--kernels times the direct conv kernels, which take --channels in multiples of 16 (got \(channels))"
            )
        }
        guard batches.allSatisfy({ $0 >= 1 && $0 <= 65536 }) else {
            throw ValidationError("batch sizes must be in 1...65536")
        }
        guard seconds > 0 && seconds <= 600 else {
            throw ValidationError("--seconds must be in (0, 600]")
        }
    }

    struct Output: Codable {
        let workers: Int, blasThreads: Int, openblasCore: String
        let conv: ConvPolicyConfig, transformer: TransformerPolicyConfig
        let rows: [PolicyBenchmarkRow]
    }

    func run() throws {
        threading.apply()
        let blasThreads = threading.blasThreads ?? 1
        let convConfig = ConvPolicyConfig(planes: planes, channels: channels, blocks: blocks)
        let transformerConfig = TransformerPolicyConfig(
            planes: planes, dim: dim, layers: layers, heads: heads, mlpHidden: mlpHidden,
            convChannels: convChannels, convBlocks: convBlocks)
        if let exportCheck {
            // The same random networks as PyTorch will load, seeded and then perturbed.
            try PolicyBenchmark.writeCheck(
                to: exportCheck,
                models: try arch.map { a in
                    let model: any PolicyNetwork =
                        a == "conv"
                        ? try ConvPolicy(config: convConfig, seed: 5)
                        : try TransformerPolicy(config: transformerConfig, seed: 5)
                    return (a, model)
                })
            return
        }
        if kernels {
            try runKernels()
            return
        }
        var rows: [PolicyBenchmarkRow] = []
        for path in policy {
            let loaded = try loadPolicy(path)
            rows += try PolicyBenchmark.run(
                model: loaded.model, batches: batches, seconds: seconds, train: false,
                label: (path as NSString).lastPathComponent)
        }
        for a in arch where policy.isEmpty {
            let model: any PolicyNetwork =
                a == "conv"
                ? try ConvPolicy(config: convConfig, seed: 1)
                : try TransformerPolicy(config: transformerConfig, seed: 1)
            rows += try PolicyBenchmark.run(
                model: model, batches: batches, seconds: seconds, infer: !trainOnly,
                train: !inferOnly)
        }
        if json {
            print(
                try jsonText(
                    Output(
                        workers: PolicyThreads.workers, blasThreads: blasThreads,
                        openblasCore: OpenBLASInfo.coreName, conv: convConfig,
                        transformer: transformerConfig, rows: rows)))
            return
        }
        print(
            "\(PolicyThreads.workers) workers, OpenBLAS \(OpenBLASInfo.coreName) with \(blasThreads) thread(s)"
        )
        let width = max(12, rows.map(\.architecture.count).max() ?? 0)
        print(
            "arch".padding(toLength: width, withPad: " ", startingAt: 0)
                + " mode   batch   samples/s   params")
        for r in rows {
            let name = r.architecture.padding(toLength: width, withPad: " ", startingAt: 0)
            let mode = r.mode.padding(toLength: 6, withPad: " ", startingAt: 0)
            let rate = String(format: "%11.1f", r.samplesPerSecond)
            let batch = String(format: "%5d", r.batch)
            print("\(name) \(mode) \(batch) \(rate)   \(r.parameters)")
        }
    }
}
