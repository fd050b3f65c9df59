// How a Decision Transformer's input packs its last K steps into observation planes, so that it
// travels through the same contexts, batches and trainers as a one-board policy's input.

/// The layout of one sample of a sequence policy's input: K steps, oldest first, each the state's
/// observation planes followed by one side plane holding that step's return-to-go, the action
/// taken from it (none for the current step), whether the step exists (early in an episode the
/// oldest steps are padding) and its timestep.
public struct DecisionInputLayout: Sendable, Equatable {
    /// Steps of context (K).
    public let steps: Int
    /// Observation planes per state.
    public let statePlanes: Int

    public init(steps: Int, statePlanes: Int) {
        self.steps = steps
        self.statePlanes = statePlanes
    }

    /// Planes per step: the state's and the side plane.
    public var planesPerStep: Int { statePlanes + 1 }
    /// Planes per sample.
    public var planeCount: Int { steps * planesPerStep }
    /// Floats per sample.
    public var floatCount: Int { planeCount * PolicyGeometry.cells }
    /// Floats per step.
    var stepFloats: Int { planesPerStep * PolicyGeometry.cells }

    /// Cells of the side plane.
    static let returnCell = 0
    static let actionCell = 1  // 1...4: the action one-hot
    static let presentCell = 5
    static let timestepCell = 6

    /// Returns are fed scaled by this (gym-sokoban's returns run from about −12 to 14).
    public static let returnScale: Float = 0.1

    /// Where step `k` (0 is the oldest, `steps − 1` the current one) of the sample at `sample`
    /// keeps its state's planes (statePlanes × 100 floats, written by the caller).
    public func state(step k: Int, in sample: UnsafeMutablePointer<Float>)
        -> UnsafeMutablePointer<Float>
    {
        sample + k * stepFloats
    }

    /// Writes step `k`'s side plane: its return-to-go, the action taken from it (nil for the
    /// current step) and its timestep in the episode.
    public func writeSide(
        step k: Int, into sample: UnsafeMutablePointer<Float>, returnToGo: Float, action: Int?,
        timestep: Int
    ) {
        let side = sample + k * stepFloats + statePlanes * PolicyGeometry.cells
        side.update(repeating: 0, count: PolicyGeometry.cells)
        side[Self.returnCell] = returnToGo * Self.returnScale
        if let action { side[Self.actionCell + action] = 1 }
        side[Self.presentCell] = 1
        side[Self.timestepCell] = Float(timestep)
    }

    /// Writes step `k` as padding (before the episode began).
    public func writePadding(step k: Int, into sample: UnsafeMutablePointer<Float>) {
        (sample + k * stepFloats).update(repeating: 0, count: stepFloats)
    }
}

/// A network that reads K steps of history (`DecisionInputLayout`) rather than one board.
public protocol SequencePolicy: PolicyNetwork {
    var inputLayout: DecisionInputLayout { get }
    /// The return-to-go it is conditioned on at an episode's first step.
    var targetReturn: Float { get }
}
