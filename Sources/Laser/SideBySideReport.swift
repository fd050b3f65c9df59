// Several sweeps in one report, side by side: for each model, the unreduced score, the reduction
// chosen on validation and what it does on test, with intervals and p-values; and an SVG figure of
// the test rates. Reads each sweep's summary.json, so any model family's sweep can take part.
import Foundation

/// The side-by-side report of labelled sweeps.
public enum SideBySideReport {
    public typealias Entry = (label: String, summary: SweepSummaryFile)

    static func percent(_ x: Double?) -> String {
        x.map { String(format: "%.1f%%", 100 * $0) } ?? "–"
    }

    static func rate(_ value: Double?, _ low: Double?, _ high: Double?) -> String {
        guard let value else { return "–" }
        guard let low, let high else { return percent(value) }
        return String(format: "%.1f%% [%.1f, %.1f]", 100 * value, 100 * low, 100 * high)
    }

    static func delta(_ c: SweepSummaryFile.Comparison?) -> String {
        guard let c else { return "–" }
        if c.kind == "rate" {
            return
                "\(Statistics.signedPoints(c.difference)) [\(Statistics.signedPoints(c.ci95Low)), \(Statistics.signedPoints(c.ci95High))] pts"
        }
        return String(format: "%+.4f [%+.4f, %+.4f]", c.difference, c.ci95Low, c.ci95High)
    }

    public static func markdown(_ entries: [Entry]) -> String {
        var rows: [(String, [String])] = []
        func add(_ name: String, _ cell: (SweepSummaryFile) -> String) {
            rows.append((name, entries.map { cell($0.summary) }))
        }
        add("objective") { "`\($0.objective)`" }
        add("configurations tried on validation") { "\($0.configurationsTried)" }
        add("unreduced, validation") { s in
            let c = s.best?.validationComparison
            return rate(
                s.baseline.validation?[s.objective], c?.baselineCi95Low, c?.baselineCi95High)
        }
        add("chosen on validation") { s in
            guard let b = s.chosen else {
                guard let best = s.best else { return "–" }
                return
                    "no reduction chosen on validation (best: `\(best.interventions.joined(separator: " + "))`, \(delta(best.validationComparison)))"
            }
            return "`\(b.interventions.joined(separator: " + "))`: \(delta(b.validationComparison))"
        }
        add("unreduced, test") { s in
            let c = s.chosen?.testComparison
            return rate(s.baseline.test?[s.objective], c?.baselineCi95Low, c?.baselineCi95High)
        }
        add("chosen, test") { s in
            let c = s.chosen?.testComparison
            return rate(s.chosen?.test?[s.objective], c?.reducedCi95Low, c?.reducedCi95High)
        }
        add("Δ on test [95% CI]") { delta($0.chosen?.testComparison) }
        add("p-value on test") { s in
            guard let c = s.chosen?.testComparison else { return "–" }
            let test = c.kind == "rate" ? "exact McNemar" : "paired bootstrap"
            let pairs = c.gained.map { g in ", gained \(g), lost \(c.lost ?? 0)" } ?? ""
            return "\(Statistics.formatP(c.pValue)) (\(test)\(pairs); n = \(c.n))"
        }
        add("beyond noise?") { s in
            guard let c = s.chosen?.testComparison else { return "–" }
            guard c.significant else { return "no" }
            let better = (c.difference > 0) == s.higherIsBetter
            return better ? "**yes: better**" : "**yes: worse**"
        }
        add("side effects of the choice") { s in sideEffectCell(s) }
        var out = "| | " + entries.map(\.label).joined(separator: " | ") + " |\n"
        out += "|---|" + entries.map { _ in "---|" }.joined() + "\n"
        for (name, cells) in rows {
            out += "| \(name) | " + cells.joined(separator: " | ") + " |\n"
        }
        out += "\n"
        for e in entries { out += "- **\(e.label)**: \(e.summary.verdict)\n" }
        return out
    }

    /// The chosen reduction's side effects in one cell: perplexity before and after when the
    /// sweep measured it, the mean KL divergence from the unreduced model and the top-outcome
    /// agreement.
    static func sideEffectCell(_ s: SweepSummaryFile) -> String {
        guard let e = s.sideEffects.first(where: { !$0.interventions.isEmpty }) else {
            return s.sideEffects.first.map { e in
                e.metrics["unreduced_perplexity"].map {
                    String(format: "none (unreduced perplexity %.3f on %@)", $0, e.data)
                } ?? "none: nothing chosen"
            } ?? "–"
        }
        var parts: [String] = []
        if let before = e.metrics["unreduced_perplexity"], let after = e.metrics["perplexity"] {
            parts.append(String(format: "perplexity %.3f → %.3f", before, after))
        }
        if let d = e.shift {
            parts.append(String(format: "mean KL %.4g nats", d.meanKLD))
            parts.append(String(format: "same top %.1f%%", 100 * d.sameTop))
        }
        return parts.joined(separator: "; ") + " (\(e.data))"
    }

