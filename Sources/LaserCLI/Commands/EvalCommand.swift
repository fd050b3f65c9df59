// `laser eval --policy CKPT`: a policy's solve rate on a level set, optionally with LASER applied.
import Agent
import ArgumentParser
import Core
import Foundation
import Laser
import LinearAlgebra
import Policy
import Sokoban

/// Loads a policy checkpoint with a one-line error naming the file.
func loadPolicy(_ path: String) throws -> PolicyCheckpoint.Loaded {
    guard FileManager.default.fileExists(atPath: path) else {
        throw CLIError("policy checkpoint \(path) does not exist")
    }
    try FileFormat.require(.safetensors, path: path, purpose: "a policy checkpoint (safetensors)")
    do { return try PolicyCheckpoint.load(from: path) } catch {
        throw CLIError("cannot load policy \(path): \(error)")
    }
}

/// Loads a level file with a one-line error naming the file.
func loadLevels(_ path: String, limit: Int? = nil) throws -> [Level] {
    let levels = try readCollection(path).levels
    if let limit { return Array(levels.prefix(limit)) }
    return levels
}

/// Evaluation settings shared by `eval` and `sweep --policy`.
struct PolicyEvaluationOptions: ParsableArguments {
    @Option(help: "Attempts per level: the first greedy, the rest sampled (best of k).")
    var attempts = 1
    @Option(help: "Seed of the sampled attempts.") var seed: UInt64 = 0
    @OptionGroup var threading: ThreadOptions
    @Option(help: "Step limit per episode.") var maxSteps = 120
    @Flag(
        help:
            "Average the policy's action probabilities over the board's 8 rotations and reflections (8 forward passes per step)."
    )
    var averageSymmetries = false

    func validate() throws {
        guard (1...1000).contains(attempts) else {
            throw ValidationError("--attempts must be in 1...1000")
        }
        guard (1...10000).contains(maxSteps) else {
            throw ValidationError("--max-steps must be in 1...10000")
        }
    }

    /// The evaluation settings.
    var options: EvaluationOptions {
        var o = EvaluationOptions()
        o.attempts = attempts
        o.seed = seed
        o.workers = threading.count
        o.environment.maxSteps = maxSteps
        o.symmetryAveraging = averageSymmetries
        return o
    }
}

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
        var rows: [(String, EvaluationSummary)] = []
        var reports: [ReductionReport] = []
        func evaluate(_ label: String) throws -> [LevelOutcome] {
            let bar = ProgressBar(label: label, total: set.count * options.attempts)
            let (outcomes, summary) = try Evaluator.evaluate(
                model: model, levels: set, options: options,
                progress: { done, _ in bar.update(done) })
            rows.append((label, summary))
            return outcomes
        }
        // A checkpoint `laser reduce` or `shrink` wrote is already reduced: its row says so (the
        // JSON key stays `unreduced`, meaning "before --intervene").
        let asLoaded =
            loaded.metadata["reduced_from"] == nil
            ? "unreduced" : "as saved (\(loaded.metadata["interventions"] ?? "reduced"))"
        var outcomes = try evaluate(asLoaded)
        var comparison: PairedComparison?
        if !interventions.isEmpty {
            do { reports = try applyInterventions(interventions, to: model) } catch {
                throw CLIError("--intervene: \(error)")
            }
            let unreduced = outcomes
            outcomes = try evaluate(interventions.map(\.description).joined(separator: " "))
            // The same levels played by both: compared level by level.
            comparison = try PairedComparison(
                baseline: unreduced.map(\.greedySolved), reduced: outcomes.map(\.greedySolved))
        }
        if let perLevel {
            let lines =
                try outcomes.map { try jsonText($0, pretty: false) }.joined(separator: "\n") + "\n"
            try AtomicFile.write(string: lines, to: perLevel)
        }
        if json {
            struct Output: Encodable {
                let policy: String, levels: String, count: Int
                let averageSymmetries: Bool
                let unreduced: EvaluationSummary
                let interventions: [String]
                let reduced: EvaluationSummary?
                let reductions: [ReductionReport]
                let comparison: PairedComparison?
                enum CodingKeys: String, CodingKey {
                    case policy, levels, count
                    case averageSymmetries = "average_symmetries"
                    case unreduced, interventions
                    case reduced, reductions
                    case comparison = "greedy_solved_comparison"
                }
            }
            print(
                try jsonText(
                    Output(
                        policy: policy, levels: levels, count: set.count,
                        averageSymmetries: options.symmetryAveraging, unreduced: rows[0].1,
                        interventions: interventions.map(\.description),
                        reduced: rows.count > 1 ? rows[1].1 : nil,
                        reductions: reports, comparison: comparison)))
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
            print("\(label): " + failureSummary(s))
        }
        for r in reports {
            print(
                "reduced \(r.name): rank \(r.rankKept) of \(r.fullRank), parameters \(r.parametersBefore) → \(r.parametersAfter)"
            )
        }
        if let comparison {
            print("greedy solved, reduced vs unreduced on the same levels: \(comparison.summary)")
        }
    }
}

/// Applies interventions to a model in place (the reduced matrices stay reduced).
func applyInterventions<Model: ReducibleModel>(_ interventions: [Intervention], to model: Model)
    throws
    -> [ReductionReport]
{
    try Reducer(model: model).apply(interventions)
}

/// One line on how the greedy attempts failed, e.g. "greedy failures 12: 9 repeated a position,
/// 3 ran out of steps; 7 ended in a dead position, 5 in a solvable one (dead: 4 dead-square, 2
/// frozen, 1 searched)".
func failureSummary(_ s: EvaluationSummary) -> String {
    let failed = s.levels - Int((s.greedySolveRate * Double(s.levels)).rounded())
    var text =
        "greedy failures \(failed): \(s.greedyLooped ?? 0) repeated a position, \(s.greedyOutOfSteps ?? 0) ran out of steps"
    if let dead = s.greedyDeadEnds {
        text +=
            "; \(dead) ended in a dead position, \(failed - dead - (s.greedyUndiagnosed ?? 0)) in a solvable one"
        if let kinds = s.greedyDeadEndKinds, dead > 0 {
            text +=
                " (dead: "
                + DeadEndKind.allCases.map { "\(kinds[$0.rawValue] ?? 0) \($0.rawValue)" }
                .joined(separator: ", ") + ")"
        }
        if let unknown = s.greedyUndiagnosed, unknown > 0 { text += ", \(unknown) undecided" }
    }
    return text
}
