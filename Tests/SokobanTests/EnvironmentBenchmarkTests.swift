// The environment benchmark, in-process: every mode plays the same random actions on the same
// levels, so copying the observation out changes the timing and nothing else.
import Sokoban
import Testing

@Suite struct EnvironmentBenchmarkTests {
    @Test func handingOutObservationsChangesNothingButTheTime() throws {
        let levels = try [
            Level(rows: ["#######", "#@ $ .#", "#######"]),
            Level(rows: ["######", "#. $@#", "######"]),
        ]
        var benchmark = EnvironmentBenchmark()
        benchmark.steps = 5_000
        benchmark.batch = 4
        benchmark.batchSteps = 1_000
        benchmark.seed = 3
        let report = try benchmark.run(levels: levels, name: "corridors")
        #expect(report.levelCount == 2 && report.batch == 4 && report.levels == "corridors")
        #expect(report.single.steps == 5_000 && report.batched.steps == 4_000)
        for (plain, copied) in [
            (report.single, report.singleWithObservation),
            (report.batched, report.batchedWithObservation),
        ] {
            #expect(plain.episodes == copied.episodes && plain.solved == copied.solved)
            #expect(plain.totalReward == copied.totalReward)
            #expect(plain.episodes > 0 && plain.stepsPerSecond > 0)
        }
        // Another seed plays other actions.
        benchmark.seed = 4
        #expect(
            try benchmark.run(levels: levels, name: "").single.totalReward
                != report.single.totalReward)
    }
}
