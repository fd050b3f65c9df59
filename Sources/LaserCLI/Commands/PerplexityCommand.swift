// `laser perplexity`: a text's perplexity as llama-perplexity computes it, and with --intervene the
// edit's side effects against the unedited model (KL divergence, same top token, Δp).
import ArgumentParser
import Core
import Foundation
import Laser
import TextModel

struct PerplexityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perplexity",
        abstract:
            "Perplexity of a text (llama-perplexity's method); with --intervene, the edit's KL divergence from the unedited model.",
        discussion: """
            The text is tokenized whole (BOS first when the vocabulary adds it) and cut into consecutive chunks of --context tokens; each chunk runs from an empty cache with its first token replaced by BOS (when the vocabulary adds one) and only its second half is scored, as llama.cpp's llama-perplexity does, so the figures compare with `llama-perplexity -f FILE -c N`. With --intervene the unedited and the edited model run the same chunks; besides both perplexities it prints llama-perplexity's --kl-divergence figures: the mean KL divergence of the edited model's next-token distribution from the unedited one (nats), its median, 99th percentile and maximum, the share of positions whose top token is the same, and the mean and RMS change Δp of the observed token's probability. scripts/fetch-text.sh fetches the project's text (Genesis, King James Version, from Debian's bible-kjv-text).
            """)

    @Option(help: ArgumentHelp("The text file (UTF-8).", valueName: "file")) var text: String
    @Option(help: "Tokens per chunk (llama-perplexity's -c).") var context = 512
    @Option(help: "Score only the first N chunks (llama-perplexity's --chunks).") var chunks: Int?
    @Option(help: "Chunks run together in one batched forward pass.") var chunksPerPass = 2
    @Flag(help: "Print the report as JSON.") var json = false
    @OptionGroup var modelOptions: TextModelOptions

    func validate() throws {
        guard context >= 4 && context <= 8192 else {
            throw ValidationError("--context must be in 4...8192")
        }
        if let chunks, chunks < 1 { throw ValidationError("--chunks must be at least 1") }
        guard (1...16).contains(chunksPerPass) else {
            throw ValidationError("--chunks-per-pass must be in 1...16")
        }
    }

    func run() throws {
        modelOptions.threading.apply()
        let prose = try Self.readText(text)
        let model = try loadTextModel(
            path: modelOptions.model, threads: modelOptions.threads, weights: modelOptions.weights,
            verbose: !json)
        var edited: LlamaModel?
        if !modelOptions.interventions.isEmpty {
            let copy = try loadTextModel(
                path: modelOptions.model, threads: modelOptions.threads,
                weights: modelOptions.weights, verbose: false)
            _ = try modelOptions.applyInterventions(to: copy, verbose: !json)
            edited = copy
        }
        let evaluator = PerplexityEvaluator(
            model: model, edited: edited, chunksPerPass: chunksPerPass)
        let tokens = evaluator.tokenize(prose)
        var bar: ProgressBar?
        let report: PerplexityReport
        do {
            report = try evaluator.evaluate(tokens: tokens, context: context, maximumChunks: chunks)
            {
                done, total in
                if json { return }
                if done == 0 { bar = ProgressBar(label: "perplexity", total: total) }
                bar?.update(done)
            }
        } catch let error as TextModelError {
            throw CLIError("--text \(text): \(error)")
        }
        if json {
            print(
                try jsonText(
                    PerplexityOutput(
                        text: text, interventions: modelOptions.interventions.map(\.description),
                        report: report)))
            return
        }
        for line in Self.lines(report, text: text, interventions: modelOptions.interventions) {
            print(line)
        }
    }

    /// Reads the text, naming the file in a one-line error.
    static func readText(_ path: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError("--text \(path) does not exist")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("--text \(path) cannot be read")
        }
        guard let prose = String(data: data, encoding: .utf8) else {
            throw CLIError("--text \(path) is not UTF-8 text")
        }
        return prose
    }

    /// The report as the terminal shows it.
    static func lines(_ r: PerplexityReport, text: String, interventions: [Intervention])
        -> [String]
    {
        var out = [
            "text               \(TerminalText.escaped(text)) (\(r.tokens) tokens; \(r.chunks) chunks of \(r.context), \(r.scored) tokens scored)"
        ]
        let edited = r.editedPerplexity.map { _ in true } ?? false
        out.append(
            String(
                format: "perplexity         %.4f ± %.4f%@", r.perplexity, r.perplexityError,
                edited ? "  (unedited)" : ""))
        if let ppl = r.editedPerplexity, let error = r.editedPerplexityError {
            out.append(
                String(
                    format: "perplexity         %.4f ± %.4f  (%@; ratio %.4f)", ppl, error,
                    interventions.map(\.description).joined(separator: " "), ppl / r.perplexity))
        }
        if let s = r.shift {
            out.append(
                String(
                    format:
                        "KL divergence      mean %.6f ± %.6f, median %.6f, 99%% %.6f, max %.6f (nats)",
                    s.meanKLD, s.meanKLDStandardError, s.medianKLD, s.kld99, s.maximumKLD))
            out.append(
                String(
                    format: "same top token     %.3f%% ± %.3f%%", 100 * s.sameTop,
                    100 * s.sameTopStandardError))
            if let dp = s.meanProbabilityChange, let se = s.probabilityChangeStandardError,
                let rms = s.rmsProbabilityChange
            {
                out.append(
                    String(
                        format: "Δp (observed)      mean %+.4f%% ± %.4f%%, RMS %.4f%%", 100 * dp,
                        100 * se, 100 * rms))
            }
        }
        out.append(String(format: "time               %.1fs", r.seconds))
        return out
    }

    /// The JSON output: the report and what produced it.
    struct PerplexityOutput: Encodable {
        let text: String
        let interventions: [String]
        let report: PerplexityReport
    }
}
