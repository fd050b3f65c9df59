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

    /// The cell codes (plane index per cell) of environment `index`'s observation.
    static func codes(
        of environment: BatchedEnvironment, index: Int, into out: UnsafeMutablePointer<UInt8>
    ) {
        let base = index * observationCount
        environment.observations.withUnsafeBufferPointer { obs in
            for c in 0..<cells {
                var code: UInt8 = 0
                for p in 0..<planeCount where obs[base + p * cells + c] > 0.5 { code = UInt8(p) }
                out[c] = code
            }
        }
    }
}
