// `laser shrink`: the smallest composition of LASER reductions whose solve rate is non-inferior to
// the parent policy's, searched on validation within a budget, confirmed once on test, and saved
// as a factored checkpoint that runs through its factors.
import Agent
import ArgumentParser
import Core
import Foundation
import Laser
import LinearAlgebra
import Policy
import Sokoban

struct ShrinkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shrink",
        abstract: "Find the smallest rank-reduced policy that is not worse than its parent.",
        discussion: """
            Greedy and budgeted: the addresses (matrices, largest first) are reduced one after another; for each, ρ is tried from the smallest, on top of what was kept, and the first composition whose greedy solve rate on --levels is non-inferior to the parent's (the one-sided 95% lower bound of the paired difference ≥ −margin) is kept. At most --budget configurations are evaluated on validation; the kept composition is then evaluated once on --test and saved with --out as a factored checkpoint (metadata: reduced_from, interventions, laser.shrink). Every evaluation goes to a resumable log: rerun the same command after a kill.
            """)

    @OptionGroup(title: "Sokoban policy") var policy: PolicySweepOptions
    @OptionGroup(title: "Threads") var threading: ThreadOptions
    @Option(
        help:
            "Addresses to reduce as LAYER:TYPE, comma-separated (e.g. all:mlp,all:attn or 3:conv); default: every layer and type the policy has except its head."
    )
    var addresses: CommaList<String>?
    @Option(help: "ρ values to try per address, smallest first.") var rhos = CommaList<Double>([
        0.05, 0.1, 0.25, 0.5,
    ])
    @Option(help: "Non-inferiority margin in points.") var margin = 1.5
    @Option(help: "Most configurations evaluated on validation.") var budget = 24
    @Option(help: "The rank-reduced checkpoint to write (factored safetensors).") var out: String
    @Option(help: "Result log (default: --out with .shrink.jsonl).") var results: String?
    @Flag(help: "Print the outcome as JSON.") var json = false

    func validate() throws {
        guard margin >= 0 && margin < 100 else {
            throw ValidationError("--margin must be in [0, 100) points")
        }
        guard (1...10_000).contains(budget) else {
            throw ValidationError("--budget must be in 1...10000")
        }
        guard !rhos.values.isEmpty, rhos.values.allSatisfy({ $0 > 0 && $0 <= 1 }) else {
            throw ValidationError("--rhos must be in (0, 1]")
        }
        guard policy.policy != nil else { throw ValidationError("--policy is required") }
    }

    /// Every (layer, type) of the model's reducible matrices except the head, in model order.
    static func defaultAddresses(_ model: any PolicyNetwork) -> [(LayerSelector, String)] {
        var seen = Set<String>()
        return model.reducibleMatrices.compactMap { info in
            guard info.type != "head", seen.insert("\(info.layer):\(info.type)").inserted else {
                return nil
            }
            return (.index(info.layer), info.type)
        }
    }

    func parsedAddresses(_ model: any PolicyNetwork) throws -> [(
        layer: LayerSelector, type: String
    )] {
        guard let addresses else { return Self.defaultAddresses(model).map { ($0.0, $0.1) } }
        return try addresses.values.map { text in
            let intervention: Intervention
            do { intervention = try Intervention(parsing: text + ":1") } catch {
                throw CLIError("--addresses: '\(text)' is not LAYER:TYPE (\(error))")
            }
            do { _ = try intervention.targets(in: model) } catch {
                throw CLIError("--addresses: \(text): \(error)")
            }
            return (intervention.layer, intervention.type)
        }
    }

    func run() throws {
        let path = policy.policy!
        guard !FileManager.default.fileExists(atPath: out) || out != path else {
            throw CLIError("--out must not be the parent checkpoint \(path)")
        }
        let loaded = try loadPolicy(path)
        let model = loaded.model
        let validation = try loadLevels(policy.levels, limit: policy.limit)
        let testSet = try loadLevels(policy.test, limit: policy.testLimit)
        var options = EvaluationOptions()
        threading.applyForPlaying()
        options.workers = PolicyThreads.workers
        options.environment.maxSteps = policy.maxSteps
        options.symmetryAveraging = policy.averageSymmetries
        let plan = try ShrinkPlan(
            addresses: try parsedAddresses(model), rhos: rhos.values, margin: margin / 100,
            budget: budget, metric: "solve_rate")
        let logPath = results ?? ((out as NSString).deletingPathExtension + ".shrink.jsonl")
        let folder = (logPath as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true)
        }
        let store = try ResultStore(
            path: logPath,
            setup: try policy.setup(path: path, validation: validation, testSet: testSet))
        let outcome = try shrink(model, plan: plan, store: store, options: options) {
            $0 == .validation ? validation : testSet
        }
        if !outcome.interventions.isEmpty {
            var metadata: [String: String] = [:]
            metadata["reduced_from"] = loaded.metadata["reduced_from"] ?? path
            metadata["interventions"] =
                ((loaded.metadata["interventions"].map { [$0] } ?? [])
                + outcome.interventions.map(\.description)).joined(separator: ",")
            metadata["laser.shrink"] = try jsonText(Record(outcome, plan: plan), pretty: false)
            try PolicyCheckpoint.save(
                model: model, to: out, step: loaded.step, dataSeed: loaded.dataSeed,
                metadata: metadata, factored: true)
        }
        if json {
            print(try jsonText(Record(outcome, plan: plan)))
            return
        }
        print(Self.describe(outcome, plan: plan, out: out))
    }

    /// Runs the search on `model` (left holding the kept composition, factored).
    private func shrink<Model: PolicyNetwork>(
        _ model: Model, plan: ShrinkPlan, store: ResultStore, options: EvaluationOptions,
        levels: @escaping (Split) throws -> [Level]
    ) throws -> ShrinkOutcome {
        let search = Search(
            reducer: Reducer(model: model), objective: Objective(metric: "solve_rate"),
            store: store
        ) { context in
            let (outcomes, summary) = try Evaluator.evaluate(
                model: model, levels: try levels(context.split), options: options)
            return Evaluation(
                metrics: summary.metrics,
                items: ["solve_rate": outcomes.map { $0.greedySolved ? 1 : 0 }])
        }
        let bar = ProgressBar(label: "shrink", total: plan.budget)
        search.progress = { done, _, record in
            bar.update(done, status: record.interventions.joined(separator: ","))
        }
        let outcome = try search.shrink(plan)
        try search.reducer.restoreAll()
        if !outcome.interventions.isEmpty { try search.reducer.apply(outcome.interventions) }
        return outcome
    }

    static func describe(_ outcome: ShrinkOutcome, plan: ShrinkPlan, out: String) -> String {
        var lines = [
            "tried \(outcome.trials.count) configuration\(outcome.trials.count == 1 ? "" : "s") on validation (budget \(plan.budget)\(outcome.budgetExhausted ? ", exhausted" : "")), margin \(Intervention.format(plan.margin * 100)) points:"
        ]
        for trial in outcome.trials {
            lines.append(
                "  \(trial.kept ? "kept" : "    ") \(trial.interventions.map(\.description).joined(separator: ",")): \(trial.test.summary)"
            )
        }
        guard let test = outcome.test else {
            lines.append("no reduction is non-inferior on validation; nothing written")
            return lines.joined(separator: "\n")
        }
        lines.append(
            "kept \(outcome.interventions.map(\.description).joined(separator: ",")): reduced matrices \(outcome.parametersBefore) → \(outcome.parametersAfter) parameters"
        )
        lines.append("on test: \(test.summary)")
        lines.append("wrote \(out)")
        return lines.joined(separator: "\n")
    }

    /// The outcome as JSON (also stored in the checkpoint's `laser.shrink`).
    struct Record: Encodable {
        struct Trial: Encodable {
            let interventions: [String]
            let parameters: Int
            let nonInferiority: NonInferiority
            let kept: Bool
            enum CodingKeys: String, CodingKey {
                case interventions, parameters, kept
                case nonInferiority = "non_inferiority"
            }
        }
        let margin: Double
        let budget: Int
        let configurationsTried: Int
        let interventions: [String]
        let parametersBefore: Int
        let parametersAfter: Int
        let validation: NonInferiority?
        let test: NonInferiority?
        let trials: [Trial]

        enum CodingKeys: String, CodingKey {
            case margin, budget, interventions, validation, test, trials
            case configurationsTried = "configurations_tried"
            case parametersBefore = "parameters_before"
            case parametersAfter = "parameters_after"
        }

        init(_ o: ShrinkOutcome, plan: ShrinkPlan) {
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
}
