// Renders a search's results as Markdown, CSV and an SVG heatmap per type (layers × ρ).
import Core
import Foundation

public enum SearchReport {
    /// A Markdown report: baseline, best single intervention and composition on both splits with
    /// the paired statistics against the unreduced model, a verdict on the choice, and the full grid
    /// on validation.
    public static func markdown(
        _ s: SearchSummary, metrics: [String], sideEffects: [SideEffects] = []
    ) -> String {
        let objective = s.objective.metric
        func cells(_ m: Metrics?) -> String {
            metrics.map { key in m?[key].map { format($0) } ?? "–" }.joined(separator: " | ")
        }
        func stats(_ c: MetricComparison?) -> String {
            guard let c else { return "– | –" }
            return "\(delta(c)) | \(Statistics.formatP(c.pValue))"
        }
        var out =
            "| model | split | " + metrics.joined(separator: " | ")
            + " | Δ \(objective) [95% CI] | p_value |\n"
        out += "|---|---|" + metrics.map { _ in "---:|" }.joined() + "---:|---:|\n"
        out += "| unreduced | validation | \(cells(s.baselineValidation)) | | |\n"
        if let t = s.baselineTest { out += "| unreduced | test | \(cells(t)) | | |\n" }
        if let b = s.best {
            let row = s.sweep.firstIndex { $0.intervention == b.intervention }
            let validation = row.flatMap { s.sweepComparisons[$0] }
            let label = s.chosen == nil ? "best reduction (not chosen)" : "chosen"
            out +=
                "| \(label): `\(b.intervention)` | validation | \(cells(b.validation)) | \(stats(validation)) |\n"
            if let t = b.test {
                out +=
                    "| \(label): `\(b.intervention)` | test | \(cells(t)) | \(stats(s.bestTestComparison)) |\n"
            }
        }
        if let c = s.composition {
            let name =
                c.interventions.isEmpty
                ? "none kept" : c.interventions.map(\.description).joined(separator: " + ")
            let label = s.compositionChosen ? "greedy" : "greedy (not chosen)"
            out += "| \(label): `\(name)` | validation | \(cells(c.validation)) | | |\n"
            if let t = c.test {
                out +=
                    "| \(label): `\(name)` | test | \(cells(t)) | \(stats(s.compositionTestComparison)) |\n"
            }
        }
        out += "\n" + verdict(s) + "\n"
        out += sideEffectsMarkdown(sideEffects)
        out +=
            "\nSweep on validation (objective `\(objective)`, \(s.objective.higherIsBetter ? "higher" : "lower") is better; "
            + "Δ against the unreduced model on the same items, McNemar p for rates, bootstrap p for means):\n\n"
        out +=
            "| layer | type | ρ | " + metrics.joined(separator: " | ")
            + " | Δ \(objective) [95% CI] | p_value | params after/before |\n"
        out += "|---:|---|---:|" + metrics.map { _ in "---:|" }.joined() + "---:|---:|---:|\n"
        let base = s.baselineValidation[objective]
        for (row, (i, r)) in s.sweep.enumerated() {
            let ratio =
                r.parametersBefore > 0 ? Double(r.parametersAfter) / Double(r.parametersBefore) : 1
            let comparison = s.sweepComparisons[row]
            let fallback = base.flatMap { b in r.metrics[objective].map { signed($0 - b) } } ?? "–"
            let statCells = comparison.map { stats($0) } ?? "\(fallback) | –"
            out +=
                "| \(i.layer) | \(i.type) | \(Intervention.format(i.rho)) | \(cells(r.metrics)) | \(statCells) | \(String(format: "%.3f", ratio)) |\n"
        }
        return out
    }

    /// The report's conclusion in words: what was chosen among how many configurations, and
    /// whether its change on test is beyond noise.
    public static func verdict(_ s: SearchSummary) -> String {
        let objective = s.objective.metric
        guard let b = s.best else { return "No grid point has been evaluated yet." }
        let tried =
            "\(s.configurationsTried) configuration\(s.configurationsTried == 1 ? "" : "s")"
        guard s.chosen != nil else {
            let row = s.sweep.firstIndex { $0.intervention == b.intervention }
            let c = row.flatMap { s.sweepComparisons[$0] }
            var text =
                "**No reduction chosen on validation**: the best of \(tried), `\(b.intervention)`, does not beat the unreduced model"
            text += c.map { " (Δ \(objective) \($0.summary))" } ?? ""
            text += ", so the unreduced model stands and nothing is reported on test."
            if let comp = s.composition, !comp.interventions.isEmpty {
                text +=
                    s.compositionChosen
                    ? (s.compositionTestComparison.map {
                        " The greedy composition `\(comp.interventions.map(\.description).joined(separator: " + "))` beats it on validation; on test: \($0.summary)."
                    } ?? "")
                    : " Nor does the greedy composition."
            }
            return text
        }
        var text =
            "**Chosen on validation** among \(tried): `\(b.intervention)`."
        guard let c = s.bestTestComparison else {
            return text
                + (b.test == nil
                    ? " Not yet evaluated on test."
                    : " (No per-item scores in the log: no test statistics.)")
        }
        text += " **On test**: Δ \(objective) \(c.summary)"
        text +=
            c.significant
            ? (c.difference * (s.objective.higherIsBetter ? 1 : -1) > 0
                ? " — a significant improvement." : " — a significant loss.")
            : " — no evidence that the reduction changes \(objective)."
        if let g = s.compositionTestComparison, let comp = s.composition {
            text +=
                " The greedy composition `\(comp.interventions.map(\.description).joined(separator: " + "))` on test: \(g.summary)."
        }
        if s.configurationsTried > 1 {
            text +=
                " With \(s.configurationsTried) configurations tried, the best validation score is biased upwards; only the test comparison counts."
        }
        return text
    }

