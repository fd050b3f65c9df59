// The subcommands of `laser`, grouped as `laser --help` lists them; adding one touches one line.
import ArgumentParser

extension LaserCommand {
    static let subcommandGroups: [CommandGroup] = [
        CommandGroup(
            name: "Sokoban",
            subcommands: [
                PlayCommand.self, SolveCommand.self, GenerateCommand.self, WatchCommand.self,
            ]),
        CommandGroup(name: "Agent", subcommands: [TrainCommand.self, EvalCommand.self]),
        CommandGroup(
            name: "Language model",
            subcommands: [FetchModel.self, GenerateText.self, QA.self, PerplexityCommand.self]),
        CommandGroup(
            name: "LASER",
            subcommands: [
                Inspect.self, Reduce.self, SweepCommand.self, ShrinkCommand.self, Compare.self,
                Report.self, Population.self,
                MergeResults.self, SampleCheckpoint.self,
            ]),
        CommandGroup(name: "Benchmarks", subcommands: [Bench.self]),
    ]
}
