// What a LASER edit changed in a policy besides its solve rate: the unreduced policy plays each
// level greedily and its action logits are kept; the edited policy is shown the same positions
// (those episodes replayed) and the two action distributions are compared position by position,
// the KL divergence and greedy-action agreement of `DistributionShift`.
import Core
import Foundation
import Laser
import Policy
import Sokoban

/// The unreduced policy's greedy episodes on a level set, up to the first repeated position: each
/// level's actions and the logits it chose them from.
public struct ActionShiftBaseline: Sendable {
    public struct Episode: Sendable {
        public let actions: [Direction]
        /// Four logits per position, one position per action.
        public let logits: [Float]
    }

    public let episodes: [Episode]
    let config: EnvironmentConfig
    let levels: [Level]

    /// Positions compared.
    public var positions: Int { episodes.reduce(0) { $0 + $1.actions.count } }

    /// Plays `model` (the network alone) greedily on every level, `workers` levels at a time.
    public static func record(
        model: any PolicyNetwork, levels: [Level], config: EnvironmentConfig = EnvironmentConfig(),
        workers: Int = PolicyThreads.workers
    ) throws -> ActionShiftBaseline {
        guard !levels.isEmpty else { throw AgentError.noLevels("the level set is empty") }
        let episodes = try concurrentMap(levels, workers: workers) { level in
            var player = try PolicyPlayer(model: model, level: level, config: config)
            var actions: [Direction] = []
            var logits: [Float] = []
            // A greedy board policy back in a position it has seen only goes round the same
            // cycle (`laser eval` stops there too): each position of the cycle counts once.
            while !player.done && !player.repeated {
                let row = try player.logits()
                logits += row
                var best = 0
                for a in 1..<row.count where row[a] > row[best] { best = a }
                let direction = Direction(rawValue: best)!
                player.step(direction)
                actions.append(direction)
            }
            return Episode(actions: actions, logits: logits)
        }
        return ActionShiftBaseline(episodes: episodes, config: config, levels: levels)
    }

    /// `edited` (the same architecture, reduced) on the recorded positions against the logits
    /// recorded; nil when no position was recorded.
    public func compare(with edited: any PolicyNetwork, workers: Int = PolicyThreads.workers)
        throws -> DistributionShiftSummary?
    {
        let a = PolicyGeometry.actionCount
        let rows = try concurrentMap(Array(levels.indices), workers: workers) { i in
            var player = try PolicyPlayer(model: edited, level: levels[i], config: config)
            var logits: [Float] = []
            for action in episodes[i].actions {
                logits += try player.logits()
                player.step(action)
            }
            return logits
        }
        var shift = DistributionShift()
        for (episode, editedLogits) in zip(episodes, rows) {
            episode.logits.withUnsafeBufferPointer { base in
                editedLogits.withUnsafeBufferPointer { e in
                    for p in 0..<episode.actions.count {
                        shift.add(
                            base: base.baseAddress! + p * a, edited: e.baseAddress! + p * a,
                            count: a)
                    }
                }
            }
        }
        return shift.summary
    }
}
