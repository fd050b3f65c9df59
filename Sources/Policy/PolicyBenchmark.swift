// Throughput of training steps and batched inference, for `laser bench policy` and size choices.
import Core
import Foundation
import LinearAlgebra

/// One measured row: an architecture, a mode (`train` or `infer`) and a batch size.
public struct PolicyBenchmarkRow: Codable, Sendable {
    public let architecture: String
    public let mode: String
    public let batch: Int
    public let samplesPerSecond: Double
    public let iterations: Int
    public let parameters: Int
}

public enum PolicyBenchmark {
    /// Measures `model` at each batch size: when `infer`, inference (forward only), and when
    /// `train`, full training steps (forward, cross-entropy + value loss, backward, clipping, AdamW). Each row
    /// runs for at least `seconds` after two warm-up iterations.
    public static func run(
        model: any PolicyNetwork, batches: [Int], seconds: Double, infer: Bool = true,
        train: Bool = true, seed: UInt64 = 1, label: String? = nil
    ) throws -> [PolicyBenchmarkRow] {
        var rows: [PolicyBenchmarkRow] = []
        var rng = SplitMix64(seed: seed)
        for batch in batches {
            let count = batch * model.planeCount * PolicyGeometry.cells
            var observations = [Float](repeating: 0, count: count)
            for i in stride(from: 0, to: count, by: model.planeCount) {
                observations[i + Int(rng.next() % UInt64(model.planeCount))] = 1
            }
            let context = model.makeContext(batchCapacity: batch)
            try context.setObservations(observations, batch: batch)
            if infer {
                let forward = measure(seconds: seconds) { model.forward(context, batch: batch) }
                rows.append(
                    PolicyBenchmarkRow(
                        architecture: label ?? model.architectureName, mode: "infer",
                        batch: batch, samplesPerSecond: Double(batch) / forward.seconds,
                        iterations: forward.iterations, parameters: model.storedParameterCount))
            }
            guard train else { continue }
            // A copy so the benchmark's updates never touch the caller's weights.
            let copy = try PolicyCheckpoint.makeModel(
                architecture: model.architectureName, hyperparameters: model.hyperparameters,
                seed: seed)
            var config = OptimizerConfig()
            config.warmupSteps = 0
            let trainer = try PolicyTrainer(model: copy, config: config, batchCapacity: batch)
            let actions = (0..<batch).map { _ in Int(rng.next() % 4) }
            let targets = (0..<batch).map { _ in Float(rng.nextUnit()) }
            var failure: Error?
            let step = measure(seconds: seconds) {
                do {
                    _ = try trainer.supervisedStep(
                        observations: observations, actions: actions, valueTargets: targets)
                } catch { failure = error }
            }
            if let failure { throw failure }
            rows.append(
                PolicyBenchmarkRow(
                    architecture: label ?? model.architectureName, mode: "train", batch: batch,
                    samplesPerSecond: Double(batch) / step.seconds, iterations: step.iterations,
                    parameters: model.parameters.parameterCount))
        }
        return rows
    }

    /// Seconds per call of `body`, after two warm-up calls, over at least `seconds` and 3 calls.
    static func measure(seconds: Double, _ body: () -> Void) -> (seconds: Double, iterations: Int) {
        body()
        body()
        let clock = ContinuousClock()
        let start = clock.now
        var iterations = 0
        var elapsed = 0.0
        repeat {
            body()
            iterations += 1
            elapsed = (clock.now - start).inSeconds
        } while elapsed < seconds || iterations < 3
        return (elapsed / Double(iterations), iterations)
    }
}
