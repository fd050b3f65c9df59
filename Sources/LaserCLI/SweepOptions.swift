// The options and the driver every `laser sweep` shares, whatever the model: grid, shards,
// resumable log, composition, and the Markdown / CSV / JSONL / SVG outputs.
import ArgumentParser
import Foundation
import Laser
import LinearAlgebra

struct SweepOptions: ParsableArguments {
    @Option(help: "Layers to sweep: comma-separated indices and ranges (0-3,7), or `all`.")
    var layers = "all"
    @Option(help: "Matrix types to sweep, comma-separated (types or groups mlp, attn, all).")
    var types: String?
    @Option(help: "ρ values (fractions of rank kept), comma-separated, each in (0, 1].")
    var rhos = "0.9,0.5,0.25,0.1,0.05,0.01"
    @Option(help: "Directory for results.jsonl, report.md, results.csv and heatmap-TYPE.svg.")
    var outDir = "out/sweep"
    @Option(help: "Result log to resume from and append to (default OUT-DIR/results.jsonl).")
    var results: String?
    @Option(help: "Run only shard i of n of the grid (i/n); join logs with `laser merge-results`.")
    var shard: String?
    @Flag(help: "Also compose greedily (last layer to first) and report the composition on test.")
    var compose = false

    /// The layer list: `all` means every layer the model has (non-negative indices).
    func layerList(available: [Int]) throws -> [Int] {
        let known = available.filter { $0 >= 0 }
        if layers == "all" { return known }
        var out: [Int] = []
        for part in layers.split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let lo = Int(bounds[0]),
                let hi = Int(bounds.last!), lo <= hi
            else {
                throw ValidationError("--layers: '\(part)' is not an index or a range like 3-7")
            }
            for l in lo...hi {
                guard known.contains(l) else {
                    throw ValidationError(
                        "--layers: layer \(l) does not exist (the model has layers \(known.first ?? 0)...\(known.last ?? 0))"
                    )
                }
                out.append(l)
            }
        }
        return Array(NSOrderedSet(array: out)) as! [Int]
    }

    func rhoList() throws -> [Double] {
        try rhos.split(separator: ",").map {
            guard let r = Double($0.trimmingCharacters(in: .whitespaces)), r > 0, r <= 1 else {
                throw ValidationError("--rhos: '\($0)' is not a ρ in (0, 1]")
            }
            return r
        }
    }

    func typeList(default defaults: [String], model: some ReducibleModel) throws -> [String] {
        let list = types.map { $0.split(separator: ",").map(String.init) } ?? defaults
        let known = Set(model.matrixTypes).union(model.typeGroups.keys).union(["all"])
        for t in list where !known.contains(t) {
            throw ValidationError(
                "--types: '\(t)' is not a type of this model (\(model.matrixTypes.joined(separator: ", ")); groups \(model.typeGroups.keys.sorted().joined(separator: ", ")), all)"
            )
        }
        return list
    }
}

/// Runs the search for a model and writes every output; prints the Markdown table.
func runSweep<Model: ReducibleModel>(
    model: Model, options: SweepOptions, defaultTypes: [String], objective: Objective,
    reportMetrics: [String],
    label: String, setup: String, evaluate: @escaping Search<Model>.Evaluate
) throws {
    let grid = try SweepGrid(
        layers: options.layerList(available: model.layerIndices),
        types: options.typeList(default: defaultTypes, model: model),
        rhos: options.rhoList())
    let shard = try options.shard.map { try Shard(parsing: $0) } ?? .whole
    try checkWritable(options.outDir + "/report.md", option: "--out-dir")
    let logPath = options.results ?? (options.outDir + "/results.jsonl")
    let store = try ResultStore(path: logPath, setup: setup)
    let search = Search(
        reducer: Reducer(model: model), objective: objective, store: store, evaluate: evaluate)
    let planned = grid.points.indices.filter { shard.owns($0) }.count + 1
    let already = store.records.count
    FileHandle.standardError.write(
        Data(
            "\(label): \(grid.points.count) grid points (\(grid.layers.count) layers × \(grid.types.count) types × \(grid.rhos.count) ρ)\(shard.count > 1 ? ", shard \(shard): \(planned - 1)" : ""); \(already) results already in \(logPath)\n"
                .utf8))
    let bar = ProgressBar(label: "sweep", total: planned)
    search.progress = { done, total, record in
        let value =
            record.metrics[objective.metric].map { String(format: "%@=%.4f", objective.metric, $0) }
            ?? ""
        bar.update(min(done, total), status: "\(record.interventions.first ?? "baseline") \(value)")
    }
    let summary = try search.run(grid, shard: shard, compose: options.compose)
    let markdown = SearchReport.markdown(summary, metrics: reportMetrics)
    try AtomicFile.write(string: markdown, to: options.outDir + "/report.md")
    try AtomicFile.write(
        string: SearchReport.csv(summary, metrics: reportMetrics),
        to: options.outDir + "/results.csv")
    try AtomicFile.write(string: SearchReport.json(summary), to: options.outDir + "/summary.json")
    var svgs: [String] = []
    for type in grid.types {
        let path = options.outDir + "/heatmap-\(type).svg"
        try AtomicFile.write(
            string: SearchReport.heatmapSVG(summary, type: type, grid: grid), to: path)
        svgs.append(path)
    }
    print(markdown)
    print(
        "wrote \(options.outDir)/report.md, results.csv, summary.json, \(svgs.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")); log \(logPath)"
    )
}
