// The search: resume after a kill gives identical results, shards merge into the unsharded
// result, validation picks and test reports, and greedy composition walks layers last to first.
import Core
import Foundation
import Testing

@testable import Laser
@testable import LinearAlgebra

struct Killed: Error {}

@Suite struct SearchTests {
    let dir: String = {
        let d = NSTemporaryDirectory() + "search-tests-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }()
    let grid = try! SweepGrid(
        layers: [0, 1, 2], types: ["fc_in", "fc_out"], rhos: [0.9, 0.5, 0.1])

    /// A real evaluation on the model: how close its output stays to a fixed target made by reducing
    /// layer 2's fc_out, so that reduction scores best; validation and test use different inputs.
    func evaluation(model: StackModel, calls: Counter, failAfter: Int? = nil)
        -> Search<StackModel>.Evaluate
    {
        let teacher = StackModel()
        try! Reducer(model: teacher).apply(Intervention(parsing: "2:fc_out:0.1"))
        return { context in
            calls.value += 1
            if let limit = failAfter, calls.value > limit { throw Killed() }
            var rng = SplitMix64(seed: context.split == .validation ? 1 : 2)
            let x = Tensor(randomNormal: [16, 12], using: &rng)
            let error = (model.forward(x) - teacher.forward(x)).frobeniusNorm
            return ["score": -error, "calls_seen": Double(context.interventions.count)]
        }
    }

    final class Counter { var value = 0 }

    func runSearch(path: String, failAfter: Int? = nil, shard: Shard = .whole, compose: Bool = true)
        throws -> (SearchSummary, Int)
    {
        let model = StackModel()
        let calls = Counter()
        let search = Search(
            reducer: Reducer(model: model), objective: Objective(metric: "score"),
            store: try ResultStore(path: path),
            evaluate: evaluation(model: model, calls: calls, failAfter: failAfter))
        let summary = try search.run(grid, shard: shard, compose: compose)
        return (summary, calls.value)
    }

    @Test func validationChoosesAndTestReports() throws {
        let (s, _) = try runSearch(path: dir + "/plain.jsonl", compose: false)
        #expect(s.sweep.count == 18)
        #expect(s.best?.intervention.description == "2:fc_out:0.1")
        #expect(s.best?.test != nil && s.baselineTest != nil)
        #expect(s.best!.validation["score"]! > s.baselineValidation["score"]!)
    }

    @Test func resumeAfterAKillGivesIdenticalResults() throws {
        let (full, fullCalls) = try runSearch(path: dir + "/full.jsonl")
        let path = dir + "/killed.jsonl"
        #expect(throws: Killed.self) { try runSearch(path: path, failAfter: 7) }
        #expect(try ResultStore(path: path).records.count == 7)
        // Simulate a kill in the middle of writing a line, too.
        let handle = FileHandle(forWritingAtPath: path)!
        handle.seekToEndOfFile()
        handle.write(Data("{\"phase\":\"sweep\",\"ord".utf8))
        handle.closeFile()
        let (resumed, resumedCalls) = try runSearch(path: path)
        #expect(resumedCalls == fullCalls - 7, "only unfinished evaluations run again")
        let a = try ResultStore(path: dir + "/full.jsonl").records
        let b = try ResultStore(path: path).records
        #expect(a.count == b.count)
        for (x, y) in zip(a, b) { #expect(x.sameResult(as: y)) }
        #expect(full.best?.intervention == resumed.best?.intervention)
        #expect(full.composition?.interventions == resumed.composition?.interventions)
        #expect(full.composition?.test == resumed.composition?.test)
    }

    @Test func mergedShardsEqualTheUnshardedSweep() throws {
        let (whole, _) = try runSearch(path: dir + "/whole.jsonl", compose: false)
        for i in 0..<3 {
            _ = try runSearch(
                path: dir + "/shard\(i).jsonl", shard: Shard(index: i, count: 3), compose: false)
        }
        let shardSizes = try (0..<3).map {
            try ResultStore(path: dir + "/shard\($0).jsonl").records.count
        }
        #expect(shardSizes == [7, 7, 7], "each shard: the baseline and 6 of 18 grid points")
        let count = try ResultStore.merge(
            (0..<3).map { dir + "/shard\($0).jsonl" }, into: dir + "/merged.jsonl")
        #expect(count == 19)
        // Finishing from the merged file evaluates only the test split, and agrees with the whole run.
        let (merged, calls) = try runSearch(path: dir + "/merged.jsonl", compose: false)
        #expect(calls == 2)
        #expect(merged.best?.intervention == whole.best?.intervention)
        #expect(merged.best?.test == whole.best?.test)
        for (x, y) in zip(whole.sweep, merged.sweep) {
            #expect(x.intervention == y.intervention && x.record.metrics == y.record.metrics)
        }
    }

    @Test func conflictingShardsAreRefused() throws {
        let a = dir + "/a.jsonl"
        let b = dir + "/b.jsonl"
        let r1 = SweepRecord(
            phase: "sweep", order: 0, split: .validation, interventions: ["0:fc_in:0.5"],
            metrics: ["score": 1], parametersBefore: 1, parametersAfter: 1, seconds: 0)
        let r2 = SweepRecord(
            phase: "sweep", order: 0, split: .validation, interventions: ["0:fc_in:0.5"],
            metrics: ["score": 2], parametersBefore: 1, parametersAfter: 1, seconds: 0)
        try ResultStore(path: a).append(r1)
        try ResultStore(path: b).append(r2)
        #expect(throws: LaserError.self) { try ResultStore.merge([a, b], into: dir + "/c.jsonl") }
    }

    @Test func aLogOfAnotherSetupIsRefusedAndRecordsCarryTheirSetup() throws {
        let path = dir + "/setup.jsonl"
        let r = SweepRecord(
            phase: "sweep", order: 0, split: .validation, interventions: ["0:fc_in:0.5"],
            metrics: ["score": 1], parametersBefore: 1, parametersAfter: 1, seconds: 0)
        try ResultStore(path: path, setup: "checkpoint A").append(r)
        #expect(
            try ResultStore(path: path, setup: "checkpoint A").records.first?.setup
                == "checkpoint A")
        #expect(throws: LaserError.self) { try ResultStore(path: path, setup: "checkpoint B") }
        // Shards of different setups do not merge.
        let other = dir + "/setup-b.jsonl"
        let r2 = SweepRecord(
            phase: "sweep", order: 1, split: .validation, interventions: ["1:fc_in:0.5"],
            metrics: ["score": 1], parametersBefore: 1, parametersAfter: 1, seconds: 0)
        try ResultStore(path: other, setup: "checkpoint B").append(r2)
        #expect(throws: LaserError.self) {
            try ResultStore.merge([path, other], into: dir + "/setup-merged.jsonl")
        }
    }

