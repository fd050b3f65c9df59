// `laser inspect` on a GGUF file: metadata (long arrays summarised), tensors with their ggml
// types and sizes, and for a model this package runs each matrix's LASER layer and type.
import Core
import Laser
import TextModel

extension Inspect {
    /// `inspect` for GGUF: metadata, tensors with ggml types, and (for a Llama model) LASER names.
    func inspectGGUF() throws {
        let gguf: GGUFFile
        do { gguf = try GGUFFile(path: file) } catch let error as GGUFError {
            throw CLIError("\(file): \(error)")
        }
        // Layer and type of each reducible matrix, when the file is a model we can load.
        var matrices: [String: WeightMatrixInfo] = [:]
        if Architecture(rawValue: (try? gguf.string("general.architecture")) ?? "") != nil {
            let llama = try LlamaModel(path: file)
            for m in llama.reducibleMatrices { matrices[m.name] = m }
        }
        var rows: [MatrixRow] = []
        var bytes: [String: Int] = [:]
        for t in gguf.tensors where filter.map({ t.name.contains($0) }) ?? true {
            var diag: SpectralDiagnostics?
            if spectrum && t.dimensions.count == 2 && t.type.isDequantizable {
                diag = try SpectralDiagnostics(matrix: try gguf.tensor(named: t.name))
            }
            let info = matrices[t.name]
            rows.append(
                MatrixRow(
                    name: t.name, dtype: t.type.name, shape: t.shape, layer: info?.layer,
                    type: info?.type, spectrum: diag))
            bytes[t.name] = t.byteCount
        }
        let metadata = Dictionary(
            uniqueKeysWithValues: gguf.metadataKeys.map { ($0, gguf.metadata[$0]!.summary) })
        if json {
            print(
                try jsonText(
                    Output(file: file, bytes: fileSize(file), metadata: metadata, tensors: rows)))
            return
        }
        print(
            "\(file): GGUF version \(gguf.version), \(gguf.tensors.count) tensors, \(matrices.count) reducible matrices, \(formatBytes(fileSize(file)))"
        )
        for key in gguf.metadataKeys { print("  \(key) = \(TerminalText.escaped(metadata[key]!))") }
        var header = ["name", "type", "shape", "bytes", "layer", "laser type"]
        if spectrum { header += ["eff.rank", "stable", "SNR", "signal", "top σ"] }
        print(
            table(
                header,
                rows.map { r in
                    var cells = [
                        r.name, r.dtype, r.shape.map(String.init).joined(separator: "×"),
                        formatBytes(bytes[r.name] ?? 0),
                        r.layer.map(String.init) ?? "", r.type ?? "",
                    ]
                    if spectrum { cells += spectrumCells(r.spectrum) }
                    return cells
                }))
        printCandidates(rows)
    }
}
