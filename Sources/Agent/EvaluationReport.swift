// What `laser eval` reports: the policy as loaded and, with interventions, reduced, compared
// level by level on the same levels.
import Laser
import Policy
import Sokoban

public struct EvaluationReport: Encodable {
    public let policy: String, levels: String, count: Int
    public let averageSymmetries: Bool
    /// The policy as loaded (before any intervention).
    public let unreduced: EvaluationSummary
    public let interventions: [String]
    public let reduced: EvaluationSummary?
    public let reductions: [ReductionReport]
    /// Greedy solves, reduced against unreduced, level by level.
    public let comparison: PairedComparison?

    enum CodingKeys: String, CodingKey {
        case policy, levels, count
        case averageSymmetries = "average_symmetries"
        case unreduced, interventions
        case reduced, reductions
        case comparison = "greedy_solved_comparison"
    }

    /// The report of a paired run over `count` levels, comparing the greedy solves level by level.
    public init(
        policy: String, levels: String, count: Int, options: EvaluationOptions,
        interventions: [Intervention], run: PairedEvaluation<Evaluator.Run>
    ) throws {
        self.policy = policy
        self.levels = levels
        self.count = count
        averageSymmetries = options.symmetryAveraging
        unreduced = run.unreduced!.summary
        self.interventions = interventions.map(\.description)
        reduced = run.reduced?.summary
        reductions = run.reports
        if let before = run.unreduced, let after = run.reduced {
            comparison = try PairedComparison(
                baseline: before.outcomes.map(\.greedySolved),
                reduced: after.outcomes.map(\.greedySolved))
        } else {
            comparison = nil
        }
    }
}

extension Evaluator {
    /// One evaluation's outcomes, level by level, and their totals.
    public typealias Run = (outcomes: [LevelOutcome], summary: EvaluationSummary)

    /// The LASER protocol on a policy: `levels` played by the policy as loaded, then by the
    /// policy reduced in place by `interventions` (when there are any), the same levels each time.
    public static func evaluatePaired(
        model: any PolicyNetwork, levels: [Level], options: EvaluationOptions,
        interventions: [Intervention],
        progress: (PairedPhase) -> (@Sendable (Int, Int) -> Void)? = { _ in nil }
    ) throws -> PairedEvaluation<Run> {
        try PairedEvaluation(model: model, interventions: interventions) { phase in
            try evaluate(model: model, levels: levels, options: options, progress: progress(phase))
        }
    }
}

extension EvaluationSummary {
    /// One line on how the greedy attempts failed, e.g. "greedy failures 12: 9 repeated a
    /// position, 3 ran out of steps; 7 ended in a dead position, 5 in a solvable one (dead: 4
    /// dead-square, 2 frozen, 1 searched)".
    public var failureLine: String {
        let failed = levels - Int((greedySolveRate * Double(levels)).rounded())
        var text =
            "greedy failures \(failed): \(greedyLooped ?? 0) repeated a position, \(greedyOutOfSteps ?? 0) ran out of steps"
        if let dead = greedyDeadEnds {
            text +=
                "; \(dead) ended in a dead position, \(failed - dead - (greedyUndiagnosed ?? 0)) in a solvable one"
            if let kinds = greedyDeadEndKinds, dead > 0 {
                text +=
                    " (dead: "
                    + DeadEndKind.allCases.map { "\(kinds[$0.rawValue] ?? 0) \($0.rawValue)" }
                    .joined(separator: ", ") + ")"
            }
            if let unknown = greedyUndiagnosed, unknown > 0 { text += ", \(unknown) undecided" }
        }
        return text
    }
}
