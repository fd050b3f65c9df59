// `laser reduce` on a GGUF language model: the model reduced in memory, then written as a GGUF
// file llama.cpp loads, every metadata key and every other tensor copied as stored.
import Laser
import LinearAlgebra

public enum GGUFReduction {
    /// Reduces the model in `input` and writes it to `output`, the reduced matrices stored as
    /// `storage`. A GGUF of an architecture this package does not run is an error naming it.
    @discardableResult
    public static func reduce(
        _ input: String, _ request: ReductionRequest, storage: GGUFStorage, to output: String,
        threads: Int
    ) throws -> [ReductionReport] {
        let source = try GGUFFile(path: input)
        let architecture = (try? source.string("general.architecture")) ?? "unknown"
        guard Architecture(rawValue: architecture) != nil else {
            throw TextModelError.unsupportedArchitecture(architecture)
        }
        let model = try LlamaModel(path: input, weights: .quantized, threads: threads)
        let reports = try request.apply(to: model)
        var replacements: [String: Tensor] = [:]
        for r in reports { replacements[r.name] = try model.weightMatrix(named: r.name) }
        try GGUFWriter.write(copying: source, replacing: replacements, storage: storage, to: output)
        return reports
    }
}