    @Test func aCorruptLineInTheMiddleIsAnError() throws {
        let path = dir + "/corrupt.jsonl"
        try "not json\n{}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: LaserError.self) { try ResultStore(path: path) }
    }

    /// Greedy composition on a scripted metric: each (layer, type) has a best ρ; ρ below it drops the
    /// score. The walk goes from the last layer to the first and keeps the last ρ that did not drop.
    @Test func greedyCompositionFollowsThePaperWalk() throws {
        let model = StackModel()
        let gains: [String: [Double: Double]] = [
            "2:fc_in": [0.9: 1, 0.5: 2, 0.1: -5],  // keep 0.5
            "2:fc_out": [0.9: -1, 0.5: 3, 0.1: 3],  // first step drops: keep nothing
            "1:fc_in": [0.9: 0, 0.5: 0, 0.1: 0],  // never drops: keep 0.1
            "1:fc_out": [0.9: -1, 0.5: -1, 0.1: -1],
            "0:fc_in": [0.9: -2, 0.5: -2, 0.1: -2],
            "0:fc_out": [0.9: 1, 0.5: 0.5, 0.1: 4],  // 0.5 drops below 0.9's score: keep 0.9
        ]
        var order: [[String]] = []
        let search = Search(
            reducer: Reducer(model: model), objective: Objective(metric: "score"),
            store: try ResultStore(path: dir + "/greedy.jsonl")
        ) { context in
            order.append(context.interventions.map(\.description))
            var score = 0.0
            for i in context.interventions {
                guard case .index(let l) = i.layer else { continue }
                score += gains["\(l):\(i.type)"]![i.rho]!
            }
            return ["score": score]
        }
        let (kept, record) = try search.compose(grid)
        #expect(kept.map(\.description) == ["2:fc_in:0.5", "1:fc_in:0.1", "0:fc_out:0.9"])
        #expect(record.metrics["score"] == 3)
        #expect(order.first == [], "the baseline comes first")
        #expect(order[1] == ["2:fc_in:0.9"], "the walk starts at the last layer")
        #expect(search.summary(grid, composed: true).composition?.interventions == kept)
    }

    @Test func evaluationIsToldTheFirstChangedLayer() throws {
        let model = StackModel()
        var seen: [Int?] = []
        let search = Search(
            reducer: Reducer(model: model), objective: Objective(metric: "m"),
            store: try ResultStore(path: dir + "/layers.jsonl")
        ) { context in
            seen.append(context.firstChangedLayer)
            return ["m": 0]
        }
        try search.sweep(try SweepGrid(layers: [1, 2], types: ["fc_in"], rhos: [0.5]))
        #expect(seen == [nil, 1, 2])
    }

