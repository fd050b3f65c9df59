// One episode's history as a sequence policy reads it: the last K states, the return still to
// collect at each (starting from the target return and lowered by every reward received), and the
// actions taken. The evaluator, the player and the watcher keep one per episode.
import Policy

/// The last K steps of one episode, written as a `DecisionInputLayout` sample.
public struct DecisionHistory: Sendable {
    public let layout: DecisionInputLayout
    private var states: [Float]
    private var returns: [Float]
    private var actions: [Int]
    /// Steps taken so far (the current step's index in the episode).
    public private(set) var length = 0
    /// The return still to collect from the current state.
    public private(set) var returnToGo: Float
    private var observed = false

    public init(layout: DecisionInputLayout, targetReturn: Float) {
        self.layout = layout
        states = [Float](
            repeating: 0, count: layout.steps * layout.statePlanes * AgentGeometry.cells)
        returns = [Float](repeating: 0, count: layout.steps)
        actions = [Int](repeating: 0, count: layout.steps)
        returnToGo = targetReturn
    }

    /// Starts a new episode conditioned on `targetReturn`.
    public mutating func reset(targetReturn: Float) {
        length = 0
        returnToGo = targetReturn
        observed = false
    }

    private var stateFloats: Int { layout.statePlanes * AgentGeometry.cells }

    /// Records the current state: its first `statePlanes` observation planes.
    public mutating func observe(_ observation: UnsafePointer<Float>) {
        let slot = length % layout.steps
        let floats = stateFloats
        states.withUnsafeMutableBufferPointer {
            ($0.baseAddress! + slot * floats).update(from: observation, count: floats)
        }
        returns[slot] = returnToGo
        observed = true
    }

    /// Records the action taken from the current state and the reward it gave.
    public mutating func acted(_ action: Int, reward: Float) {
        precondition(observed, "a step must be observed before it is acted on")
        actions[length % layout.steps] = action
        returnToGo -= reward
        length += 1
        observed = false
    }

    /// Writes the sample: the last K steps, the current (observed) one last.
    public func write(into sample: UnsafeMutablePointer<Float>) {
        precondition(observed, "the current step must be observed before it is written")
        let k = layout.steps
        states.withUnsafeBufferPointer { stored in
            for step in 0..<k {
                let index = length - (k - 1) + step
                guard index >= 0 else {
                    layout.writePadding(step: step, into: sample)
                    continue
                }
                let slot = index % k
                layout.state(step: step, in: sample).update(
                    from: stored.baseAddress! + slot * stateFloats, count: stateFloats)
                layout.writeSide(
                    step: step, into: sample, returnToGo: returns[slot],
                    action: index < length ? actions[slot] : nil, timestep: index)
            }
        }
    }
}
