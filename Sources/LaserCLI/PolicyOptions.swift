// What every policy command shares: loading a checkpoint and a level file with one-line errors,
// and the evaluation flags of `eval` and `sweep --policy`.
import Agent
import ArgumentParser
import Foundation
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