    /// A grid over layers whose matrix types differ leaves out the pairs with no matrix, and the
    /// sweep and the greedy composition run over what is left.
    @Test func gridSkipsLayerTypePairsWithoutAMatrix() throws {
        let model = StackModel()
        let grid = try SweepGrid(
            layers: [0, 1, 2], types: ["fc_in", "q_proj", "mlp"], rhos: [0.5, 0.1], model: model)
        #expect(grid.pairs.count == 6 && !grid.contains(layer: 1, type: "q_proj"))
        #expect(
            grid.points.map(\.description).prefix(4) == [
                "0:fc_in:0.5", "0:fc_in:0.1", "0:mlp:0.5", "0:mlp:0.1",
            ])
        #expect(throws: LaserError.self) {
            try SweepGrid(layers: [0, 1], types: ["q_proj"], rhos: [0.5], model: model)
        }
        let search = Search(
            reducer: Reducer(model: model), objective: Objective(metric: "score"),
            store: try ResultStore(path: dir + "/mixed.jsonl"),
            evaluate: evaluation(model: model, calls: Counter()))
        let summary = try search.run(grid, compose: true)
        #expect(summary.sweep.count == 12 && summary.composition != nil)
    }

    /// Per-item scores flow from the evaluation into the log and the report: each grid point is
    /// compared with the unreduced model on the same items, and the choice is judged on test.
    @Test func pairedStatisticsReachTheReports() throws {
        let model = StackModel()
        // 100 items; the unreduced model gets the first 50 right. `2:fc_out:0.1` also gets items
        // 50..<80 (30 gained, none lost: p < 0.001); every other point loses item 0.
        let search = Search(
            reducer: Reducer(model: model), objective: Objective(metric: "solved"),
            store: try ResultStore(path: dir + "/items.jsonl")
        ) { context in
            let names = context.interventions.map(\.description)
            let right: Int = names == ["2:fc_out:0.1"] ? 80 : 50
            var items = (0..<100).map { $0 < right ? 1.0 : 0.0 }
            if !names.isEmpty && right == 50 { items[0] = 0 }
            return Evaluation(
                metrics: ["solved": items.reduce(0, +) / 100], items: ["solved": items])
        }
        let s = try search.run(grid)
        #expect(s.configurationsTried == 18)
        let best = try #require(s.bestTestComparison)
        guard case .rate(let c) = best else {
            Issue.record("a rate")
            return
        }
        #expect(c.gained == 30 && c.lost == 0 && c.n == 100 && c.pValue < 0.001 && c.significant)
        #expect(abs(c.difference - 0.3) < 1e-12)
        let other = try #require(s.sweepComparisons[0])
        #expect(other.gainedLost! == (0, 1) && other.pValue == 1)
        let md = SearchReport.markdown(s, metrics: ["solved"])
        #expect(
            md.contains("**Chosen on validation** among 18 configurations: `2:fc_out:0.1`."),
            "\(md)")
        #expect(
            md.contains(
                "+30.0 points [+20.5, +38.7], p = 1.86e-09 (gained 30, lost 0; n = 100) — a significant improvement."
            ), "\(md)")
        let csv = SearchReport.csv(s, metrics: ["solved"])
        #expect(
            csv.hasPrefix(
                "phase,split,layer,type,rho,interventions,solved,params_before,params_after,delta,ci95_low,ci95_high,p_value,gained,lost\n"
            ))
        let bestRow = try #require(csv.split(separator: "\n").first { $0.hasPrefix("best,test") })
        #expect(bestRow.hasSuffix(",30,0"))
        let json =
            try JSONSerialization.jsonObject(with: Data(try SearchReport.json(s).utf8))
            as? [String: Any]
        let bestJSON = json?["best"] as? [String: Any]
        let testComparison = bestJSON?["test_comparison"] as? [String: Any]
        #expect(
            testComparison?["gained"] as? Int == 30
                && (testComparison?["p_value"] as? Double ?? 1) < 0.001)
        #expect(json?["configurations_tried"] as? Int == 18)
    }

    @Test func reportsRenderEveryGridPoint() throws {
        let (s, _) = try runSearch(path: dir + "/report.jsonl", compose: true)
        let md = SearchReport.markdown(s, metrics: ["score"])
        #expect(md.contains("2:fc_out:0.1") && md.contains("| unreduced | test |"))
        let csv = SearchReport.csv(s, metrics: ["score"])
        #expect(csv.split(separator: "\n").count >= 1 + 2 + 18)
        let svg = SearchReport.heatmapSVG(s, type: "fc_out", grid: grid)
        #expect(svg.hasPrefix("<svg") && svg.contains("layer 2"))
        #expect(svg.components(separatedBy: "<rect").count - 1 == 1 + 9 + 3)
    }
}
