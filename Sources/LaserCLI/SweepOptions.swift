// The options every `laser sweep` shares, whatever the model: the grid, the shard, the outputs;
// and the step from them to the Laser module's SweepRun.
import ArgumentParser
import Core
import Foundation
import Laser
import LinearAlgebra

struct SweepOptions: ParsableArguments {
    @Option(
        help:
            "Layers to sweep: comma-separated indices, ranges and `input` (input,0-3,7), or `all` (every layer but `input`)."
    )
    var layers = LayerSelection.all
    @Option(help: "Matrix types to sweep, comma-separated (types or groups mlp, attn, all).")
    var types: CommaList<String>?
    @Option(help: "ρ values (fractions of rank kept), comma-separated, each in (0, 1].")
    var rhos = CommaList<Double>([0.9, 0.5, 0.25, 0.1, 0.05, 0.01])
    @Option(help: "Directory for results.jsonl, report.md, results.csv and heatmap-TYPE.svg.")
    var outDir = "out/sweep"
    @Option(help: "Result log to resume from and append to (default OUT-DIR/results.jsonl).")
    var results: String?
    @Option(help: "Run only shard i of n of the grid (i/n); join logs with `laser merge-results`.")
    var shard = Shard.whole
    @Flag(help: "Also compose greedily (last layer to first) and report the composition on test.")
    var compose = false
    @Option(
        help: ArgumentHelp(
            "Evaluate only the --top best-scored grid points: snr (laserRMT's signal-to-noise ratio, lowest first, each matrix at the ρ nearest its Marchenko–Pastur signal rank) or gradient (the first-order change of the validation loss from each truncation; policies only). Every point's score goes to OUT-DIR/candidates.json.",
            valueName: "score"))
    var candidates: CandidateScore?
    @Option(help: "With --candidates: how many grid points to evaluate.") var top = 5

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
        for r in rhos.values where !(r > 0 && r <= 1) {
            throw ValidationError("--rhos: '\(r)' is not a ρ in (0, 1]")
        }
    }

    /// The types swept: --types, or `defaults`; each must be a type or group of `model`.
    func typeList(default defaults: [String], model: some ReducibleModel) throws -> [String] {
        let list = types?.values ?? defaults
        let known = Set(model.matrixTypes).union(model.typeGroups.keys).union(["all"])
        for t in list where !known.contains(t) {
            throw CLIError(
                "--types: '\(t)' is not a type of this model (\(model.matrixTypes.joined(separator: ", ")); groups \(model.typeGroups.keys.sorted().joined(separator: ", ")), all)"
            )
        }
        return list
    }

    /// The grid these options describe on `model`.
    func grid(model: some ReducibleModel, defaultTypes: [String]) throws -> SweepGrid {
        let layerList: [Int]
        do { layerList = try layers.resolve(available: model.layerIndices) } catch {
            throw CLIError("--layers: \(error)")
        }
        return try SweepGrid(
            layers: layerList, types: typeList(default: defaultTypes, model: model),
            rhos: rhos.values, model: model)
    }
}

/// ", less N layer-type pairs with no matrix" when the grid left any out.
private func skipped(_ grid: SweepGrid) -> String {
    let n = grid.layers.count * grid.types.count - grid.pairs.count
    return n == 0 ? "" : ", less \(n) layer-type pair\(n == 1 ? "" : "s") with no matrix"
}

/// Runs the sweep for a model, writes every output and prints the Markdown table; with
/// `sideEffects`, the chosen reduction's side effects too (not in a shard of the grid).
func runSweep<Model: ReducibleModel>(
    model: Model, options: SweepOptions, defaultTypes: [String], objective: Objective,
    reportMetrics: [String],
    label: String, setup: String, sideEffects: SideEffectMeasure? = nil,
    gradients: (() throws -> [String: Tensor])? = nil,
    evaluate: @escaping Search<Model>.Evaluate
) throws {
    var grid = try options.grid(model: model, defaultTypes: defaultTypes)
    if let score = options.candidates {
        let start = Date()
        let file = try CandidateRanking.select(
            grid, score: score, top: options.top, model: model, gradients: gradients)
        try FileManager.default.createDirectory(
            atPath: options.outDir, withIntermediateDirectories: true)
        try AtomicFile.write(
            string: try jsonText(file) + "\n", to: options.outDir + "/candidates.json")
        let chosen = file.points.filter(\.selected).map(\.intervention)
        stderrLine(
            String(
                format:
                    "candidates (%@): the %d best-scored of %d grid points, scored in %.1fs: %@",
                score.rawValue, chosen.count, file.gridPoints, Date().timeIntervalSince(start),
                chosen.joined(separator: " ")))
        grid = try grid.restricted(to: file.chosen)
    }
    let files = SweepRun<Model>.Files(directory: options.outDir, results: options.results)
    try checkWritable(files.report, option: "--out-dir")
    let run = try SweepRun(
        model: model, grid: grid, shard: options.shard, objective: objective,
        reportMetrics: reportMetrics, setup: setup, files: files, evaluate: evaluate)
    let shard = options.shard
    let planned = run.plannedEvaluations
    stderrLine(
        "\(label): \(grid.points.count) grid points (\(grid.layers.count) layers × \(grid.types.count) types × \(grid.rhos.count) ρ\(skipped(grid)))\(shard.count > 1 ? ", shard \(shard): \(planned - 1)" : ""); \(run.loggedResults) results already in \(files.results)"
    )
    let bar = ProgressBar(label: "sweep", total: planned)
    // A shard's choice is not the sweep's: side effects wait for the merged log.
    let measure = shard.count == 1 ? sideEffects : nil
    let outcome = try run.run(compose: options.compose, sideEffects: measure) {
        done, total, record in
        let value =
            record.metrics[objective.metric].map { String(format: "%@=%.4f", objective.metric, $0) }
            ?? ""
        bar.update(min(done, total), status: "\(record.interventions.first ?? "baseline") \(value)")
    }
    print(outcome.markdown)
    print(
        "wrote \(options.outDir)/report.md, results.csv, summary.json, \(outcome.heatmaps.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")); log \(files.results)"
    )
}
