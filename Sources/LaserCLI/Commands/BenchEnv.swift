// `laser bench env`: environment steps per second, single and batched, printed as JSON.

import ArgumentParser
import Core
import Foundation
import LinearAlgebra
import Sokoban

struct BenchEnv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Measure Sokoban environment steps per second (single-threaded and batched).",
        discussion: """
            Random actions (pre-drawn from --seed) are played on the levels of FILE in turn; an episode that ends (solved or at the step limit) resets to the next level, and resets are timed too. Every step keeps the observation planes the policy reads up to date in place (a step rewrites at most three squares). `single` and `batched` time that; `singleWithObservation` and `batchedWithObservation` also copy each step's full observation out, as gym-sokoban and jumanji return one from every step: the like-for-like figure. Prints one JSON object. scripts/bench-env.sh runs gym-sokoban and jumanji on the same levels for comparison.
            """)

    @Argument(help: "Levels to play (10x10 or smaller, e.g. a Boxoban file).") var file: String
    @Option(name: .long, help: "Steps for the single environment.") var steps = 2_000_000
    @Option(name: .long, help: "Environments in the batch.") var batch = 64
    @Option(name: .long, help: "Batched steps per environment.") var batchSteps = 50_000
    @Option(name: .long, help: "Seed of the random actions.") var seed: UInt64 = 0

    func validate() throws {
        if steps < 1 || batch < 1 || batchSteps < 1 {
            throw ValidationError("--steps, --batch and --batch-steps must be positive")
        }
        if steps > 1_000_000_000 || batch > 100_000 || batch * batchSteps > 2_000_000_000 {
            throw ValidationError("the run is too large")
        }
    }

    func run() throws {
        let levels = try readCollection(file).levels
        var benchmark = EnvironmentBenchmark()
        benchmark.steps = steps
        benchmark.batch = batch
        benchmark.batchSteps = batchSteps
        benchmark.seed = seed
        let report = try benchmark.run(levels: levels, name: file)
        print(try jsonText(report, pretty: false))
    }
}
