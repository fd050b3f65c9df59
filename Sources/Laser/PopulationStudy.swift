// LASER across a population of models: each sweep's choice on validation and its paired difference
// on test, pooled over the population, as a Markdown table and an SVG forest plot. It reads each
// sweep's summary.json, so it knows no model; pooling needs paired rates (a solve rate, a match).
import Foundation

/// A population of finished sweeps and what the protocol did across them.
public struct PopulationStudy: Sendable {
    /// One sweep of the population. `group` is the label's text before ": " ("conv: conv-8x32" is
    /// in group "conv"), so the report can pool within kinds of model as well as over all.
    public struct Member: Sendable {
        public let label: String
        public let group: String?
        /// The interventions chosen on validation (nil: none beat the unreduced model).
        public let chosen: [String]?
        /// The chosen reduction against the unreduced model on test.
        public let test: PairedRates?
        public let configurationsTried: Int
        /// The unreduced model's test score.
        public let baselineTest: Double?
        /// The best reduction on validation when none was chosen, with its validation difference.
        public let bestNotChosen: (interventions: [String], difference: Double)?
    }

    /// A paired comparison of rates on one test set: discordant pairs and the difference.
    public struct PairedRates: Sendable, Equatable {
        public let n: Int
        public let gained: Int
        public let lost: Int
        public let difference: Double
        public let interval: Interval
        public let pValue: Double

        /// The matched-pairs variance of the difference of two rates: ((b + c)/n − d²)/n.
        public var variance: Double {
            let d = Double(gained - lost) / Double(n)
            return max(0, (Double(gained + lost) / Double(n) - d * d) / Double(n))
        }
    }

    /// A pooled estimate: the mean of the members' differences (equal weights; a member with no
    /// reduction chosen counts as exactly 0 where it is included), its normal 95% interval from the
    /// summed matched-pairs variances, and the exact McNemar test of the summed discordant pairs
    /// (stratified: under no effect in any member, each discordant pair is a fair coin).
    public struct Pool: Sendable, Equatable {
        public let members: Int
        public let gained: Int
        public let lost: Int
        public let difference: Double
        public let interval: Interval
        public let pValue: Double

        public init(_ rates: [PairedRates?]) {
            members = rates.count
            let present = rates.compactMap { $0 }
            gained = present.map(\.gained).reduce(0, +)
            lost = present.map(\.lost).reduce(0, +)
            let k = Double(max(1, rates.count))
            difference = present.map(\.difference).reduce(0, +) / k
            let se = sqrt(present.map(\.variance).reduce(0, +)) / k
            interval = Interval(low: difference - z95 * se, high: difference + z95 * se)
            pValue = Statistics.exactMcNemar(gained: gained, lost: lost)
        }

        var summary: String {
            "\(Statistics.signedPoints(difference)) points [\(Statistics.signedPoints(interval.low)), \(Statistics.signedPoints(interval.high))], p = \(Statistics.formatP(pValue)) (gained \(gained), lost \(lost); \(members) \(members == 1 ? "model" : "models"))"
        }
    }

    public let members: [Member]
    public let objective: String

    /// The population of `entries` (label, summary). Every sweep must share one objective, and a
    /// chosen reduction must have been compared on test as a paired rate.
    public init(_ entries: [(label: String, summary: SweepSummaryFile)]) throws {
        guard let first = entries.first else {
            throw LaserError.invalidPopulation("a population needs at least one sweep")
        }
        objective = first.summary.objective
        var members: [Member] = []
        for (label, s) in entries {
            guard s.objective == objective else {
                throw LaserError.invalidPopulation(
                    "sweep '\(label)' has objective '\(s.objective)', the first has '\(objective)': a population shares one objective"
                )
            }
            var test: PairedRates?
            if let chosen = s.chosen {
                guard let c = chosen.testComparison else {
                    throw LaserError.invalidPopulation(
                        "sweep '\(label)' chose \(chosen.interventions.joined(separator: " + ")) but has no test result (run it with --test)"
                    )
                }
                guard c.kind == "rate", let gained = c.gained, let lost = c.lost else {
                    throw LaserError.invalidPopulation(
                        "sweep '\(label)' compares a mean ('\(objective)'): pooling needs paired rates"
                    )
                }
                test = PairedRates(
                    n: c.n, gained: gained, lost: lost, difference: c.difference,
                    interval: Interval(low: c.ci95Low, high: c.ci95High), pValue: c.pValue)
            }
            let split = label.range(of: ": ")
            members.append(
                Member(
                    label: label, group: split.map { String(label[..<$0.lowerBound]) },
                    chosen: s.chosen?.interventions, test: test,
                    configurationsTried: s.configurationsTried,
                    baselineTest: s.baseline.test?[objective],
                    bestNotChosen: s.chosen == nil
                        ? s.best.map { b in
                            (b.interventions, b.validationComparison?.difference ?? 0)
                        } : nil))
        }
        self.members = members
    }

