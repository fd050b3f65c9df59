// The shrink search: keeps, matrix by matrix, the smallest ρ whose composition stays non-inferior on
// validation, within its budget, evaluates only the kept composition on test, and resumes from its
// log without evaluating again.
import Foundation
import Testing

@testable import Laser
@testable import LinearAlgebra

@Suite struct ShrinkTests {
    let dir: String = {
        let d = NSTemporaryDirectory() + "shrink-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }()

    final class Calls { var list: [([String], Split)] = [] }

    /// 2,000 items, 1,600 right unreduced; each reduction in a configuration loses `cost` of them.
    func search(_ name: String, calls: Calls) throws -> Search<StackModel> {
        func cost(_ intervention: String) -> Int {
            switch intervention {
            case "0:fc_in:0.05", "0:fc_in:0.1": return 0
            case "1:fc_out:0.05": return 200
            case "1:fc_out:0.1": return 0
            default: return 200
            }
        }
        return Search(
            reducer: Reducer(model: StackModel()), objective: Objective(metric: "solved"),
            store: try ResultStore(path: dir + "/\(name).jsonl")
        ) { context in
            let names = context.interventions.map(\.description)
            calls.list.append((names, context.split))
            let right = 1600 - names.map(cost).reduce(0, +)
            let items = (0..<2000).map { $0 >= 1600 - right && $0 < 1600 ? 1.0 : 0.0 }
            return Evaluation(metrics: ["solved": Double(right) / 2000], items: ["solved": items])
        }
    }

    func plan(budget: Int) throws -> ShrinkPlan {
        try ShrinkPlan(
            addresses: [(.index(0), "fc_in"), (.index(1), "fc_out"), (.index(2), "fc_in")],
            rhos: [0.1, 0.05], margin: 0.015, budget: budget, metric: "solved")
    }

    @Test func keepsTheSmallestNonInferiorRhoOfEachMatrix() throws {
        let calls = Calls()
        let outcome = try search("greedy", calls: calls).shrink(try plan(budget: 10))
        #expect(outcome.interventions.map(\.description) == ["0:fc_in:0.05", "1:fc_out:0.1"])
        #expect(outcome.trials.map(\.kept) == [true, false, true, false, false])
        #expect(!outcome.budgetExhausted)
        #expect(outcome.validation?.nonInferior == true && outcome.test?.nonInferior == true)
        #expect(outcome.parametersAfter < outcome.parametersBefore)
        // Test sees the unreduced model and the kept composition only, once each.
        let onTest = calls.list.filter { $0.1 == .test }.map(\.0)
        #expect(onTest == [[], ["0:fc_in:0.05", "1:fc_out:0.1"]])
        // A rerun on the same log evaluates nothing again.
        let again = Calls()
        let resumed = try search("greedy", calls: again).shrink(try plan(budget: 10))
        #expect(again.list.isEmpty)
        #expect(resumed.interventions == outcome.interventions)
    }

    @Test func stopsAtItsBudget() throws {
        let calls = Calls()
        let outcome = try search("budget", calls: calls).shrink(try plan(budget: 2))
        #expect(outcome.trials.count == 2 && outcome.budgetExhausted)
        #expect(outcome.interventions.map(\.description) == ["0:fc_in:0.05"])
        #expect(calls.list.filter { $0.1 == .validation }.count == 3, "baseline and two trials")
    }

    @Test func nothingNonInferiorKeepsNothingAndSkipsTest() throws {
        let calls = Calls()
        let only = try ShrinkPlan(
            addresses: [(.index(2), "fc_in")], rhos: [0.5], margin: 0.015, budget: 5,
            metric: "solved")
        let outcome = try search("none", calls: calls).shrink(only)
        #expect(outcome.interventions.isEmpty && outcome.test == nil)
        #expect(calls.list.allSatisfy { $0.1 == .validation })
    }
}
