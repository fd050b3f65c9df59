// What `scripts/bench_policy.py --check` compares against PyTorch: for each network a checkpoint,
// a batch of random boards and our outputs on them.
import Core
import Foundation
import LinearAlgebra

extension PolicyBenchmark {
    struct CheckOutput: Codable { let logits: [Float], values: [Float] }

    /// Writes, for each named network (every parameter first perturbed, so biases and norms are
    /// exercised too), NAME.safetensors, NAME.input.f32 (4 random one-hot boards as raw
    /// little-endian float32) and NAME.output.json (our logits and values on them).
    public static func writeCheck(to directory: String, models: [(String, any PolicyNetwork)])
        throws
    {
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true)
        var rng = SplitMix64(seed: 11)
        for (name, model) in models {
            for info in model.parameters.infos {
                let t = try model.parameters.tensor(named: info.name)
                let noise = Tensor(randomNormal: t.shape, standardDeviation: 0.05, using: &rng)
                try model.parameters.setTensor(named: info.name, to: t + noise)
            }
            let batch = 4
            let planes = model.planeCount
            var observations = [Float](repeating: 0, count: batch * planes * PolicyGeometry.cells)
            for b in 0..<batch {
                for cell in 0..<PolicyGeometry.cells {
                    observations[
                        (b * planes + Int(rng.next() % UInt64(planes))) * PolicyGeometry.cells
                            + cell] = 1
                }
            }
            let (logits, values) = try model.predict(observations: observations, batch: batch)
            try PolicyCheckpoint.save(
                model: model, to: "\(directory)/\(name).safetensors", step: 0, dataSeed: 11)
            try observations.withUnsafeBytes {
                try AtomicFile.write(Array($0), to: "\(directory)/\(name).input.f32")
            }
            try AtomicFile.write(
                string: try JSONEncoding.string(
                    CheckOutput(logits: logits, values: values), style: .pretty),
                to: "\(directory)/\(name).output.json")
        }
    }
}