    /// "+1.2 [−0.5, +2.9]" in percentage points for rates, in units for means.
    public static func delta(_ c: MetricComparison) -> String {
        switch c {
        case .rate(let r):
            return
                "\(Statistics.signedPoints(r.difference)) [\(Statistics.signedPoints(r.differenceCI.low)), \(Statistics.signedPoints(r.differenceCI.high))] pts"
        case .mean(let m):
            return String(
                format: "%+.4f [%+.4f, %+.4f]", m.difference, m.differenceCI.low,
                m.differenceCI.high)
        }
    }

    /// CSV, one row per logged grid point (validation) plus baseline, best and greedy rows; the
    /// comparison columns hold the objective's paired statistics against the unreduced model on
    /// the same split (empty where they do not apply).
    public static func csv(_ s: SearchSummary, metrics: [String]) -> String {
        var out =
            "phase,split,layer,type,rho,interventions," + metrics.joined(separator: ",")
            + ",params_before,params_after,delta,ci95_low,ci95_high,p_value,gained,lost\n"
        func row(
            _ phase: String, _ split: String, _ layer: String, _ type: String, _ rho: String,
            _ name: String,
            _ m: Metrics, _ pb: Int, _ pa: Int, _ c: MetricComparison? = nil
        ) {
            var cells =
                [phase, split, layer, type, rho, name]
                + metrics.map { m[$0].map { String($0) } ?? "" }
            cells += ["\(pb)", "\(pa)"]
            if let c {
                cells += [
                    String(c.difference), String(c.interval.low), String(c.interval.high),
                    String(c.pValue),
                ]
                cells += c.gainedLost.map { ["\($0.gained)", "\($0.lost)"] } ?? ["", ""]
            } else {
                cells += ["", "", "", "", "", ""]
            }
            out += cells.joined(separator: ",") + "\n"
        }
        row("baseline", "validation", "", "", "", "", s.baselineValidation, 0, 0)
        if let t = s.baselineTest { row("baseline", "test", "", "", "", "", t, 0, 0) }
        for (k, (i, r)) in s.sweep.enumerated() {
            row(
                "sweep", "validation", "\(i.layer)", i.type, Intervention.format(i.rho),
                i.description, r.metrics,
                r.parametersBefore, r.parametersAfter, s.sweepComparisons[k])
        }
        if let b = s.best, let t = b.test {
            row(
                "best", "test", "\(b.intervention.layer)", b.intervention.type,
                Intervention.format(b.intervention.rho),
                b.intervention.description, t, 0, 0, s.bestTestComparison)
        }
        if let c = s.composition, let t = c.test {
            row(
                "greedy", "test", "", "", "",
                c.interventions.map(\.description).joined(separator: "+"), t, 0, 0,
                s.compositionTestComparison)
        }
        return out
    }

    /// The side-effect section: each measured model's figures and its shift from the unreduced.
    public static func sideEffectsMarkdown(_ effects: [SideEffects]) -> String {
        guard !effects.isEmpty else { return "" }
        var out = "\nSide effects on \(effects[0].data), against the unreduced model:\n\n"
        let keys = Array(Set(effects.flatMap { $0.metrics.keys })).sorted()
        out += "| model | " + keys.joined(separator: " | ")
        out += " | mean KL [±SE] | 99% KL | same top [±SE] | mean Δp |\n"
        out += "|---|" + keys.map { _ in "---:|" }.joined() + "---:|---:|---:|---:|\n"
        for e in effects {
            let name =
                e.interventions.isEmpty
                ? "unreduced" : "`" + e.interventions.joined(separator: " + ") + "`"
            out += "| \(name) | "
            out += keys.map { k in
                e.metrics[k].map { $0 == $0.rounded() ? String(format: "%.0f", $0) : format($0) }
                    ?? "–"
            }.joined(separator: " | ")
            if let d = e.shift {
                out += String(
                    format: " | %.4g ±%.2g | %.4g | %.2f%% ±%.2f | %@ |\n", d.meanKLD,
                    d.meanKLDStandardError, d.kld99, 100 * d.sameTop, 100 * d.sameTopStandardError,
                    d.meanProbabilityChange.map { String(format: "%+.2f%%", 100 * $0) } ?? "–")
            } else {
                out += " | 0 | 0 | 100% | – |\n"
            }
        }
        return out
    }