    /// Groups in the order they first appear.
    public var groups: [String] {
        var seen: [String] = []
        for m in members { if let g = m.group, !seen.contains(g) { seen.append(g) } }
        return seen
    }

    /// Pooled over the members with a reduction chosen (what choosing one bought).
    public func pooledChosen(group: String? = nil) -> Pool {
        Pool(
            members.filter { group == nil || $0.group == group }.compactMap(\.test).map {
                Optional($0)
            })
    }

    /// Averaged over every member, a member with no reduction chosen counting as no change (what
    /// running the protocol on a policy of the population does).
    public func pooledProtocol(group: String? = nil) -> Pool {
        Pool(members.filter { group == nil || $0.group == group }.map(\.test))
    }

    /// The plain-language findings: how often a reduction was chosen and what it did on test.
    public var findings: [String] {
        let chosen = members.filter { $0.test != nil }
        let better = chosen.filter { $0.test!.pValue < 0.05 && $0.test!.difference > 0 }.count
        let worse = chosen.filter { $0.test!.pValue < 0.05 && $0.test!.difference < 0 }.count
        var lines = [
            "Validation chose a reduction for \(chosen.count) of \(members.count) models; on test it was better beyond noise (p < 0.05) for \(better), worse beyond noise for \(worse), and inside the noise for \(chosen.count - better - worse)."
        ]
        if !chosen.isEmpty {
            lines.append(
                "Pooled over the \(chosen.count) with a reduction chosen: \(pooledChosen().summary)."
            )
        }
        lines.append(
            "Averaged over all \(members.count) (no reduction chosen = no change): \(pooledProtocol().summary)."
        )
        for g in groups {
            let inGroup = members.filter { $0.group == g }
            let k = inGroup.filter { $0.test != nil }.count
            var line = "**\(g)** (\(inGroup.count)): chosen for \(k)"
            if k > 0 { line += "; pooled over those, \(pooledChosen(group: g).summary)" }
            line += "; averaged over all, \(pooledProtocol(group: g).summary)."
            lines.append(line)
        }
        return lines
    }

    static func points(_ x: Double) -> String { Statistics.signedPoints(x) }

    /// The table of members, then the pooled rows and the findings.
    public var markdown: String {
        var out =
            "| model | configurations tried | unreduced, test | chosen on validation | Δ on test [95% CI] | p (exact McNemar) | gained / lost |\n"
        out += "|---|---:|---:|---|---|---:|---:|\n"
        for m in members {
            let base = m.baselineTest.map { String(format: "%.1f%%", 100 * $0) } ?? "–"
            if let chosen = m.chosen, let t = m.test {
                out +=
                    "| \(m.label) | \(m.configurationsTried) | \(base) | `\(chosen.joined(separator: " + "))` | \(Self.points(t.difference)) [\(Self.points(t.interval.low)), \(Self.points(t.interval.high))] | \(Statistics.formatP(t.pValue)) | \(t.gained) / \(t.lost) |\n"
            } else {
                let best =
                    m.bestNotChosen.map {
                        " (best: `\($0.interventions.joined(separator: " + "))`, \(Self.points($0.difference)) on validation)"
                    } ?? ""
                out +=
                    "| \(m.label) | \(m.configurationsTried) | \(base) | none\(best) | no change | – | – |\n"
            }
        }
        let chosen = pooledChosen()
        let all = pooledProtocol()
        out +=
            "| **pooled, reductions chosen** | | | \(chosen.members) models | \(Self.points(chosen.difference)) [\(Self.points(chosen.interval.low)), \(Self.points(chosen.interval.high))] | \(Statistics.formatP(chosen.pValue)) | \(chosen.gained) / \(chosen.lost) |\n"
        out +=
            "| **averaged over all** | | | \(all.members) models | \(Self.points(all.difference)) [\(Self.points(all.interval.low)), \(Self.points(all.interval.high))] | \(Statistics.formatP(all.pValue)) | \(all.gained) / \(all.lost) |\n"
        out += "\n" + findings.map { "- \($0)\n" }.joined()
        return out
    }

