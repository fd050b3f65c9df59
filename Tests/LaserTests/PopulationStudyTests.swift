// The population study: each sweep's choice and its test difference, the pooled estimates (against
// values computed independently with Python's exact binomial sums), groups, the forest plot and the
// document markers.
import Foundation
import Testing

@testable import Laser

@Suite struct PopulationStudyTests {
    let dir: String = {
        let d = NSTemporaryDirectory() + "population-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }()

    /// A summary.json whose chosen reduction (if `gained`/`lost` are given) gained and lost those
    /// test levels of 1,000 against an unreduced 50%.
    func summary(
        _ name: String, gained: Int? = nil, lost: Int? = nil, objective: String = "solved",
        kind: String = "rate"
    ) throws -> SweepSummaryFile {
        let baseline =
            #"{"interventions": [], "validation": {"\#(objective)": 0.5}, "test": {"\#(objective)": 0.5}}"#
        var chosen = "null"
        var best =
            #"{"interventions": ["3:fc_out:0.01"], "validation": {"\#(objective)": 0.49}, "validation_comparison": {"kind": "rate", "n": 200, "p_value": 1, "difference": -0.01, "ci95_low": -0.03, "ci95_high": 0.01, "significant": false}}"#
        if let gained, let lost {
            let d = Double(gained - lost) / 1000
            chosen =
                #"{"interventions": ["4:fc_in:0.1"], "validation": {"\#(objective)": 0.52}, "test": {"\#(objective)": \#(0.5 + d)}, "test_comparison": {"kind": "\#(kind)", "n": 1000, "gained": \#(gained), "lost": \#(lost), "p_value": 0.5, "difference": \#(d), "ci95_low": \#(d - 0.01), "ci95_high": \#(d + 0.01), "significant": false}}"#
            best = chosen
        }
        let json = """
            {"objective": "\(objective)", "higher_is_better": true, "configurations_tried": 8,
             "baseline": \(baseline), "best": \(best), "chosen": \(chosen), "verdict": "v"}
            """
        let path = dir + "/\(name).json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return try SweepSummaryFile(path: path)
    }

    func study() throws -> PopulationStudy {
        try PopulationStudy([
            ("conv: a", try summary("a", gained: 30, lost: 10)),
            ("conv: b", try summary("b")),
            ("DT: c", try summary("c", gained: 5, lost: 15)),
        ])
    }

    @Test func poolsTheChosenReductionsAndTheWholeProtocol() throws {
        let s = try study()
        #expect(s.members.map(\.group) == ["conv", "conv", "DT"])
        #expect(s.groups == ["conv", "DT"])
        #expect(s.members[1].chosen == nil && s.members[1].test == nil)
        #expect(s.members[1].bestNotChosen?.interventions == ["3:fc_out:0.01"])

        let chosen = s.pooledChosen()
        #expect(chosen.members == 2 && chosen.gained == 35 && chosen.lost == 25)
        #expect(abs(chosen.difference - 0.005) < 1e-12)
        // Python: binomtest sum for (35, 25); 0.005 ± 1.96 · √(v₁ + v₂)/2 with v = ((b+c)/n − d²)/n.
        #expect(abs(chosen.pValue - 0.2450608330229457) < 1e-9)
        #expect(abs(chosen.interval.low - -0.0025592129192016488) < 1e-9)
        #expect(abs(chosen.interval.high - 0.012559212919201649) < 1e-9)

        let all = s.pooledProtocol()
        #expect(all.members == 3, "the member with nothing chosen counts as no change")
        #expect(abs(all.difference - 0.01 / 3) < 1e-12)
        #expect(abs(all.interval.low - -0.001706141946134432) < 1e-9)
        #expect(abs(all.interval.high - 0.008372808612801099) < 1e-9)
        #expect(all.pValue == chosen.pValue)

        let dt = s.pooledChosen(group: "DT")
        #expect(dt.members == 1 && abs(dt.difference - -0.01) < 1e-12)
        #expect(s.pooledProtocol(group: "conv").members == 2)
    }

    @Test func findingsAndTableSayWhatHappened() throws {
        let s = try study()
        let text = s.findings.joined(separator: "\n")
        #expect(text.contains("Validation chose a reduction for 2 of 3 models"))
        #expect(text.contains("**conv** (2): chosen for 1"))
        let table = s.markdown
        #expect(
            table.contains(
                "| conv: b | 8 | 50.0% | none (best: `3:fc_out:0.01`, -1.0 on validation) | no change |"
            ))
        #expect(
            table.contains(
                "| conv: a | 8 | 50.0% | `4:fc_in:0.1` | +2.0 [+1.0, +3.0] | 0.5 | 30 / 10 |"))
        #expect(
            table.contains("| **pooled, reductions chosen** | | | 2 models | +0.5 [-0.3, +1.3] |"))
    }

    @Test func forestPlotHasARowPerModelAndThePools() throws {
        let svg = try study().svg
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        for label in [
            "conv: a", "conv: b", "DT: c", "pooled, reductions chosen", "averaged over all",
        ] {
            #expect(svg.contains(">\(label)</text>"), "row \(label)")
        }
        #expect(svg.components(separatedBy: "<polygon").count - 1 == 2, "two pooled diamonds")
        #expect(svg.contains("no reduction chosen"))
        #expect(
            PopulationStudy.niceExtent(0.013) == 0.02 && PopulationStudy.niceExtent(0.05) == 0.05)
    }

    @Test func documentKeepsTheProseAroundItsMarkers() throws {
        let s = try study()
        let prose =
            "# Title\n\nintro\n\n<!-- population:begin -->\nold\n<!-- population:end -->\n\nafter\n"
        let doc = s.document(replacingIn: prose)
        #expect(doc.hasPrefix("# Title\n\nintro\n\n<!-- population:begin -->\n| model |"))
        #expect(doc.hasSuffix("<!-- population:end -->\n\nafter\n") && !doc.contains("old"))
        #expect(s.document(replacingIn: "no markers").hasPrefix("<!-- population:begin -->"))
        #expect(s.document(replacingIn: nil).hasSuffix("<!-- population:end -->\n"))
    }

    @Test func refusesMixedObjectivesMeansAndAnEmptyPopulation() throws {
        #expect(throws: LaserError.self) {
            try PopulationStudy([
                ("a", try summary("m1", gained: 1, lost: 0)),
                ("b", try summary("m2", gained: 1, lost: 0, objective: "accuracy")),
            ])
        }
        #expect(throws: LaserError.self) {
            try PopulationStudy([("a", try summary("mean", gained: 1, lost: 0, kind: "mean"))])
        }
        #expect(throws: LaserError.self) { try PopulationStudy([]) }
    }
}