    /// Bars of the test rates (unreduced, chosen) with their Wilson intervals, one pair per model.
    public static func svg(_ entries: [Entry]) -> String {
        let groupWidth = 330
        let barWidth = 90
        let left = 60
        let top = 50
        let plotHeight = 240
        let width = max(720, left + groupWidth * entries.count + 20)
        let height = top + plotHeight + 90
        func y(_ v: Double) -> Int {
            top + plotHeight - Int((max(0, min(1, v)) * Double(plotHeight)).rounded())
        }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="10" y="20" font-size="14" font-weight="bold">LASER on test: unreduced vs the reduction chosen on validation (95% Wilson intervals)</text>

            """
        for tick in stride(from: 0.0, through: 1.0, by: 0.25) {
            svg +=
                "<line x1=\"\(left - 5)\" y1=\"\(y(tick))\" x2=\"\(width - 10)\" y2=\"\(y(tick))\" stroke=\"#e5e5e5\"/>"
            svg +=
                "<text x=\"\(left - 8)\" y=\"\(y(tick) + 4)\" text-anchor=\"end\">\(Int(tick * 100))%</text>\n"
        }
        for (g, entry) in entries.enumerated() {
            let s = entry.summary
            let c = s.chosen?.testComparison
            let bars: [(String, Double?, Double?, Double?, String)] = [
                (
                    "unreduced", s.baseline.test?[s.objective], c?.baselineCi95Low,
                    c?.baselineCi95High, "#9aa5b1"
                ),
                (
                    s.chosen?.interventions.joined(separator: "+") ?? "no reduction chosen",
                    s.chosen?.test?[s.objective],
                    c?.reducedCi95Low,
                    c?.reducedCi95High, "#3b6fb6"
                ),
            ]
            let x0 = left + g * groupWidth + 60
            for (k, bar) in bars.enumerated() {
                let x = x0 + k * (barWidth + 10)
                guard let v = bar.1 else { continue }
                svg +=
                    "<rect x=\"\(x)\" y=\"\(y(v))\" width=\"\(barWidth)\" height=\"\(top + plotHeight - y(v))\" fill=\"\(bar.4)\"/>\n"
                if let lo = bar.2, let hi = bar.3 {
                    let cx = x + barWidth / 2
                    svg +=
                        "<line x1=\"\(cx)\" y1=\"\(y(lo))\" x2=\"\(cx)\" y2=\"\(y(hi))\" stroke=\"black\"/>"
                    svg +=
                        "<line x1=\"\(cx - 8)\" y1=\"\(y(lo))\" x2=\"\(cx + 8)\" y2=\"\(y(lo))\" stroke=\"black\"/>"
                    svg +=
                        "<line x1=\"\(cx - 8)\" y1=\"\(y(hi))\" x2=\"\(cx + 8)\" y2=\"\(y(hi))\" stroke=\"black\"/>\n"
                }
                svg +=
                    "<text x=\"\(x + barWidth / 2)\" y=\"\(y(max(v, bar.3 ?? v)) - 6)\" text-anchor=\"middle\" font-size=\"11\">\(percent(v))</text>\n"
                svg +=
                    "<text x=\"\(x + barWidth / 2)\" y=\"\(top + plotHeight + 16)\" text-anchor=\"middle\" font-size=\"10\">\(SearchReport.escape(bar.0))</text>\n"
            }
            svg +=
                "<text x=\"\(x0 + barWidth + 5)\" y=\"\(top + plotHeight + 36)\" text-anchor=\"middle\" font-weight=\"bold\">\(SearchReport.escape(entry.label))</text>\n"
            let note =
                c.map { "Δ \(delta($0)), p = \(Statistics.formatP($0.pValue))" }
                ?? (s.chosen == nil && s.best != nil
                    ? "no reduction chosen on validation" : "not evaluated on test")
            svg +=
                "<text x=\"\(x0 + barWidth + 5)\" y=\"\(top + plotHeight + 54)\" text-anchor=\"middle\" font-size=\"11\">\(SearchReport.escape(s.objective)) on test</text>\n"
            svg +=
                "<text x=\"\(x0 + barWidth + 5)\" y=\"\(top + plotHeight + 70)\" text-anchor=\"middle\" font-size=\"11\">\(SearchReport.escape(note))</text>\n"
        }
        return svg + "</svg>\n"
    }
}
