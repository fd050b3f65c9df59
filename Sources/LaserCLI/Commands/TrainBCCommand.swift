// `laser train bc`: behavior cloning on solver demonstrations (with DAgger), through the Agent
// module's BehaviorCloningRun.
import Agent
import ArgumentParser
import Core
import Foundation
import Laser
import LinearAlgebra
import Policy
import Sokoban

struct TrainBC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bc",
        abstract:
            "Behavior cloning of the solver (optionally with DAgger): action-set cross-entropy plus value regression.",
        discussion: """
            Levels are generated from --data-seed and solved (cached in --cache, so a rerun reuses them), their solutions replayed into (board, action set, return-to-go) samples. The action set holds every action as good as the solver's: each first step of a shortest walk to the next push, since the solver's own pick among equally short walks is arbitrary. The loss is −log P(action set) plus the value MSE. The last --held-out levels are never trained on and give the held-out accuracy (argmax inside the set) and greedy solve rate printed every --eval-every steps, when the checkpoint (with optimizer state) is saved. Batches are augmented with the board's 8 symmetries. Rerunning with --resume continues from --out exactly where it stopped.

            With --dagger-every N (DAgger, the solver as the expert), every N steps the policy plays --dagger-levels training levels greedily; each distinct position of an unsolved episode, up to the first deadlock, is solved and added as a sample labelled with its optimal action set from the solver's solution. The collected positions are saved beside --out (--dagger-states) so --resume keeps them.
            """)

    @OptionGroup var architecture: ArchitectureOptions
    @OptionGroup var demonstrations: DemonstrationOptions
    @OptionGroup var threading: ThreadOptions
    @Option(help: "Checkpoint to write (safetensors).") var out = "out/policy-bc.safetensors"
    @Option(
        name: .customLong("init"),
        help:
            "Start from this checkpoint's weights (fresh optimizer and step count; the architecture options are ignored unless --grow)."
    )
    var initial: String?
    @Flag(
        help:
            "With --init (conv): enlarge the checkpoint to --channels/--blocks computing the same policy (new blocks start as identities, new channels unread), then train."
    )
    var grow = false
    @Option(
        help:
            "Copy the new network's conv trunk (stem and residual blocks; a transformer with --conv-channels/--conv-blocks) from this checkpoint's same-named tensors, e.g. a trained conv policy's first blocks."
    )
    var trunkFrom: String?
    @Option(help: "Levels held out of training for evaluation.") var heldOut = 200
    @Option(help: "Optimizer steps (the learning-rate schedule's length).") var steps =
        BehaviorCloningConfig().steps
    @Option(
        help:
            "Stop after this step (checkpoint written) without shortening the schedule; --resume continues."
    )
    var until: Int?
    @Option(help: "Samples per step.") var batch = BehaviorCloningConfig().batchSize
    @Option(help: "Peak learning rate.") var lr = BehaviorCloningConfig().learningRate
    @Option(help: "Steps between held-out evaluations and checkpoints.") var evalEvery =
        BehaviorCloningConfig().evaluateEvery
    @Option(help: "Held-out levels played greedily at each evaluation.") var solveLevels =
        BehaviorCloningConfig().solveLevels
    @Option(help: "Seed of the initial weights and batch sampling.") var seed: UInt64 = 1
    @Option(help: "Append a JSON line per evaluation to this file.") var log: String?
    /// Earlier releases' name for --blas-threads.
    @Option(help: .hidden) var threads: Int?
    @Flag(help: "Continue from --out if it exists (weights, optimizer state and step).")
    var resume = false
    @Flag(
        help: "Replace an existing --out with a new run (without this or --resume it is refused).")
    var overwrite = false
    @Flag(help: "Do not augment with board symmetries.") var noAugment = false
    @Option(
        help:
            "Distill this checkpoint's symmetry-averaged policy (eight views per position, computed once per sample) into the network, beside the solver's action sets."
    )
    var teacher: String?
    @Option(
        help:
            "With --teacher: weight of the cross-entropy against the teacher's probabilities in the policy loss (the action sets get the rest)."
    )
    var distillationWeight = BehaviorCloningConfig().distillationWeight
    @OptionGroup(title: "DAgger") var dagger: DAggerOptions

    func run() throws {
        threading.apply(blas: threads)
        let config = makeConfig()
        // Everything that can be checked is checked before the demonstrations are generated.
        try checkWritable(out, option: "--out")
        if let log { try checkWritable(log, option: "--log") }
        if dagger.daggerEvery > 0 { try checkWritable(daggerPath, option: "--dagger-states") }
        if demonstrations.demos == nil {
            try checkWritable(demonstrations.cachePath, option: "--cache")
        }
        // Held from here: a refused run (an existing --out, another run on it) costs nothing.
        let output = try RunOutput(checkpoint: out, resume: resume, overwrite: overwrite)
        let start = try network()
        for note in start.notes { stderrLine("bc: " + note) }
        let distilled = try teacher.map { path in (network: try loadPolicy(path).model, path: path)
        }
        if let path = dagger.daggerImport { _ = try readCollection(path) }
        let levels = try demonstrations.load()
        let files = BehaviorCloningRun.Files(
            checkpoint: out, log: log, daggerStates: dagger.daggerStates,
            daggerImport: dagger.daggerImport,
            demonstrations: demonstrations.demos ?? demonstrations.cachePath)
        if let teacher {
            stderrLine(
                "bc: distilling \(teacher)'s symmetry-averaged policy (weight \(distillationWeight))"
            )
        }
        // Eight forward passes per sample: minutes on the full data, so it gets a bar.
        var teacherBar: ProgressBar?
        let run = try BehaviorCloningRun(
            network: start.network, levels: levels, heldOutLevels: heldOut, config: config,
            files: files, output: output, initial: start.initial,
            dataSeed: demonstrations.demos == nil ? demonstrations.dataSeed : nil,
            teacher: distilled, lineage: start.lineage,
            teacherProgress: { done, total in
                if done == 0 { teacherBar = ProgressBar(label: "teacher targets", total: total) }
                teacherBar?.update(done)
            })
        let trainer = run.trainer
        if run.resumed { stderrLine("resuming \(out) at step \(trainer.step)") }
        if !trainer.rankConstraints.isEmpty {
            stderrLine(
                "bc: training the rank-reduced network: \(trainer.rankConstraints.count) matrices held at their ranks (\(trainer.rankConstraints.map { "\($0.name) \($0.rank)" }.joined(separator: ", ")))"
            )
        }
        let model = trainer.model
        let training = run.training
        stderrLine(
            "bc: \(model.architectureName) policy, \(model.storedParameterCount) parameters; \(levels.count) levels (\(heldOut) held out), \(training.trainingSampleCount) training samples (\(training.collectedStates.count) from DAgger, \(training.importedCount) imported)"
        )
        // The bar counts this run's steps, so a resumed run's rate and ETA are its own.
        let firstStep = trainer.step
        let stop = min(steps, until ?? steps)
        let bar = ProgressBar(label: "bc \(firstStep)→\(stop)", total: max(1, stop - firstStep))
        var recent = 0.0
        let started = Date()
        try run.run(until: until) { event in
            if case .step(let step, let r) = event {
                recent = recent == 0 ? r.policyLoss : 0.98 * recent + 0.02 * r.policyLoss
                bar.update(
                    step - firstStep, status: String(format: "step %d  loss %.3f", step, recent))
            }
            if let line = event.line { stderrLine(line) }
        }
        stderrLine(
            String(
                format: "bc: done in %.0fs; wrote %@", Date().timeIntervalSince(started), out))
    }
}
