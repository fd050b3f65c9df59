// `laser bench text`: prompt-processing and generation tokens/s, QA items/s and peak memory of the
// language model, as JSON (scripts/bench-text.sh sets llama.cpp's figures beside them).
import ArgumentParser
import Core
import Foundation
import LinearAlgebra
import TextModel

struct BenchText: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "text",
        abstract:
            "Language-model throughput: prompt processing at batch 64 and 512, generation, QA items/s.",
        discussion: """
            Prompt processing runs one forward pass over N tokens from an empty cache and computes the logits of the last position only (as llama.cpp does by default); generation decodes one token at a time after a 16-token prompt. Peak memory is the process's maximum resident set size over the prompt and generation runs (the work llama-bench does); with --dataset, the peak after QA as well is reported apart. Use a release build.
            """)

    @Option(help: "Prompt lengths to measure.") var promptSizes: [Int] = [64, 512]
    @Option(help: "Tokens to generate.") var generate: Int = 64
    @Option(help: "Repetitions of each prompt measurement (the median is reported).")
    var repetitions: Int = 3
    @Option(
        help: ArgumentHelp(
            "A QA dataset to time (items/s), e.g. ../shared/data/qa/known_facts_dev.json.",
            valueName: "file"))
    var dataset: String?
    @Option(help: "Score only the first N QA items.") var limit: Int?
    @OptionGroup var modelOptions: TextModelOptions

    struct Output: Codable {
        let model: String
        let threads: Int
        /// How the weights are multiplied: quantized (with the kernels' instruction set) or float32.
        let weights: String
        let kernels: String
        let openblasCore: String
        let loadSeconds: Double
        let promptTokensPerSecond: [String: Double]
        /// The same per second of process CPU time (user + system): steadier on a busy machine.
        let promptTokensPerCPUSecond: [String: Double]
        let generationTokensPerSecond: Double
        let generationTokensPerCPUSecond: Double
        let qaItemsPerSecond: Double?
        let qaItems: Int?
        /// Over loading, prompt processing and generation: what llama-bench's peak covers.
        let peakResidentMB: Double
        /// Including QA (its answers' full-vocabulary logits), when a dataset was timed.
        let qaPeakResidentMB: Double?
    }

    func validate() throws {
        guard promptSizes.allSatisfy({ $0 >= 1 && $0 <= 4096 }) else {
            throw ValidationError("--prompt-sizes must each be in 1...4096")
        }
        guard generate >= 1 && generate <= 4096 else {
            throw ValidationError("--generate must be in 1...4096")
        }
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be at least 1") }
    }

    func run() throws {
        modelOptions.threading.apply()
        let start = Date()
        let (model, _) = try modelOptions.load(verbose: false)
        let loadSeconds = Date().timeIntervalSince(start)
        // A deterministic token stream drawn from ordinary text ids.
        var rng = SplitMix64(seed: 42)
        func tokens(_ n: Int) -> [Int] { (0..<n).map { _ in 200 + Int(rng.next() % 20000) } }
        // Each measurement holds only its own cache, as a separate run would.
        var prompt: [String: Double] = [:]
        var promptCPU: [String: Double] = [:]
        do {
            let state = model.makeState(capacity: promptSizes.max() ?? 64)
            _ = try model.forward(tokens(8), state: state)  // warm-up: thread pool, page-in
            for n in promptSizes {
                var rates: [Double] = []
                var cpuRates: [Double] = []
                for _ in 0..<repetitions {
                    let input = tokens(n)
                    state.reset()
                    let t0 = Date()
                    let c0 = ProcessUsage.cpuSeconds()
                    _ = try model.forward(input, state: state)
                    rates.append(Double(n) / Date().timeIntervalSince(t0))
                    cpuRates.append(Double(n) / (ProcessUsage.cpuSeconds() - c0))
                }
                prompt["pp\(n)"] = rates.sorted()[rates.count / 2]
                promptCPU["pp\(n)"] = cpuRates.sorted()[cpuRates.count / 2]
            }
        }
        let state = model.makeState(capacity: 16 + generate)
        let first = try model.forward(tokens(16), state: state)
        let t0 = Date()
        let c0 = ProcessUsage.cpuSeconds()
        let produced = try model.continueGreedy(
            from: first, maxNewTokens: generate, stopAtEOS: false, state: state)
        let generation = Double(produced.count - 1) / Date().timeIntervalSince(t0)
        let generationCPU = Double(produced.count - 1) / (ProcessUsage.cpuSeconds() - c0)
        let benchPeak = Double(ProcessUsage.peakResidentBytes()) / 1_048_576
        var qaRate: Double?
        var qaCount: Int?
        if let path = dataset {
            var items = try QADataset.load(path: path)
            if let n = limit { items = Array(items.prefix(n)) }
            let evaluator = QAEvaluator(model: model)
            let q0 = Date()
            _ = try evaluator.evaluate(items)
            qaRate = Double(items.count) / Date().timeIntervalSince(q0)
            qaCount = items.count
        }
        let output = Output(
            model: (try modelOptions.modelPath() as NSString).lastPathComponent,
            threads: modelOptions.threads, weights: model.weightFormat.rawValue,
            kernels: QuantizedKernelISA.best.name,
            openblasCore: OpenBLASInfo.coreName, loadSeconds: loadSeconds,
            promptTokensPerSecond: prompt,
            promptTokensPerCPUSecond: promptCPU, generationTokensPerSecond: generation,
            generationTokensPerCPUSecond: generationCPU, qaItemsPerSecond: qaRate, qaItems: qaCount,
            peakResidentMB: benchPeak,
            qaPeakResidentMB: dataset == nil
                ? nil : Double(ProcessUsage.peakResidentBytes()) / 1_048_576)
        print(try jsonText(output))
    }
}
