// The unreduced model is a candidate: a sweep chooses a reduction only when it beats the unreduced
// model on validation, and otherwise reports "no reduction chosen" with nothing on test.
import Foundation
import Testing

@testable import Laser
@testable import LinearAlgebra

@Suite struct NullChoiceTests {
    let dir: String = {
        let d = NSTemporaryDirectory() + "null-choice-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }()
    let grid = try! SweepGrid(layers: [0, 1, 2], types: ["fc_in", "fc_out"], rhos: [0.5, 0.1])

    /// A search scoring 100 items: the unreduced model gets `baselineRight` of them right, the
    /// grid point `winner` gets `winnerRight`, every other reduction `othersRight`. Records which
    /// (interventions, split) pairs were evaluated.
    func search(
        name: String, baselineRight: Int, winner: String, winnerRight: Int, othersRight: Int,
        evaluated: Box
    ) throws -> Search<StackModel> {
        Search(
            reducer: Reducer(model: StackModel()), objective: Objective(metric: "solved"),
            store: try ResultStore(path: dir + "/\(name).jsonl")
        ) { context in
            let names = context.interventions.map(\.description)
            evaluated.calls.append((names, context.split))
            let right =
                names.isEmpty ? baselineRight : names == [winner] ? winnerRight : othersRight
            let items = (0..<100).map { $0 < right ? 1.0 : 0.0 }
            return Evaluation(
                metrics: ["solved": Double(right) / 100], items: ["solved": items])
        }
    }

    final class Box { var calls: [([String], Split)] = [] }

    /// The reductions evaluated on test (the unreduced model excluded).
    func reducedOnTest(_ box: Box) -> [[String]] {
        box.calls.filter { $0.1 == .test && !$0.0.isEmpty }.map(\.0)
    }

    func summaryJSON(_ s: SearchSummary) throws -> [String: Any] {
        let text = try SearchReport.json(s)
        return try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    /// summary.json has one schema: what `SearchReport.json` writes decodes to `SweepSummaryFile`
    /// and encodes back to the same bytes, for rate and for mean comparisons.
    @Test(arguments: [true, false]) func theSummaryRoundTrips(rates: Bool) throws {
        let metric = rates ? "solved" : "logprob"
        let s = try Search(
            reducer: Reducer(model: StackModel()), objective: Objective(metric: metric),
            store: try ResultStore(path: dir + "/round-trip-\(rates).jsonl")
        ) { context in
            let shift = Double(context.interventions.count) * (rates ? 0.3 : 0.05)
            let items = (0..<50).map { i -> Double in
                rates ? (Double(i % 10) / 10 < 0.5 + shift ? 1 : 0) : -1 + shift + Double(i) / 100
            }
            return Evaluation(
                metrics: [metric: items.reduce(0, +) / 50], items: [metric: items])
        }.run(grid, compose: true)
        #expect(s.chosen != nil)
        let effects = [
            SideEffects(
                data: "d", interventions: ["1:fc_in:0.5"], metrics: ["perplexity": 2],
                shift: nil)
        ]
        let text = try SearchReport.json(s, sideEffects: effects)
        let file = try JSONDecoder().decode(SweepSummaryFile.self, from: Data(text.utf8))
        #expect(file.chosen?.testComparison?.kind == (rates ? "rate" : "mean"))
        #expect(file.sideEffects == effects)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        #expect(String(decoding: try encoder.encode(file), as: UTF8.self) + "\n" == text)
    }

    @Test func aTieWithTheUnreducedModelChoosesNothing() throws {
        let box = Box()
        let s = try search(
            name: "tie", baselineRight: 60, winner: "2:fc_out:0.1", winnerRight: 60,
            othersRight: 40, evaluated: box
        ).run(grid, compose: true)
        #expect(s.best?.intervention.description == "2:fc_out:0.1", "the best reduction is known")
        #expect(s.chosen == nil, "a tie is not a gain: the unreduced model stands")
        #expect(!s.compositionChosen)
        #expect(reducedOnTest(box).isEmpty, "no reduction is evaluated on test")
        #expect(s.bestTestComparison == nil && s.baselineTest != nil)
        let json = try summaryJSON(s)
        #expect(json["chosen"] is NSNull, "summary.json says \"chosen\": null")
        #expect(json["composition_chosen"] as? Bool == false)
        #expect(SearchReport.verdict(s).contains("No reduction chosen on validation"))
        #expect(SearchReport.markdown(s, metrics: ["solved"]).contains("(not chosen)"))
        // The side-by-side report reads the same file and says so, with no test delta.
        let path = dir + "/tie-summary.json"
        try SearchReport.json(s).write(toFile: path, atomically: true, encoding: .utf8)
        let file = try SweepSummaryFile(path: path)
        #expect(file.chosen == nil && file.best != nil)
        let report = SideBySideReport.markdown([("model", file)])
        #expect(report.contains("no reduction chosen on validation"))
        #expect(report.contains("| Δ on test [95% CI] | – |"))
        #expect(SideBySideReport.svg([("model", file)]).contains("no reduction chosen"))
    }

    @Test func everyReductionWorseChoosesNothing() throws {
        let box = Box()
        let s = try search(
            name: "worse", baselineRight: 60, winner: "0:fc_in:0.5", winnerRight: 55,
            othersRight: 30, evaluated: box
        ).run(grid, compose: false)
        #expect(s.chosen == nil && reducedOnTest(box).isEmpty)
        #expect(s.best?.test == nil)
    }

    @Test func aReductionThatBeatsTheUnreducedModelIsChosenAndReported() throws {
        let box = Box()
        let s = try search(
            name: "gain", baselineRight: 60, winner: "1:fc_in:0.1", winnerRight: 61,
            othersRight: 40, evaluated: box
        ).run(grid, compose: false)
        #expect(s.chosen?.intervention.description == "1:fc_in:0.1")
        #expect(reducedOnTest(box) == [["1:fc_in:0.1"]], "only the chosen point meets test")
        #expect(s.bestTestComparison != nil)
        let json = try summaryJSON(s)
        #expect(
            (json["chosen"] as? [String: Any])?["interventions"] as? [String] == ["1:fc_in:0.1"])
        #expect(SearchReport.verdict(s).hasPrefix("**Chosen on validation**"))
    }

    /// A test record of an unchosen point left in the log (by a run under the older rule) is not
    /// reported.
    @Test func aStaleTestRecordOfAnUnchosenPointIsNotReported() throws {
        let box = Box()
        let s1 = try search(
            name: "stale", baselineRight: 60, winner: "2:fc_in:0.5", winnerRight: 60,
            othersRight: 40, evaluated: box)
        _ = try s1.run(grid)
        try s1.evaluateLogged(
            [try Intervention(parsing: "2:fc_in:0.5")], split: .test, phase: "sweep", order: 8)
        let s = s1.summary(grid)
        #expect(s.chosen == nil && s.best?.test == nil && s.bestTestComparison == nil)
    }

    /// The greedy composition is chosen only when it beats the unreduced model too.
    @Test func aCompositionIsChosenOnlyWhenItBeatsTheUnreducedModel() throws {
        let model = StackModel()
        let box = Box()
        // Reductions of layer 2 each add one solved item; everything else is neutral (a tie).
        let gaining = Search(
            reducer: Reducer(model: model), objective: Objective(metric: "solved"),
            store: try ResultStore(path: dir + "/compose-gain.jsonl")
        ) { context in
            box.calls.append((context.interventions.map(\.description), context.split))
            let gain = context.interventions.filter {
                if case .index(2) = $0.layer { return true } else { return false }
            }.count
            return ["solved": Double(50 + gain) / 100]
        }
        let s = try gaining.run(grid, compose: true)
        #expect(s.compositionChosen && s.composition?.test != nil)
        let neutral = Search(
            reducer: Reducer(model: StackModel()), objective: Objective(metric: "solved"),
            store: try ResultStore(path: dir + "/compose-neutral.jsonl")
        ) { _ in ["solved": 0.5] }
        let n = try neutral.run(grid, compose: true)
        #expect(!(n.composition?.interventions.isEmpty ?? true), "ties are kept by the walk")
        #expect(!n.compositionChosen && n.composition?.test == nil)
    }
}
