// Renders a search's results as Markdown, CSV and an SVG heatmap per type (layers × ρ).
import Foundation

public enum SearchReport {
    /// A Markdown report: baseline, best single intervention and composition on both splits, and
    /// the full grid on validation.
    public static func markdown(_ s: SearchSummary, metrics: [String]) -> String {
        func cells(_ m: Metrics?) -> String {
            metrics.map { key in m?[key].map { format($0) } ?? "–" }.joined(separator: " | ")
        }
        var out = "| model | split | " + metrics.joined(separator: " | ") + " |\n"
        out += "|---|---|" + metrics.map { _ in "---:|" }.joined() + "\n"
        out += "| unreduced | validation | \(cells(s.baselineValidation)) |\n"
        if let t = s.baselineTest { out += "| unreduced | test | \(cells(t)) |\n" }
        if let b = s.best {
            out += "| best: `\(b.intervention)` | validation | \(cells(b.validation)) |\n"
            if let t = b.test { out += "| best: `\(b.intervention)` | test | \(cells(t)) |\n" }
        }
        if let c = s.composition {
            let name = c.interventions.isEmpty ? "none kept" : c.interventions.map(\.description).joined(separator: " + ")
            out += "| greedy: `\(name)` | validation | \(cells(c.validation)) |\n"
            if let t = c.test { out += "| greedy: `\(name)` | test | \(cells(t)) |\n" }
        }
        out += "\nSweep on validation (objective `\(s.objective.metric)`, \(s.objective.higherIsBetter ? "higher" : "lower") is better):\n\n"
        out += "| layer | type | ρ | " + metrics.joined(separator: " | ") + " | Δ \(s.objective.metric) | params after/before |\n"
        out += "|---:|---|---:|" + metrics.map { _ in "---:|" }.joined() + "---:|---:|\n"
        let base = s.baselineValidation[s.objective.metric]
        for (i, r) in s.sweep {
            let delta = base.flatMap { b in r.metrics[s.objective.metric].map { $0 - b } }
            let ratio = r.parametersBefore > 0 ? Double(r.parametersAfter) / Double(r.parametersBefore) : 1
            out += "| \(i.layer) | \(i.type) | \(Intervention.format(i.rho)) | \(cells(r.metrics)) | \(delta.map { signed($0) } ?? "–") | \(String(format: "%.3f", ratio)) |\n"
        }
        return out
    }

    /// CSV, one row per logged grid point (validation) plus baseline rows.
    public static func csv(_ s: SearchSummary, metrics: [String]) -> String {
        var out = "phase,split,layer,type,rho,interventions," + metrics.joined(separator: ",") + ",params_before,params_after\n"
        func row(_ phase: String, _ split: String, _ layer: String, _ type: String, _ rho: String, _ name: String, _ m: Metrics, _ pb: Int, _ pa: Int) {
            out += "\(phase),\(split),\(layer),\(type),\(rho),\(name)," + metrics.map { m[$0].map { String($0) } ?? "" }.joined(separator: ",") + ",\(pb),\(pa)\n"
        }
        row("baseline", "validation", "", "", "", "", s.baselineValidation, 0, 0)
        if let t = s.baselineTest { row("baseline", "test", "", "", "", "", t, 0, 0) }
        for (i, r) in s.sweep {
            row("sweep", "validation", "\(i.layer)", i.type, Intervention.format(i.rho), i.description, r.metrics, r.parametersBefore, r.parametersAfter)
        }
        if let b = s.best, let t = b.test {
            row("best", "test", "\(b.intervention.layer)", b.intervention.type, Intervention.format(b.intervention.rho), b.intervention.description, t, 0, 0)
        }
        if let c = s.composition, let t = c.test {
            row("greedy", "test", "", "", "", c.interventions.map(\.description).joined(separator: "+"), t, 0, 0)
        }
        return out
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
        let cell = 44, labelWidth = 70, top = 60, cellHeight = 22
        let width = labelWidth + cell * grid.rhos.count + 150
        let height = top + cellHeight * grid.layers.count + 50
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" font-family="sans-serif" font-size="11">
            <rect width="100%" height="100%" fill="white"/>
            <text x="10" y="18" font-size="14" font-weight="bold">\(escape(type)): change of \(escape(metric)) vs unreduced (\(format(base)))</text>
            <text x="10" y="36">rows: layer · columns: ρ (fraction of rank kept) · blue better, red worse, grey not evaluated</text>

            """
        for (j, rho) in grid.rhos.enumerated() {
            svg += "<text x=\"\(labelWidth + j * cell + cell / 2)\" y=\"\(top - 6)\" text-anchor=\"middle\">\(Intervention.format(rho))</text>\n"
        }
        for (i, layer) in grid.layers.enumerated() {
            let y = top + i * cellHeight
            svg += "<text x=\"\(labelWidth - 8)\" y=\"\(y + 15)\" text-anchor=\"end\">layer \(layer)</text>\n"
            for (j, rho) in grid.rhos.enumerated() {
                let x = labelWidth + j * cell
                if let d = deltas[layer]?[rho] {
                    svg += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell - 1)\" height=\"\(cellHeight - 1)\" fill=\"\(color(d / maxAbs))\"><title>layer \(layer) ρ \(Intervention.format(rho)): \(signed(d))</title></rect>\n"
                    svg += "<text x=\"\(x + cell / 2)\" y=\"\(y + 15)\" text-anchor=\"middle\" font-size=\"9\">\(signed(d, digits: 3))</text>\n"
                } else {
                    svg += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell - 1)\" height=\"\(cellHeight - 1)\" fill=\"#dddddd\"/>\n"
                }
            }
        }
        let lx = labelWidth + cell * grid.rhos.count + 20
        svg += "<text x=\"\(lx)\" y=\"\(top + 10)\">+\(format(maxAbs))</text><rect x=\"\(lx)\" y=\"\(top + 14)\" width=\"16\" height=\"16\" fill=\"\(color(1))\"/>\n"
        svg += "<text x=\"\(lx)\" y=\"\(top + 46)\">0</text><rect x=\"\(lx)\" y=\"\(top + 50)\" width=\"16\" height=\"16\" fill=\"\(color(0))\" stroke=\"#999\"/>\n"
        svg += "<text x=\"\(lx)\" y=\"\(top + 82)\">−\(format(maxAbs))</text><rect x=\"\(lx)\" y=\"\(top + 86)\" width=\"16\" height=\"16\" fill=\"\(color(-1))\"/>\n"
        return svg + "</svg>\n"
    }

    /// Diverging colour: −1 red, 0 white, +1 blue.
    static func color(_ t: Double) -> String {
        let c = max(-1, min(1, t))
        let (r, g, b): (Double, Double, Double) = c >= 0 ? (1 - 0.8 * c, 1 - 0.55 * c, 1) : (1, 1 + 0.75 * c, 1 + 0.8 * c)
        return String(format: "#%02x%02x%02x", Int(r * 255), Int(g * 255), Int(b * 255))
    }

    static func format(_ v: Double) -> String { String(format: abs(v) >= 100 ? "%.1f" : "%.4f", v) }
    static func signed(_ v: Double, digits: Int = 4) -> String { String(format: "%+.\(digits)f", v) }
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