    /// A forest plot: each member's Δ on test with its 95% interval (a hollow mark at 0 where no
    /// reduction was chosen), then the pooled estimates as diamonds.
    public var svg: String {
        let rowHeight = 24
        let labelWidth = 300
        let plotWidth = 420
        let top = 56
        let rows = members.count + 3
        let width = labelWidth + plotWidth + 200
        let height = top + rows * rowHeight + 40
        let bounds = members.compactMap(\.test).flatMap { [$0.interval.low, $0.interval.high] }
        let extent = Self.niceExtent(max(0.01, bounds.map(abs).max() ?? 0.01))
        func x(_ d: Double) -> Int {
            labelWidth + Int(((d + extent) / (2 * extent) * Double(plotWidth)).rounded())
        }
        let bottom = top + rows * rowHeight
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="10" y="20" font-size="14" font-weight="bold">LASER across \(members.count) models: Δ \(SearchReport.escape(objective)) on test of the reduction chosen on validation (95% intervals)</text>

            """
        let step = extent / 2
        for i in -2...2 {
            let v = Double(i) * step
            svg +=
                "<line x1=\"\(x(v))\" y1=\"\(top - 8)\" x2=\"\(x(v))\" y2=\"\(bottom)\" stroke=\"\(i == 0 ? "#888" : "#e5e5e5")\"/>"
            svg +=
                "<text x=\"\(x(v))\" y=\"\(bottom + 16)\" text-anchor=\"middle\">\(Self.points(v))</text>\n"
        }
        svg +=
            "<text x=\"\(labelWidth + plotWidth / 2)\" y=\"\(bottom + 32)\" text-anchor=\"middle\">points (reduced − unreduced)</text>\n"
        func label(_ row: Int, _ text: String, bold: Bool = false) -> Int {
            let y = top + row * rowHeight + rowHeight / 2
            svg +=
                "<text x=\"\(labelWidth - 10)\" y=\"\(y + 4)\" text-anchor=\"end\"\(bold ? " font-weight=\"bold\"" : "")>\(SearchReport.escape(text))</text>"
            return y
        }
        func right(_ y: Int, _ text: String) {
            svg +=
                "<text x=\"\(labelWidth + plotWidth + 10)\" y=\"\(y + 4)\" font-size=\"11\">\(SearchReport.escape(text))</text>\n"
        }
        for (i, m) in members.enumerated() {
            let y = label(i, m.label)
            guard let t = m.test else {
                svg +=
                    "<circle cx=\"\(x(0))\" cy=\"\(y)\" r=\"4\" fill=\"white\" stroke=\"#888\"/>"
                right(y, "no reduction chosen")
                continue
            }
            svg +=
                "<line x1=\"\(x(t.interval.low))\" y1=\"\(y)\" x2=\"\(x(t.interval.high))\" y2=\"\(y)\" stroke=\"black\"/>"
            svg +=
                "<rect x=\"\(x(t.difference) - 4)\" y=\"\(y - 4)\" width=\"8\" height=\"8\" fill=\"#3b6fb6\"/>"
            right(
                y,
                "\(Self.points(t.difference)) [\(Self.points(t.interval.low)), \(Self.points(t.interval.high))]"
            )
        }
        for (k, (name, pool)) in [
            ("pooled, reductions chosen", pooledChosen()), ("averaged over all", pooledProtocol()),
        ].enumerated() {
            let y = label(members.count + 1 + k, name, bold: true)
            let (lo, mid, hi) = (x(pool.interval.low), x(pool.difference), x(pool.interval.high))
            svg +=
                "<polygon points=\"\(lo),\(y) \(mid),\(y - 6) \(hi),\(y) \(mid),\(y + 6)\" fill=\"#b6473b\"/>"
            right(
                y,
                "\(Self.points(pool.difference)) [\(Self.points(pool.interval.low)), \(Self.points(pool.interval.high))], p = \(Statistics.formatP(pool.pValue))"
            )
        }
        return svg + "</svg>\n"
    }

    /// The smallest of 1, 2, 5 × 10ⁿ (as a rate) at least `x`: the axis runs from −it to +it.
    static func niceExtent(_ x: Double) -> Double {
        var scale = 0.001
        while true {
            for m in [1.0, 2.0, 5.0] where m * scale >= x { return m * scale }
            scale *= 10
        }
    }

    /// `text` with the report put between `<!-- population:begin -->` and `<!-- population:end -->`
    /// when `existing` holds both markers (the prose around them is kept), or the report alone.
    public func document(replacingIn existing: String?) -> String {
        let begin = "<!-- population:begin -->"
        let end = "<!-- population:end -->"
        let body = "\(begin)\n\(markdown)\(end)"
        guard let existing, let b = existing.range(of: begin),
            let e = existing.range(of: end, range: b.upperBound..<existing.endIndex)
        else { return body + "\n" }
        return existing.replacingCharacters(in: b.lowerBound..<e.upperBound, with: body)
    }
}