    /// The summary as JSON (the same figures as the Markdown report, named plainly): the one
    /// schema of `SweepSummaryFile`.
    public static func json(_ s: SearchSummary, sideEffects: [SideEffects] = []) throws -> String {
        let file = SweepSummaryFile(s, sideEffects: sideEffects)
        return try JSONEncoding.string(file, style: [.pretty, .plainSlashes]) + "\n"
    }

    /// An SVG heatmap for one type: rows are layers, columns ρ (descending), colour the change of
    /// the objective from the unreduced model (blue better, red worse, white unchanged).
    public static func heatmapSVG(_ s: SearchSummary, type: String, grid: SweepGrid) -> String {
        let metric = s.objective.metric
        let base = s.baselineValidation[metric] ?? 0
        var deltas: [Int: [Double: Double]] = [:]
        for (i, r) in s.sweep where i.type == type {
            guard case .index(let l) = i.layer, let v = r.metrics[metric] else { continue }
            deltas[l, default: [:]][i.rho] = (v - base) * (s.objective.higherIsBetter ? 1 : -1)
        }
        let maxAbs = max(1e-12, deltas.values.flatMap(\.values).map(abs).max() ?? 0)
        let cell = 44
        let labelWidth = 70
        let top = 60
        let cellHeight = 22
        let width = labelWidth + cell * grid.rhos.count + 150
        let height = top + cellHeight * grid.layers.count + 50
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" font-family="sans-serif" font-size="11">
            <rect width="100%" height="100%" fill="white"/>
            <text x="10" y="18" font-size="14" font-weight="bold">\(escape(type)): change of \(escape(metric)) vs unreduced (\(format(base)))</text>
            <text x="10" y="36">rows: layer · columns: ρ (fraction of rank kept) · blue better, red worse, grey not evaluated</text>

            """
        for (j, rho) in grid.rhos.enumerated() {
            svg +=
                "<text x=\"\(labelWidth + j * cell + cell / 2)\" y=\"\(top - 6)\" text-anchor=\"middle\">\(Intervention.format(rho))</text>\n"
        }
        for (i, layer) in grid.layers.enumerated() {
            let y = top + i * cellHeight
            svg +=
                "<text x=\"\(labelWidth - 8)\" y=\"\(y + 15)\" text-anchor=\"end\">layer \(LayerSelector.name(layer))</text>\n"
            for (j, rho) in grid.rhos.enumerated() {
                let x = labelWidth + j * cell
                if let d = deltas[layer]?[rho] {
                    svg +=
                        "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell - 1)\" height=\"\(cellHeight - 1)\" fill=\"\(color(d / maxAbs))\"><title>layer \(LayerSelector.name(layer)) ρ \(Intervention.format(rho)): \(signed(d))</title></rect>\n"
                    svg +=
                        "<text x=\"\(x + cell / 2)\" y=\"\(y + 15)\" text-anchor=\"middle\" font-size=\"9\">\(signed(d, digits: 3))</text>\n"
                } else {
                    svg +=
                        "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell - 1)\" height=\"\(cellHeight - 1)\" fill=\"#dddddd\"/>\n"
                }
            }
        }
        let lx = labelWidth + cell * grid.rhos.count + 20
        svg +=
            "<text x=\"\(lx)\" y=\"\(top + 10)\">+\(format(maxAbs))</text><rect x=\"\(lx)\" y=\"\(top + 14)\" width=\"16\" height=\"16\" fill=\"\(color(1))\"/>\n"
        svg +=
            "<text x=\"\(lx)\" y=\"\(top + 46)\">0</text><rect x=\"\(lx)\" y=\"\(top + 50)\" width=\"16\" height=\"16\" fill=\"\(color(0))\" stroke=\"#999\"/>\n"
        svg +=
            "<text x=\"\(lx)\" y=\"\(top + 82)\">−\(format(maxAbs))</text><rect x=\"\(lx)\" y=\"\(top + 86)\" width=\"16\" height=\"16\" fill=\"\(color(-1))\"/>\n"
        return svg + "</svg>\n"
    }

    /// Diverging colour: −1 red, 0 white, +1 blue.
    static func color(_ t: Double) -> String {
        let c = max(-1, min(1, t))
        let (r, g, b): (Double, Double, Double) =
            c >= 0 ? (1 - 0.8 * c, 1 - 0.55 * c, 1) : (1, 1 + 0.75 * c, 1 + 0.8 * c)
        return String(format: "#%02x%02x%02x", Int(r * 255), Int(g * 255), Int(b * 255))
    }

    static func format(_ v: Double) -> String { String(format: abs(v) >= 100 ? "%.1f" : "%.4f", v) }
    static func signed(_ v: Double, digits: Int = 4) -> String {
        String(format: "%+.\(digits)f", v)
    }
    public static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
