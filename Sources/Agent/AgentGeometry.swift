// The board geometry the agent joins between the environment (Sokoban) and the networks (Policy).
import Policy
import Sokoban

/// Sizes shared by the environment and the networks.
public enum AgentGeometry {
    /// Boards are 10×10 (smaller levels padded with wall by the environment).
    public static let boardSize = PolicyGeometry.boardSize
    /// Cells on the board.
    public static let cells = boardSize * boardSize
    /// Observation planes per cell (the environment's seven one-hot planes, its default encoding).
    public static let planeCount = ObservationEncoding.oneHot.planeCount
    /// Floats in one observation.
    public static let observationCount = planeCount * cells
    /// Set in a cell code when the cell is on the player's trail (`EnvironmentConfig.trail`).
    static let trailCode: UInt8 = 0x80

    /// The environment a policy plays in: `config` with the trail plane on exactly when the policy
    /// reads one more plane than the seven one-hot planes per state (a sequence policy reads K
    /// states). Any other plane count is an error.
    public static func environment(for model: any PolicyNetwork, _ config: EnvironmentConfig)
        throws -> EnvironmentConfig
    {
        var config = config
        config.observation = .oneHot
        let statePlanes =
            (model as? any SequencePolicy)?.inputLayout.statePlanes ?? model.planeCount
        switch statePlanes {
        case planeCount: config.trail = false
        case planeCount + 1: config.trail = true
        default:
            throw AgentError.invalidSetting(
                "the policy takes \(statePlanes) observation planes; the environment gives \(planeCount), or \(planeCount + 1) with the trail"
            )
        }
        return config
    }

    /// The cell codes of environment `index`'s observation (one-hot encoding): the plane index
    /// per cell, with `trailCode` set on trail cells.
    static func codes(
        of environment: BatchedEnvironment, index: Int, into out: UnsafeMutablePointer<UInt8>
    ) {
        let planes = environment.planeCount
        let base = index * planes * cells
        environment.observations.withUnsafeBufferPointer { obs in
            for c in 0..<cells {
                var code: UInt8 = 0
                for p in 0..<planeCount where obs[base + p * cells + c] > 0.5 { code = UInt8(p) }
                if planes > planeCount && obs[base + planeCount * cells + c] > 0.5 {
                    code |= trailCode
                }
                out[c] = code
            }
        }
    }
}
