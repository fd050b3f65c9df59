// `laser sweep`: LASER over a grid of (layer, type, ρ), chosen on validation and reported on test,
// for whichever model is given (a Sokoban policy with --policy).
import Agent
import ArgumentParser
import Core
import Foundation
import Laser
import LinearAlgebra
import Policy
import Sokoban
import Synchronization

/// The options of a sweep over a Sokoban policy; the objective is the greedy solve rate.
struct PolicySweepOptions: ParsableArguments {
    @Option(help: "Sokoban policy checkpoint to sweep (safetensors).") var policy: String?
    @Option(help: "Validation levels: the best intervention is chosen on these.")
    var levels = "levels/valid-10x10-4.xsb"
    @Option(
        help: "Test levels: the chosen intervention and the unreduced policy are reported on these."
    )
    var test = "levels/test-10x10-4.xsb"
    @Option(help: "Use only the first N validation levels.") var limit: Int?
    @Option(help: "Use only the first N test levels.") var testLimit: Int?
    @Option(help: "Step limit per episode.") var maxSteps = 120
    @Flag(help: "Play the 8-view symmetry-averaged policy (8 forward passes per step).")
    var averageSymmetries = false
    @Option(
        help:
            "With --candidates gradient: validation levels whose solver-labelled positions give the loss's gradient."
    )
    var gradientLevels = 100

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be positive") }
        if let testLimit, testLimit < 1 { throw ValidationError("--test-limit must be positive") }
        guard gradientLevels >= 1 else {
            throw ValidationError("--gradient-levels must be positive")
        }
        guard (1...10000).contains(maxSteps) else {
            throw ValidationError("--max-steps must be in 1...10000")
        }
    }

    /// The sweep these options describe on `model`.
    func policySweep(_ model: any PolicyNetwork) throws -> PolicySweep {
        var options = EvaluationOptions()
        options.workers = PolicyThreads.workers
        options.environment.maxSteps = maxSteps
        options.symmetryAveraging = averageSymmetries
        return PolicySweep(
            model: model, validation: try loadLevels(levels, limit: limit),
            test: try loadLevels(test, limit: testLimit), options: options)
    }

    /// What the results depend on (the policy file, the level files and their counts, ...).
    func setup(_ sweep: PolicySweep, path: String) throws -> String {
        try sweep.setup(policy: path, validationFile: levels, testFile: test)
    }

    func run(policy path: String, sweep options: SweepOptions) throws {
        let sweep = try policySweep(try loadPolicy(path).model)
        let model = sweep.model
        var grid = options
        // `--layers all`: the layers where every swept type has a matrix.
        if grid.layers == .all {
            let types = grid.types?.values ?? sweep.defaultTypes
            let layers = sweep.layers(having: types)
            guard !layers.isEmpty else {
                throw CLIError(
                    "no layer has every type in --types \(types.joined(separator: ",")); give --layers"
                )
            }
            grid.layers = .list(layers)
        }
        try runSweep(
            model: model, options: grid, defaultTypes: sweep.defaultTypes,
            objective: Objective(metric: "solve_rate"),
            reportMetrics: ["solve_rate", "mean_steps"],
            label:
                "sweep of \(model.architectureName) policy \(path) (\(sweep.validation.count) validation, \(sweep.test.count) test levels)",
            setup: try setup(sweep, path: path), sideEffects: sweep.actionShift(),
            gradients: {
                let probe = try sweep.gradients(levels: gradientLevels)
                stderrLine(
                    String(
                        format:
                            "gradient of the validation loss: %d positions of %d solved levels (of the first %d validation levels), loss %.4f",
                        probe.positions, probe.levelsSolved, probe.levels, probe.loss))
                return probe.gradients
            }, evaluate: sweep.evaluate)
    }
}

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Sweep LASER rank reductions over a model's layers, types and ρ.",
        discussion: """
            Every grid point (one layer, one matrix type, one ρ = fraction of rank kept) is evaluated on the validation set; the best is reported on the test set beside the unreduced model (with --compose, also a greedy composition from the last layer down). Results go to a resumable JSONL log: rerun the same command to continue, or split the grid with --shard i/n and join the logs with `laser merge-results`.

            Sokoban policies: --policy CKPT --levels VALID --test TEST; the metric is the greedy solve rate.

            The language model: --model GGUF (default: the cached SmolLM2, see `laser fetch-model`) --dataset FILE (default: data/qa/known_facts.json, ROME's known facts); the first --validation-fraction of the items (20%, as in the paper) choose, the rest report. Objectives top1, topk and mean_logprob are scored teacher-forced in packed batches, restarting at the lowest reduced layer from the unreduced model's recorded activations; generation_match runs greedy generation (slower). Example:
              laser sweep --dataset ../shared/data/qa/known_facts_dev.json --layers 20-29 \\
                --types fc_in,fc_up,fc_out --rhos 0.5,0.1,0.01

            Results name each grid point in the notation every command shares:
            """ + "\n" + InterventionHelp.text)

    @OptionGroup(title: "Sokoban policy") var policy: PolicySweepOptions
    @OptionGroup(title: "Language model") var text: TextSweepOptions
    @OptionGroup(title: "Sweep") var sweep: SweepOptions
    @OptionGroup(title: "Threads") var threading: ThreadOptions

    func run() throws {
        switch (policy.policy, text.isRequested) {
        case (let path?, false):
            threading.applyForPlaying()
            try policy.run(policy: path, sweep: sweep)
        case (nil, true):
            threading.apply()
            try text.run(sweep: sweep, workers: text.threads ?? threading.count)
        case (.some, true):
            throw CLIError(
                "give either --policy (a Sokoban policy) or --model/--dataset (the language model), not both"
            )
        case (nil, false):
            throw CLIError(
                "nothing to sweep: give --policy CKPT, or --model GGUF and/or --dataset FILE")
        }
    }
}
