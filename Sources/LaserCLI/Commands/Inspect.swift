// `laser inspect`: the tensors of a safetensors file, and with --spectrum their spectra and SNR.
import ArgumentParser
import Core
import Foundation
import Laser
import LinearAlgebra
import Policy
import Sokoban
import TextModel

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "List the tensors of a safetensors or GGUF file; with --spectrum, rank LASER candidates.",
        discussion: """
            GGUF files (llama.cpp's format) list their metadata (long arrays such as the vocabulary summarised), tensors with their ggml types and byte sizes; for a Llama model each matrix also gets the layer and LASER type the other commands use (blk.27.ffn_down.weight → 27:fc_out). Quantized matrices are dequantized for --spectrum.

            In a safetensors file each tensor of rank 2 or more is a matrix LASER can reduce (a conv kernel is viewed as out × in·kh·kw); its layer is the first number in its name and its type the last other component (layers.27.mlp.fc_in.weight → layer 27, type fc_in). A policy checkpoint lists the layer and type its own network gives each matrix, as eval, sweep and reduce address them (a stem conv is layer `input`, type conv).

            --spectrum adds, per matrix: effective rank (exp of the entropy of the normalised singular
            values), stable rank (‖W‖²_F/σ₁²) and laserRMT's signal-to-noise ratio: noise σ from the singular values' interquartile range (IQR/1.349), Marchenko–Pastur edge σ·(1+√β); SNR = Σσ above the edge / Σσ below. Low SNR marks matrices whose small directions look like noise.
            """)

    @Argument(help: "A .safetensors or .gguf file.") var file: String
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
        switch FileFormat.of(path: file) {
        case .gguf: return try inspectGGUF()
        case .safetensors, nil: break
        case let other?:
            throw CLIError("\(file) is \(other), not a safetensors or GGUF file")
        }
        let model = try CheckpointModel(path: file)
        // A policy addresses its matrices its own way (the stem is `input:conv`), as eval and
        // reduce do; any other file by its tensor names.
        let addressing =
            model.file.metadata["format"] == PolicyCheckpoint.format
            ? try loadPolicy(file).model.reducibleMatrices : model.reducibleMatrices
        let matrices = Dictionary(uniqueKeysWithValues: addressing.map { ($0.name, $0) })
        var rows: [MatrixRow] = []
        for t in model.file.tensors where filter.map({ t.name.contains($0) }) ?? true {
            let info = matrices[t.name]
            var diag: SpectralDiagnostics?
            if spectrum, let info {
                diag = try SpectralDiagnostics(matrix: model.weightMatrix(named: info.name))
            }
            rows.append(
                MatrixRow(
                    name: t.name, dtype: t.dtype.rawValue, shape: t.shape, layer: info?.layer,
                    type: info?.type, spectrum: diag))
        }
        if json {
            print(
                try jsonText(
                    Output(
                        file: file, bytes: fileSize(file), metadata: model.file.metadata,
                        tensors: rows)))
            return
        }
        print(
            "\(file): \(model.file.tensors.count) tensors, \(model.reducibleMatrices.count) reducible matrices, \(formatBytes(fileSize(file)))"
        )
        if !model.file.metadata.isEmpty {
            for k in model.file.metadata.keys.sorted() {
                print("  \(k) = \(TerminalText.escaped(model.file.metadata[k]!))")
            }
        }
        var header = ["name", "dtype", "shape", "layer", "type"]
        if spectrum { header += ["eff.rank", "stable", "SNR", "signal", "top σ"] }
        let body = rows.map { r -> [String] in
            var cells = [
                r.name, r.dtype, r.shape.map(String.init).joined(separator: "×"),
                r.layer.map(LayerSelector.name) ?? "", r.type ?? "",
            ]
            if spectrum { cells += spectrumCells(r.spectrum) }
            return cells
        }
        print(table(header, body))
        printCandidates(rows)
    }

    func spectrumCells(_ s: SpectralDiagnostics?) -> [String] {
        guard let s else { return ["", "", "", "", ""] }
        return [
            String(format: "%.1f", s.effectiveRank), String(format: "%.1f", s.stableRank),
            s.signalToNoise.isFinite ? String(format: "%.3f", s.signalToNoise) : "inf",
            "\(s.signalRank)/\(min(s.rows, s.columns))",
            s.singularValues.prefix(top).map { String(format: "%.3g", $0) }.joined(separator: " "),
        ]
    }

    func printCandidates(_ rows: [MatrixRow]) {
        guard spectrum else { return }
        let ranked = rows.compactMap { r in r.spectrum.map { (r.name, $0.signalToNoise) } }.sorted {
            $0.1 < $1.1
        }
        if !ranked.isEmpty {
            print(
                "\nLowest SNR first (candidates for reduction): "
                    + ranked.prefix(5).map { "\($0.0) (\(String(format: "%.3f", $0.1)))" }.joined(
                        separator: ", "))
        }
    }
}
