// `laser eval --policy CKPT`: a policy's solve rate on a level set, optionally with LASER applied.
import Agent
import ArgumentParser
import Core
import Foundation
import Laser
import LinearAlgebra
import Policy
import Sokoban

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure a Sokoban policy's solve rate on a level set.",
        discussion: """
            Every level is played greedily (argmax action) up to --max-steps; with --attempts k, k-1 more attempts sample from the policy and a level counts for best-of-k when any attempt solves it. A greedy attempt that comes back to a position it was in stops there (it could only cycle); the summary counts such loops apart from attempts that ran out of steps, and --diagnose also asks the solver whether each failure ended in a dead position. Results are the same for the same --seed. --intervene applies LASER rank reductions (LAYER:TYPE:RHO, repeatable) before evaluating, and the unreduced policy is evaluated beside it.
            """)

    @Option(help: "Policy checkpoint (safetensors).") var policy: String
    @Option(help: "Level file (XSB/SOK/Boxoban).") var levels = "levels/test-10x10-4.xsb"
    @Option(help: "Evaluate only the first N levels.") var limit: Int?
    @Option(
        help: ArgumentHelp("LASER intervention (repeatable).", valueName: "LAYER:TYPE:RHO"),
        transform: interventionArgument)
    var intervene: [Intervention] = []
    @OptionGroup var evaluation: PolicyEvaluationOptions
    @Option(help: "Write one JSON line per level here.") var perLevel: String?
    @Flag(
        help:
            "Ask the solver whether each failed greedy attempt ended in a dead position (a fatal push) or could still be solved."
    )
    var diagnose = false
    @Flag(help: "Print the summary as JSON.") var json = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be positive") }
    }

    func run() throws {
        evaluation.threading.applyForPlaying()
        if let perLevel { try checkWritable(perLevel, option: "--per-level") }
        let interventions = intervene
        let loaded = try loadPolicy(policy)
        let model = loaded.model
        for intervention in interventions {
            do { _ = try intervention.targets(in: model) } catch {
                throw CLIError("--intervene: \(error)")
            }
        }
        let set = try loadLevels(levels, limit: limit)
        var options = evaluation.options
        options.diagnose = diagnose
        // A checkpoint `laser reduce` or `shrink` wrote is already reduced: its row says so (the
        // JSON key stays `unreduced`, meaning "before --intervene").
        let asLoaded =
            loaded.metadata["reduced_from"] == nil
            ? "unreduced" : "as saved (\(loaded.metadata["interventions"] ?? "reduced"))"
        let labels = [asLoaded, interventions.map(\.description).joined(separator: " ")]
        let run = try Evaluator.evaluatePaired(
            model: model, levels: set, options: options, interventions: interventions
        ) { phase in
            let bar = ProgressBar(
                label: labels[phase == .unreduced ? 0 : 1], total: set.count * options.attempts)
            return { done, _ in bar.update(done) }
        }
        let outcomes = run.final.outcomes
        let report = try EvaluationReport(
            policy: policy, levels: levels, count: set.count, options: options,
            interventions: interventions, run: run)
        let rows =
            [(labels[0], report.unreduced)] + (report.reduced.map { [(labels[1], $0)] } ?? [])
        let reports = report.reductions
        if let perLevel {
            let lines =
                try outcomes.map { try jsonText($0, pretty: false) }.joined(separator: "\n") + "\n"
            try AtomicFile.write(string: lines, to: perLevel)
        }
        if json {
            print(try jsonText(report))
            return
        }
        print(
            "\(model.architectureName) policy \(policy) on \(levels) (\(set.count) levels, \(options.attempts) attempt\(options.attempts == 1 ? "" : "s") each\(options.symmetryAveraging ? ", 8-view symmetry-averaged" : ""))"
        )
        let header = [
            "model", "greedy solved", options.attempts > 1 ? "best of \(options.attempts)" : nil,
            "mean steps (solved)", "mean return", "seconds",
        ].compactMap { $0 }
        print(
            table(
                header,
                rows.map { label, s in
                    [
                        label,
                        String(
                            format: "%.1f%% (%d)", 100 * s.greedySolveRate,
                            Int((s.greedySolveRate * Double(s.levels)).rounded())),
                        options.attempts > 1
                            ? String(format: "%.1f%%", 100 * s.bestOfKSolveRate) : nil,
                        s.meanStepsSolved.map { String(format: "%.1f", $0) } ?? "-",
                        s.greedyMeanReturn.map { String(format: "%.3f", $0) } ?? "-",
                        String(format: "%.1f", s.seconds),
                    ].compactMap { $0 }
                }))
        for (label, s) in rows {
            print("\(label): " + s.failureLine)
        }
        for r in reports {
            print(
                "reduced \(r.name): rank \(r.rankKept) of \(r.fullRank), parameters \(r.parametersBefore) → \(r.parametersAfter)"
            )
        }
        if let comparison = report.comparison {
            print("greedy solved, reduced vs unreduced on the same levels: \(comparison.summary)")
        }
    }
}
