// The list of subcommands of `laser`, one line each, so adding one touches one line.
import ArgumentParser

extension LaserCommand {
    static let allSubcommands: [any ParsableCommand.Type] = [
        Inspect.self,
        Reduce.self,
        MergeResults.self,
        Compare.self,
        Report.self,
        SampleCheckpoint.self,
        Bench.self,
        SolveCommand.self,
        GenerateCommand.self,
        PlayCommand.self,
        GenerateText.self,
        QA.self,
        FetchModel.self,
        TrainCommand.self,
        EvalCommand.self,
        SweepCommand.self,
        WatchCommand.self,
    ]
}
