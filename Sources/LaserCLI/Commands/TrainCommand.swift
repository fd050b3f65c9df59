// `laser train bc|ppo`: behavior cloning on solver demonstrations, then PPO from a checkpoint.
import ArgumentParser

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract:
            "Train Sokoban policies: imitation of the solver (bc), then reinforcement learning (ppo).",
        subcommands: [TrainBC.self, TrainPPO.self])
}
