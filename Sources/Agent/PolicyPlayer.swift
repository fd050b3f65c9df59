// A policy playing one level step by step, keeping a `Game` beside the environment so front ends
// (`laser watch`) can draw each position and the action probabilities behind it.
import Core
import Foundation
import LinearAlgebra
import Policy
import Sokoban

/// One episode of a policy on a level.
public struct PolicyPlayer {
    public let model: any PolicyNetwork
    /// The position as the player and renderer see it.
    public private(set) var game: Game
    private var environment: SokobanEnvironment
    private let context: PolicyContext
    private var random: SplitMix64
    /// Play the 8-view symmetry-averaged policy (`SymmetryAveraging`).
    public let symmetryAveraging: Bool
    /// Positions seen so far (`BatchedEnvironment.positionHash`).
    private var visited: Set<UInt64> = []
    /// Whether the last step came back to a position seen before: from there a greedy player
    /// only goes round the same cycle.
    public private(set) var repeated = false
    /// Whether the last step ended the episode (solved or out of steps).
    public private(set) var done = false
    public private(set) var solved = false
    /// A sequence policy's history of this episode (nil for a policy of the board alone).
    private var history: DecisionHistory?

    public init(
        model: any PolicyNetwork, level: Level, config: EnvironmentConfig = EnvironmentConfig(),
        seed: UInt64 = 0,
        symmetryAveraging: Bool = false
    ) throws {
        guard level.width <= AgentGeometry.boardSize && level.height <= AgentGeometry.boardSize
        else {
            throw AgentError.invalidSetting(
                "level is \(level.width)×\(level.height); the policy plays boards up to 10×10")
        }
        self.model = model
        game = Game(level: level)
        environment = SokobanEnvironment(
            config: try AgentGeometry.environment(for: model, config))
        try environment.reset(level: level)
        self.symmetryAveraging = symmetryAveraging
        if let sequence = model as? any SequencePolicy {
            guard !symmetryAveraging else {
                throw AgentError.invalidSetting(
                    "symmetry averaging is for one-board policies; a \(model.architectureName) reads a history"
                )
            }
            history = DecisionHistory(
                layout: sequence.inputLayout, targetReturn: sequence.targetReturn)
        }
        context = model.makeContext(batchCapacity: symmetryAveraging ? SymmetryAveraging.views : 1)
        random = SplitMix64(seed: seed)
        visited.insert(environment.positionHash)
    }

    /// The policy's action probabilities (up, down, left, right) and value in the current position.
    public func evaluate() throws -> (probabilities: [Float], value: Float) {
        guard symmetryAveraging else {
            try forwardNetwork()
            return (context.probabilities(sample: 0), context.value(sample: 0))
        }
        var scratch = SymmetryAveraging.Scratch()
        var logits: [Float] = []
        var values: [Float] = []
        try SymmetryAveraging.forward(
            model, context: context, observations: environment.observation, batch: 1,
            planeCount: environment.planeCount, scratch: &scratch, logits: &logits, values: &values)
        return (logits.map { expf($0) }, values[0])
    }

    /// The network's action logits in the current position (the network alone, without symmetry
    /// averaging).
    public func logits() throws -> [Float] {
        try forwardNetwork()
        return context.logits(sample: 0)
    }

    /// One forward pass of the network on the current position (with its history, if it reads
    /// one).
    private func forwardNetwork() throws {
        if var history {
            var input = [Float](repeating: 0, count: history.layout.floatCount)
            environment.observation.withUnsafeBufferPointer { history.observe($0.baseAddress!) }
            input.withUnsafeMutableBufferPointer { history.write(into: $0.baseAddress!) }
            try context.setObservations(input, batch: 1)
        } else {
            try context.setObservations(environment.observation, batch: 1)
        }
        model.forward(context, batch: 1)
    }

    /// Takes the greedy action (or a sampled one) and returns it.
    @discardableResult
    public mutating func step(sample: Bool = false) throws -> Direction {
        let (probabilities, _) = try evaluate()
        var action = 0
        if sample {
            var u = Float(random.nextUnit())
            action = probabilities.count - 1
            for (i, p) in probabilities.enumerated() {
                u -= p
                if u < 0 {
                    action = i
                    break
                }
            }
        } else {
            for i in 1..<probabilities.count where probabilities[i] > probabilities[action] {
                action = i
            }
        }
        let direction = Direction(rawValue: action)!
        step(direction)
        return direction
    }

    /// Takes `direction`, whatever the policy would choose (to replay another player's episode).
    public mutating func step(_ direction: Direction) {
        let action = direction.rawValue
        if history != nil {
            environment.observation.withUnsafeBufferPointer { history!.observe($0.baseAddress!) }
        }
        let result = environment.step(action)
        history?.acted(action, reward: result.reward)
        _ = game.step(direction)
        done = result.done
        solved = result.solved
        // A sequence policy's return-to-go and timestep differ the second time round: no cycle.
        repeated = !visited.insert(environment.positionHash).inserted && history == nil
    }

    public var steps: Int { environment.stepCount }
}
