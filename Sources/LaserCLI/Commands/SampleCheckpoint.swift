// `laser sample-checkpoint`: writes a small transformer-shaped checkpoint to try the tools on.
import ArgumentParser
import Core
import Laser
import LinearAlgebra

struct SampleCheckpoint: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample-checkpoint",
        abstract: "Write a small synthetic transformer-shaped safetensors checkpoint (seeded).",
        discussion: """
            Layers of q/k/v/out projections (width × width) and an MLP (fc_in hidden × width, fc_out width × hidden), each a low-rank signal plus noise so its spectrum has structure, with an embedding and norm vectors. Names follow the paper code's convention (layers.3.mlp.fc_in.weight), so `laser inspect --spectrum` and `laser reduce
            --intervene` work on it.
            """)

    @Argument(help: "Where to write the .safetensors file.") var out: String
    @Option(help: "Number of layers.") var layers = 4
    @Option(help: "Model width.") var width = 128
    @Option(help: "MLP hidden size.") var hidden = 512
    @Option(help: "Rank of the planted signal in each matrix.") var signalRank = 8
    @Option(help: "Random seed.") var seed: UInt64 = 1

    func validate() throws {
        guard (1...64).contains(layers), (4...4096).contains(width), (4...16384).contains(hidden),
            signalRank >= 1, signalRank <= width
        else {
            throw ValidationError(
                "sizes out of range: layers 1...64, width 4...4096, hidden 4...16384, 1 <= signal-rank <= width"
            )
        }
    }

    func run() throws {
        var rng = SplitMix64(seed: seed)
        func matrix(_ m: Int, _ n: Int) -> Tensor {
            let a = Tensor(randomNormal: [m, signalRank], using: &rng)
            let b = Tensor(randomNormal: [signalRank, n], using: &rng)
            let noise = Tensor(randomNormal: [m, n], standardDeviation: 0.5, using: &rng)
            return (matmul(a, b) + noise) * (1 / Float(n).squareRoot())
        }
        var entries = [
            SafetensorsEntry(
                name: "embed.weight",
                tensor: Tensor(randomNormal: [1000, width], standardDeviation: 0.02, using: &rng))
        ]
        for l in 0..<layers {
            for p in ["q_proj", "k_proj", "v_proj", "out_proj"] {
                entries.append(
                    SafetensorsEntry(
                        name: "layers.\(l).attn.\(p).weight", tensor: matrix(width, width)))
            }
            entries.append(
                SafetensorsEntry(
                    name: "layers.\(l).mlp.fc_in.weight", tensor: matrix(hidden, width)))
            entries.append(
                SafetensorsEntry(
                    name: "layers.\(l).mlp.fc_out.weight", tensor: matrix(width, hidden)))
            entries.append(
                SafetensorsEntry(
                    name: "layers.\(l).norm.weight", tensor: Tensor(repeating: 1, shape: [width])))
        }
        try SafetensorsWriter.write(
            entries,
            metadata: [
                "description": "laser sample checkpoint", "seed": "\(seed)", "layers": "\(layers)",
            ], to: out)
        print(
            "wrote \(out): \(entries.count) tensors, \(layers) layers, width \(width), hidden \(hidden)"
        )
    }
}
