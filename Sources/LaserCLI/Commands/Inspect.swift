// `laser inspect`: the tensors of a safetensors file, and with --spectrum their spectra and SNR.
import ArgumentParser
import Foundation
import Laser
import LinearAlgebra

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the tensors of a safetensors file; with --spectrum, rank LASER candidates.",
        discussion: """
            Each tensor of rank 2 or more is a matrix LASER can reduce (a conv kernel is viewed as out × in·kh·kw); its layer is the first number in its name and its type the last other component (layers.27.mlp.fc_in.weight → layer 27, type fc_in).

            --spectrum adds, per matrix: effective rank (exp of the entropy of the normalised singular
            values), stable rank (‖W‖²_F/σ₁²) and laserRMT's signal-to-noise ratio: noise σ from the singular values' interquartile range (IQR/1.349), Marchenko–Pastur edge σ·(1+√β); SNR = Σσ above the edge / Σσ below. Low SNR marks matrices whose small directions look like noise.
            """)

    @Argument(help: "A .safetensors file.") var file: String
    @Flag(help: "Compute singular-value diagnostics for every matrix.") var spectrum = false
    @Option(help: "Only tensors whose name contains this text.") var filter: String?
    @Option(help: "How many leading singular values to print with --spectrum.") var top = 5
    @Flag(help: "Print JSON instead of a table.") var json = false

    struct MatrixRow: Encodable {
        let name: String, dtype: String, shape: [Int]
        let layer: Int?, type: String?
        let spectrum: SpectralDiagnostics?
    }

    struct Output: Encodable {
        let file: String, bytes: Int, metadata: [String: String], tensors: [MatrixRow]
    }

    func run() throws {
        let model = try CheckpointModel(path: file)
        let matrices = Dictionary(uniqueKeysWithValues: model.reducibleMatrices.map { ($0.name, $0) })
        var rows: [MatrixRow] = []
        for t in model.file.tensors where filter.map({ t.name.contains($0) }) ?? true {
            let info = matrices[t.name]
            var diag: SpectralDiagnostics?
            if spectrum, let info {
                diag = try SpectralDiagnostics(matrix: model.weightMatrix(named: info.name))
            }
            rows.append(MatrixRow(name: t.name, dtype: t.dtype.rawValue, shape: t.shape, layer: info?.layer, type: info?.type, spectrum: diag))
        }
        if json {
            print(try jsonText(Output(file: file, bytes: fileSize(file), metadata: model.file.metadata, tensors: rows)))
            return
        }
        print("\(file): \(model.file.tensors.count) tensors, \(model.reducibleMatrices.count) reducible matrices, \(formatBytes(fileSize(file)))")
        if !model.file.metadata.isEmpty {
            for k in model.file.metadata.keys.sorted() { print("  \(k) = \(model.file.metadata[k]!)") }
        }
        var header = ["name", "dtype", "shape", "layer", "type"]
        if spectrum { header += ["eff.rank", "stable", "SNR", "signal", "top σ"] }
        let body = rows.map { r -> [String] in
            var cells = [r.name, r.dtype, r.shape.map(String.init).joined(separator: "×"), r.layer.map(String.init) ?? "", r.type ?? ""]
            if spectrum {
                if let s = r.spectrum {
                    cells += [String(format: "%.1f", s.effectiveRank), String(format: "%.1f", s.stableRank),
                              s.signalToNoise.isFinite ? String(format: "%.3f", s.signalToNoise) : "inf",
                              "\(s.signalRank)/\(min(s.rows, s.columns))",
                              s.singularValues.prefix(top).map { String(format: "%.3g", $0) }.joined(separator: " ")]
                } else {
                    cells += ["", "", "", "", ""]
                }
            }
            return cells
        }
        print(table(header, body))
        if spectrum {
            let ranked = rows.compactMap { r in r.spectrum.map { (r.name, $0.signalToNoise) } }.sorted { $0.1 < $1.1 }
            if !ranked.isEmpty {
                print("\nLowest SNR first (candidates for reduction): " + ranked.prefix(5).map { "\($0.0) (\(String(format: "%.3f", $0.1)))" }.joined(separator: ", "))
            }
        }
    }
}
