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

    /// Side effects are measured once on the unreduced model (the baseline), then with the chosen
    /// reduction applied, the model left unreduced; they reach summary.json, report.md and the
    /// side-by-side report. A sweep that chooses nothing measures the unreduced model alone.
    @Test(arguments: [true, false]) func sideEffectsOfTheChoiceAreMeasuredAndReported(
        choosing: Bool
    ) throws {
        let model = StackModel()
        let original = try model.weightMatrix(named: "layers.2.mlp.fc_out.weight")
        var rng = SplitMix64(seed: 3)
        let x = Tensor(randomNormal: [4, 12], using: &rng)
        let unreducedOutput = model.forward(x)
        final class Seen { var baseline = 0, measured: [[String]] = [], outputs: [Tensor] = [] }
        let seen = Seen()
        let measure = SideEffectMeasure(
            baseline: {
                seen.baseline += 1
                #expect(model.forward(x).maxAbsDifference(unreducedOutput) == 0)
            },
            measure: { interventions in
                seen.measured.append(interventions.map(\.description))
                seen.outputs.append(model.forward(x))
                return SideEffects(
                    data: "four inputs", interventions: interventions.map(\.description),
                    metrics: ["output_norm": Double(model.forward(x).frobeniusNorm)],
                    shift: nil)
            })
        let calls = SearchTests.Counter()
        let name = choosing ? "effects-chosen" : "effects-none"
        let run = try SweepRun(
            model: model, grid: grid, objective: Objective(metric: "score"),
            reportMetrics: ["score"], setup: "stack model",
            files: .init(directory: dir + "/" + name),
            evaluate: choosing
                ? evaluate(model, calls: calls) : { _ in ["score": 0] })
        let outcome = try run.run(sideEffects: measure)
        #expect(seen.baseline == 1)
        #expect(seen.measured == (choosing ? [["2:fc_out:0.1"]] : [[]]))
        #expect(
            (seen.outputs[0].maxAbsDifference(unreducedOutput) > 0) == choosing,
            "measured with the chosen reduction applied")
        #expect(
            try model.weightMatrix(named: "layers.2.mlp.fc_out.weight").maxAbsDifference(original)
                == 0, "left unreduced")
        #expect(outcome.sideEffects.map(\.interventions) == seen.measured)
        #expect(outcome.markdown.contains("Side effects on four inputs"))
        let file = try SweepSummaryFile(path: dir + "/\(name)/summary.json")
        #expect(file.sideEffects.map(\.interventions) == seen.measured)
        let cell = SideBySideReport.sideEffectCell(file)
        #expect(choosing ? cell.contains("four inputs") : cell.contains("nothing chosen"))
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
        let withInput = try LayerSelection(parsing: "input,1")
        #expect(withInput == .list([-1, 1]) && withInput.description == "input,1")
        #expect(try withInput.resolve(available: [-1, 0, 1, 2]) == [-1, 1])
        #expect {
            try withInput.resolve(available: [0, 1, 2])
        } throws: { "\($0)" == "layer input does not exist (the model has layers 0...2)" }
        for bad in ["", "1-", "3-1", "a", "1,,2", "-1"] {
            #expect(throws: LaserError.self, "\(bad)") { try LayerSelection(parsing: bad) }
        }
        #expect {
            try LayerSelection(parsing: "7").resolve(available: [0, 1, 2])
        } throws: { "\($0)" == "layer 7 does not exist (the model has layers 0...2)" }
    }
}
