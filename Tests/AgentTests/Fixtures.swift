// Small solved levels and tiny networks the agent tests train and play on.
import Foundation
import Policy
import Sokoban

@testable import Agent

enum Fixtures {
    /// Corridor levels solved by walking and pushing one box onto its goal, with solutions.
    static func corridorLevels() throws -> [Level] {
        let boards: [([String], String)] = [
            (["#######", "#@ $ .#", "#######"], "rRR"),
            (["#######", "#. $ @#", "#######"], "lLL"),
            (["###", "#@#", "# #", "#$#", "# #", "#.#", "###"], "dDD"),
            (["###", "#.#", "# #", "#$#", "# #", "#@#", "###"], "uUU"),
            (["######", "#@$ .#", "######"], "RR"),
            (["######", "#. $@#", "######"], "LL"),
            (["#####", "#@$.#", "#####"], "R"),
            (["#####", "#.$@#", "#####"], "L"),
        ]
        return try boards.enumerated().map { i, entry in
            var level = try Level(rows: entry.0, title: "corridor \(i + 1)")
            level.notes = [("Solution", entry.1)]
            return level
        }
    }

    static func tinyConv(seed: UInt64 = 7) throws -> any PolicyNetwork {
        try ConvPolicy(
            config: ConvPolicyConfig(channels: 8, blocks: 1, valueHidden: 16), seed: seed)
    }

    static func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "agent-test-\(UUID().uuidString)-\(name)"
    }
}
