// A sweep with its files: the resumable result log, then the Markdown report, CSV, JSON summary and
// one SVG heatmap per matrix type. Whatever the model, `laser sweep` hands its grid and evaluation
// to one of these.
import Collections
import Core
import Foundation
import LinearAlgebra

public final class SweepRun<Model: ReducibleModel> {
    /// Where a sweep writes.
    public struct Files: Sendable {
        /// The folder of report.md, results.csv, summary.json and heatmap-TYPE.svg.
        public var directory: String
        /// The result log the sweep resumes from and appends to.
        public var results: String

        public init(directory: String, results: String? = nil) {
            self.directory = directory
            self.results = results ?? (directory + "/results.jsonl")
        }

        public var report: String { directory + "/report.md" }
        public var csv: String { directory + "/results.csv" }
        public var summary: String { directory + "/summary.json" }
        public func heatmap(type: String) -> String { directory + "/heatmap-\(type).svg" }
    }

    /// What a finished sweep wrote.
    public struct Outcome {
        public let summary: SearchSummary
        /// The report's Markdown (also in `files.report`).
        public let markdown: String
        public let heatmaps: [String]
        /// The chosen reductions' side effects (the unreduced model's when nothing is chosen).
        public let sideEffects: [SideEffects]
    }

    public let files: Files
    public let grid: SweepGrid
    public let shard: Shard
    public let search: Search<Model>
    /// Metrics the reports show, the objective's first.
    public let reportMetrics: [String]
    /// One writer per output: the locks on the folder and on the result log, held while the run
    /// lives, so a second sweep on either is refused instead of doing the grid again.
    let locks: [OutputLock]

    /// A sweep of `grid` (this `shard` of it) over `model`, scored by `evaluate`. `setup` names
    /// what the results depend on besides the intervention (checkpoint and data fingerprints): a
    /// log written under another setup is refused rather than mixed in. Another run holding the
    /// folder or the log is refused too (`FileError.inUse`).
    public init(
        model: Model, grid: SweepGrid, shard: Shard = .whole, objective: Objective,
        reportMetrics: [String], setup: String, files: Files,
        evaluate: @escaping Search<Model>.Evaluate
    ) throws {
        self.files = files
        self.grid = grid
        self.shard = shard
        self.reportMetrics = reportMetrics
        for folder in [files.directory, (files.results as NSString).deletingLastPathComponent]
        where !folder.isEmpty {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true)
        }
        locks = [try OutputLock(output: files.directory), try OutputLock(output: files.results)]
        let store = try ResultStore(path: files.results, setup: setup)
        search = Search(
            reducer: Reducer(model: model), objective: objective, store: store, evaluate: evaluate)
    }

    /// Evaluations this run makes when nothing is logged yet: the baseline and the shard's points.
    public var plannedEvaluations: Int { grid.points.indices.filter { shard.owns($0) }.count + 1 }
    /// Results already in the log.
    public var loggedResults: Int { search.store.records.count }

    /// Evaluates what the log lacks (with `compose`, also the greedy composition), measures the
    /// chosen reductions' `sideEffects`, then writes every report. `progress` hears of each result
    /// as (done, planned, record).
    public func run(
        compose: Bool = false, sideEffects: SideEffectMeasure? = nil,
        progress: Search<Model>.Progress? = nil
    ) throws -> Outcome {
        search.progress = progress
        let summary = try search.run(grid, shard: shard, compose: compose)
        let effects = try sideEffects.map { try measure($0, of: summary) } ?? []
        let markdown = SearchReport.markdown(summary, metrics: reportMetrics, sideEffects: effects)
        try AtomicFile.write(string: markdown, to: files.report)
        try AtomicFile.write(
            string: SearchReport.csv(summary, metrics: reportMetrics), to: files.csv)
        try AtomicFile.write(
            string: SearchReport.json(summary, sideEffects: effects), to: files.summary)
        var heatmaps: [String] = []
        for type in grid.types {
            let path = files.heatmap(type: type)
            try AtomicFile.write(
                string: SearchReport.heatmapSVG(summary, type: type, grid: grid), to: path)
            heatmaps.append(path)
        }
        return Outcome(
            summary: summary, markdown: markdown, heatmaps: heatmaps, sideEffects: effects)
    }

    /// The side effects of each chosen reduction (the chosen point, the chosen composition), or
    /// of the unreduced model alone when nothing is chosen; the model is left unreduced.
    func measure(_ sideEffects: SideEffectMeasure, of summary: SearchSummary) throws
        -> [SideEffects]
    {
        let reducer = search.reducer
        try reducer.restoreAll()
        try sideEffects.baseline()
        var chosen: [[Intervention]] = []
        if let c = summary.chosen { chosen.append([c.intervention]) }
        if summary.compositionChosen, let c = summary.composition {
            chosen.append(c.interventions)
        }
        guard !chosen.isEmpty else { return [try sideEffects.measure([])] }
        var effects: [SideEffects] = []
        for interventions in chosen {
            _ = try reducer.apply(interventions)
            do {
                effects.append(try sideEffects.measure(interventions))
            } catch {
                try reducer.restoreAll()
                throw error
            }
            try reducer.restoreAll()
        }
        return effects
    }
}

/// Which layers a sweep covers: every layer the model has, or a list given as indices, ranges and
/// `input` (the stem and input embeddings, which `all` leaves out) ("input,0-3,7"), in the order
/// given, each once.
public enum LayerSelection: Sendable, Equatable, CustomStringConvertible {
    case all
    case list([Int])

    /// Parses `all` or comma-separated indices and ranges.
    public init(parsing text: String) throws {
        if text == "all" {
            self = .all
            return
        }
        var layers: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            if part == LayerSelector.inputName {
                layers.append(LayerSelector.inputLayer)
                continue
            }
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let lo = Int(bounds[0]),
                let hi = Int(bounds.last!), lo >= 0, lo <= hi, hi - lo < 100_000
            else {
                throw LaserError.invalidLayers(
                    "layers '\(part)': expected all, or indices, ranges and input like input,0-3,7")
            }
            layers.append(contentsOf: lo...hi)
        }
        self = .list(OrderedSet(layers).elements)
    }

    /// The layers among `available` (the model's): all of them but `input`, or the listed ones,
    /// each of which must exist.
    public func resolve(available: [Int]) throws -> [Int] {
        let known = available.filter { $0 >= 0 }
        guard case .list(let layers) = self else { return known }
        for l in layers where !available.contains(l) {
            let input = available.contains(LayerSelector.inputLayer) ? " and input" : ""
            throw LaserError.invalidLayers(
                "layer \(LayerSelector.name(l)) does not exist (the model has layers \(known.first ?? 0)...\(known.last ?? 0)\(input))"
            )
        }
        return layers
    }

    public var description: String {
        switch self {
        case .all: return "all"
        case .list(let layers): return layers.map(LayerSelector.name).joined(separator: ",")
        }
    }
}
