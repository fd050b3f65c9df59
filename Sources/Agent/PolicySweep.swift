// A LASER sweep over a Sokoban policy: the objective (greedy solve rate, level by level), the
// grid's default types and layers, what its results depend on, the chosen reduction's side
// effect on the action distributions, and the validation loss's gradient for `--candidates`.
import Core
import Laser
import Policy
import Sokoban
import Synchronization

public struct PolicySweep {
    public let model: any PolicyNetwork
    public let validation: [Level]
    public let test: [Level]
    public let options: EvaluationOptions

    public init(
        model: any PolicyNetwork, validation: [Level], test: [Level], options: EvaluationOptions
    ) {
        self.model = model
        self.validation = validation
        self.test = test
        self.options = options
    }

    /// The matrix types swept when none are named: a conv policy's convolutions, a
    /// transformer's attention and MLP matrices.
    public var defaultTypes: [String] {
        model.architectureName == "conv" ? ["conv"] : ["attn", "mlp"]
    }

    /// The layers where every one of `types` has a matrix (what `--layers all` means: a
    /// policy's head layer has no conv or attention matrices, and a grid point matching nothing
    /// is an error).
    public func layers(having types: [String]) -> [Int] {
        model.layerIndices.filter { layer in
            layer >= 0
                && types.allSatisfy { type in
                    (try? Intervention(layer: .index(layer), type: type, rho: 0.5).targets(
                        in: model)) != nil
                }
        }
    }

    /// What the results depend on: the checkpoint's bytes, the level files and how many of their
    /// levels, the step limit, and symmetry averaging (named only when on, so older logs match).
    public func setup(policy: String, validationFile: String, testFile: String) throws -> String {
        "policy \(try FileFingerprint.of(path: policy)); validation \(try FileFingerprint.of(path: validationFile)) first \(validation.count); test \(try FileFingerprint.of(path: testFile)) first \(test.count); max steps \(options.environment.maxSteps)\(options.symmetryAveraging ? "; 8-view symmetry averaging" : "")"
    }

    /// The greedy solve rate on the context's split, with each level's outcome for the paired
    /// statistics.
    public func evaluate(_ context: EvaluationContext) throws -> Evaluation {
        let (outcomes, summary) = try Evaluator.evaluate(
            model: model, levels: context.split == .validation ? validation : test,
            options: options)
        return Evaluation(
            metrics: summary.metrics,
            items: ["solve_rate": outcomes.map { $0.greedySolved ? 1 : 0 }])
    }

    /// The chosen reduction's effect on the network's action distributions over the positions
    /// the unreduced network visits playing the test levels greedily.
    public func actionShift() -> SideEffectMeasure {
        let baseline = Mutex<ActionShiftBaseline?>(nil)
        let (model, test, options) = (model, test, options)
        return SideEffectMeasure(
            baseline: {
                let recorded = try ActionShiftBaseline.record(
                    model: model, levels: test, config: options.environment,
                    workers: options.workers)
                baseline.withLock { $0 = recorded }
            },
            measure: { interventions in
                let recorded = baseline.withLock { $0 }!
                let shift =
                    interventions.isEmpty
                    ? nil : try recorded.compare(with: model, workers: options.workers)
                return SideEffects(
                    data:
                        "the \(recorded.positions) positions of the unreduced network's greedy episodes on the \(test.count) test levels (the network alone)",
                    interventions: interventions.map(\.description),
                    metrics: ["positions": Double(recorded.positions)], shift: shift)
            })
    }

    /// The validation loss's gradient per matrix, from the solver-labelled positions of the
    /// first `levels` validation levels.
    public func gradients(levels: Int) throws -> PolicyGradient.Probe {
        try PolicyGradient.matrixGradients(
            model: model, levels: Array(validation.prefix(levels)), workers: options.workers)
    }
}
