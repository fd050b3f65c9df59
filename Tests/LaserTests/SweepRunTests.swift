// A sweep run owns its files: killed part-way, the same run resumes from its log and writes the
// same reports as an uninterrupted one; every report file is written; layer selections parse and
// resolve against the model, naming what is wrong.
import Core
import Foundation
import Testing

@testable import Laser
@testable import LinearAlgebra

@Suite struct SweepRunTests {
    let dir: String = {
        let d = NSTemporaryDirectory() + "sweep-run-tests-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }()
    let grid = try! SweepGrid(layers: [1, 2], types: ["fc_in", "fc_out"], rhos: [0.5, 0.1])

    /// How close the model's output stays to a target made by reducing layer 2's fc_out; with
    /// `failAfter`, the evaluation throws after that many calls (a killed run).
    func evaluate(_ model: StackModel, calls: SearchTests.Counter, failAfter: Int? = nil)
        -> Search<StackModel>.Evaluate
    {
        let teacher = StackModel()
        try! Reducer(model: teacher).apply(Intervention(parsing: "2:fc_out:0.1"))
        return { context in
            calls.value += 1
            if let failAfter, calls.value > failAfter { throw Killed() }
            var rng = SplitMix64(seed: context.split == .validation ? 1 : 2)
            let x = Tensor(randomNormal: [8, 12], using: &rng)
            return ["score": -(model.forward(x) - teacher.forward(x)).frobeniusNorm]
        }
    }

    func run(_ name: String, failAfter: Int? = nil) throws -> (SweepRun<StackModel>.Outcome, Int) {
        let model = StackModel()
        let calls = SearchTests.Counter()
        let run = try SweepRun(
            model: model, grid: grid, objective: Objective(metric: "score"),
            reportMetrics: ["score"], setup: "stack model",
            files: .init(directory: dir + "/" + name),
            evaluate: evaluate(model, calls: calls, failAfter: failAfter))
        #expect(run.plannedEvaluations == 9)
        return (try run.run(compose: true), calls.value)
    }

    @Test func aKilledSweepResumesAndWritesWhatAnUninterruptedOneWrites() throws {
        let (whole, wholeCalls) = try run("whole")
        #expect(whole.summary.best?.intervention.description == "2:fc_out:0.1")
        #expect(throws: Killed.self) { try run("killed", failAfter: 4) }
        #expect(!FileManager.default.fileExists(atPath: dir + "/killed/report.md"))
        let (resumed, resumedCalls) = try run("killed")
        #expect(resumedCalls == wholeCalls - 4)
        for file in ["report.md", "results.csv", "heatmap-fc_in.svg", "heatmap-fc_out.svg"] {
            #expect(
                try String(contentsOfFile: "\(dir)/killed/\(file)", encoding: .utf8)
                    == String(contentsOfFile: "\(dir)/whole/\(file)", encoding: .utf8), "\(file)")
        }
        #expect(resumed.heatmaps.count == 2 && resumed.markdown.contains("2:fc_out:0.1"))
        let summary = try String(contentsOfFile: "\(dir)/whole/summary.json", encoding: .utf8)
        #expect(summary.contains("2:fc_out:0.1"))
    }

    @Test func aSecondSweepOnTheSameFolderOrLogIsRefused() throws {
        func sweep(_ files: SweepRun<StackModel>.Files) throws -> SweepRun<StackModel> {
            try SweepRun(
                model: StackModel(), grid: grid, objective: Objective(metric: "score"),
                reportMetrics: ["score"], setup: "stack model", files: files,
                evaluate: { _ in ["score": 0] })
        }
        do {
            let first = try sweep(.init(directory: dir + "/busy"))
            #expect {
                try sweep(.init(directory: dir + "/busy", results: dir + "/other.jsonl"))
            } throws: { "\($0)".contains("busy is in use by another run (pid \(getpid()))") }
            #expect {
                try sweep(
                    .init(directory: dir + "/elsewhere", results: dir + "/busy/results.jsonl"))
            } throws: { "\($0)".contains("results.jsonl is in use") }
            withExtendedLifetime(first) {}
        }
        // Once the first run is gone, the folder is free again.
        _ = try sweep(.init(directory: dir + "/busy"))
    }

    @Test func aLogFromAnotherSetupIsRefused() throws {
        _ = try run("setup")
        #expect(throws: LaserError.self) {
            try SweepRun(
                model: StackModel(), grid: grid, objective: Objective(metric: "score"),
                reportMetrics: ["score"], setup: "another model",
                files: .init(directory: dir + "/setup"), evaluate: { _ in ["score": 0] })
        }
    }

    @Test func layerSelectionsParseAndResolveAgainstTheModel() throws {
        #expect(try LayerSelection(parsing: "all") == .all)
        #expect(try LayerSelection(parsing: "2,0-1,1") == .list([2, 0, 1]))
        #expect(try LayerSelection(parsing: "all").resolve(available: [-1, 0, 1, 2]) == [0, 1, 2])
        #expect(try LayerSelection(parsing: "2,0").resolve(available: [0, 1, 2]) == [2, 0])
        for bad in ["", "1-", "3-1", "a", "1,,2", "-1"] {
            #expect(throws: LaserError.self, "\(bad)") { try LayerSelection(parsing: bad) }
        }
        #expect {
            try LayerSelection(parsing: "7").resolve(available: [0, 1, 2])
        } throws: { "\($0)" == "layer 7 does not exist (the model has layers 0...2)" }
    }
}
