// Function-preserving growth of a trained policy (Net2Net-style, with zero-initialised paths): a
// network with more observation planes, channels or residual blocks that computes exactly what the
// smaller one did, so training continues from the trained policy instead of starting over.
import LinearAlgebra

extension ConvPolicy {
    /// A copy of `source` enlarged to `config` (every size ≥ the source's) that computes the same
    /// logits and values, whatever the new observation planes (if any) hold.
    ///
    /// Why it is exact: every weight reading a *new* input (a new plane, a new channel, a new
    /// flattened head input) is zero, so new inputs never reach an old output; the weights producing new
    /// channels keep their fresh initialisation (seeded), so they carry signal and receive
    /// gradients from the first step. A new residual block gets a zero second conv and bias:
    /// h ← ReLU(h + 0) = h because h is already a ReLU output, so it starts as the identity and its
    /// second conv receives gradients at once.
    public static func grown(from source: ConvPolicy, to config: ConvPolicyConfig, seed: UInt64)
        throws -> ConvPolicy
    {
        try refuseReduced(source)
        let old = source.config
        for (name, new, current) in [
            ("planes", config.planes, old.planes),
            ("channels", config.channels, old.channels), ("blocks", config.blocks, old.blocks),
            ("policy channels", config.policyChannels, old.policyChannels),
            ("value channels", config.valueChannels, old.valueChannels),
            ("value hidden units", config.valueHidden, old.valueHidden),
        ] where new < current {
            throw PolicyError.invalidConfiguration(
                "cannot grow \(name) from \(current) down to \(new)")
        }
        let grown = try ConvPolicy(config: config, seed: seed)
        for info in grown.parameters.infos {
            var fresh = try grown.parameters.tensor(named: info.name)
            let copied = try grown.parameters.embed(
                info.name, from: source.parameters, into: &fresh)
            if !copied
                && (info.name.hasSuffix(".conv2.weight") || info.name.hasSuffix(".conv2.bias"))
            {
                // A new block: the identity until training moves its second conv.
                fresh.scalars = [Float](repeating: 0, count: info.count)
            }
            try grown.parameters.setTensor(named: info.name, to: fresh)
        }
        return grown
    }
}

extension TransformerPolicy {
    /// A copy of `source` that reads `planes` observation planes (≥ the source's) and computes the
    /// same logits and values whatever the new planes hold: the weights reading them start at zero.
    public static func withPlanes(_ planes: Int, from source: TransformerPolicy, seed: UInt64)
        throws -> TransformerPolicy
    {
        try refuseReduced(source)
        guard planes >= source.config.planes else {
            throw PolicyError.invalidConfiguration(
                "cannot grow planes from \(source.config.planes) down to \(planes)")
        }
        var config = source.config
        config.planes = planes
        let grown = try TransformerPolicy(config: config, seed: seed)
        for info in grown.parameters.infos {
            var fresh = try grown.parameters.tensor(named: info.name)
            _ = try grown.parameters.embed(info.name, from: source.parameters, into: &fresh)
            try grown.parameters.setTensor(named: info.name, to: fresh)
        }
        return grown
    }
}

extension ParameterStore {
    /// Writes `source`'s tensor `name` into the leading corner of `tensor` (this store's shape for
    /// it) and zeroes every entry whose input index (dimension 1) is new; false when `source`
    /// has no such tensor.
    func embed(_ name: String, from source: ParameterStore, into tensor: inout Tensor) throws
        -> Bool
    {
        guard let sourceInfo = try? source.info(named: name) else { return false }
        let trained = try source.tensor(named: name)
        Self.embed(
            trained.scalars, shape: sourceInfo.shape, into: &tensor.scalars,
            shape: try info(named: name).shape)
        return true
    }

    /// Copies `small` into the leading corner of `large` (row-major, same rank, PyTorch layout
    /// [out, in, ...]) and zeroes every entry of `large` whose input index (dimension 1) is new.
    static func embed(
        _ small: [Float], shape smallShape: [Int], into large: inout [Float],
        shape largeShape: [Int]
    ) {
        precondition(smallShape.count == largeShape.count, "parameter ranks differ")
        let rank = largeShape.count
        var strides = [Int](repeating: 1, count: rank)
        for d in stride(from: rank - 2, through: 0, by: -1) {
            strides[d] = strides[d + 1] * largeShape[d + 1]
        }
        var index = [Int](repeating: 0, count: rank)
        for flat in 0..<large.count {
            var rest = flat
            for d in 0..<rank {
                index[d] = rest / strides[d]
                rest %= strides[d]
            }
            if zip(index, smallShape).allSatisfy({ $0 < $1 }) {
                var smallFlat = 0
                for d in 0..<rank { smallFlat = smallFlat * smallShape[d] + index[d] }
                large[flat] = small[smallFlat]
            } else if rank >= 2 && index[1] >= smallShape[1] {
                large[flat] = 0
            }
        }
    }
}

/// A network held partly as LASER factors trains and runs at those ranks; growing it would copy
/// its dense reconstructions and drop the factors, so it is refused.
func refuseReduced(_ source: any PolicyNetwork) throws {
    if let name = source.reducedMatrixNames.first {
        throw PolicyError.invalidConfiguration(
            "'\(name)' is LASER-reduced (held as factors): growing the network would make it dense; grow the unreduced network, then reduce it"
        )
    }
}
