// What `laser shrink` reports: its outcome in words, and as the JSON record it prints and stores
// in the checkpoint's `laser.shrink`.

extension ShrinkOutcome {
    /// The outcome in words: each trial, the composition kept and its test, the file written.
    public func report(plan: ShrinkPlan, out: String) -> String {
        var lines = [
            "tried \(trials.count) configuration\(trials.count == 1 ? "" : "s") on validation (budget \(plan.budget)\(budgetExhausted ? ", exhausted" : "")), margin \(Intervention.format(plan.margin * 100)) points:"
        ]
        for trial in trials {
            lines.append(
                "  \(trial.kept ? "kept" : "    ") \(trial.interventions.map(\.description).joined(separator: ",")): \(trial.test.summary)"
            )
        }
        guard let test = test else {
            lines.append("no reduction is non-inferior on validation; nothing written")
            return lines.joined(separator: "\n")
        }
        lines.append(
            "kept \(interventions.map(\.description).joined(separator: ",")): reduced matrices \(parametersBefore) → \(parametersAfter) parameters"
        )
        lines.append("on test: \(test.summary)")
        lines.append("wrote \(out)")
        return lines.joined(separator: "\n")
    }
}

/// The outcome as JSON (also stored in the checkpoint's `laser.shrink`).
public struct ShrinkRecord: Encodable {
    public struct Trial: Encodable {
        public let interventions: [String]
        public let parameters: Int
        public let nonInferiority: NonInferiority
        public let kept: Bool
        enum CodingKeys: String, CodingKey {
            case interventions, parameters, kept
            case nonInferiority = "non_inferiority"
        }
    }
    public let margin: Double
    public let budget: Int
    public let configurationsTried: Int
    public let interventions: [String]
    public let parametersBefore: Int
    public let parametersAfter: Int
    public let validation: NonInferiority?
    public let test: NonInferiority?
    public let trials: [Trial]

    enum CodingKeys: String, CodingKey {
        case margin, budget, interventions, validation, test, trials
        case configurationsTried = "configurations_tried"
        case parametersBefore = "parameters_before"
        case parametersAfter = "parameters_after"
    }

    public init(_ o: ShrinkOutcome, plan: ShrinkPlan) {
        margin = plan.margin
        budget = plan.budget
        configurationsTried = o.trials.count
        interventions = o.interventions.map(\.description)
        parametersBefore = o.parametersBefore
        parametersAfter = o.parametersAfter
        validation = o.validation
        test = o.test
        trials = o.trials.map {
            Trial(
                interventions: $0.interventions.map(\.description), parameters: $0.parameters,
                nonInferiority: $0.test, kept: $0.kept)
        }
    }
}
