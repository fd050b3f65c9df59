// A small two-layer model adopting ReducibleModel, used to test the Laser module without any domain.
import Core
import Laser
import LinearAlgebra

/// Layers of (fc_in, fc_out) linear maps; its forward pass multiplies through `LinearWeight`.
final class StackModel: ReducibleModel {
    var weights: [String: LinearWeight] = [:]
    let reducibleMatrices: [WeightMatrixInfo]
    let layers: Int

    init(layers: Int = 3, width: Int = 12, hidden: Int = 20, seed: UInt64 = 1) {
        var rng = SplitMix64(seed: seed)
        var infos: [WeightMatrixInfo] = []
        for l in 0..<layers {
            let a = "layers.\(l).mlp.fc_in.weight"
            let b = "layers.\(l).mlp.fc_out.weight"
            weights[a] = LinearWeight(
                Tensor(randomNormal: [hidden, width], standardDeviation: 0.3, using: &rng))
            weights[b] = LinearWeight(
                Tensor(randomNormal: [width, hidden], standardDeviation: 0.3, using: &rng))
            infos.append(
                WeightMatrixInfo(name: a, layer: l, type: "fc_in", rows: hidden, columns: width))
            infos.append(
                WeightMatrixInfo(name: b, layer: l, type: "fc_out", rows: width, columns: hidden))
        }
        reducibleMatrices = infos
        self.layers = layers
    }

    func weightMatrix(named name: String) throws -> Tensor {
        guard let w = weights[name] else {
            throw LaserError.unknownMatrix(name, known: Array(weights.keys))
        }
        return w.dense
    }

    func setWeightMatrix(named name: String, to value: WeightValue) throws {
        guard weights[name] != nil else {
            throw LaserError.unknownMatrix(name, known: Array(weights.keys))
        }
        weights[name]!.set(value)
    }

    /// x ↦ x + fc_out(relu(fc_in(x))) per layer.
    func forward(_ x: Tensor) -> Tensor {
        var h = x
        for l in 0..<layers {
            var u = weights["layers.\(l).mlp.fc_in.weight"]!.apply(h)
            for i in 0..<u.count { u.scalars[i] = max(0, u.scalars[i]) }
            h = h + weights["layers.\(l).mlp.fc_out.weight"]!.apply(u)
        }
        return h
    }
}
