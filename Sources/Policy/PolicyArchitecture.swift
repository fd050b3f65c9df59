// The policy architectures by name and the one place a fresh network of any of them is built,
// enlarged (`--grow`) or given the trail plane: every training command goes through here.

public enum PolicyArchitecture: String, CaseIterable, Sendable {
    case conv
    case transformer
    case decisionTransformer = "decision-transformer"
}

/// Every size of a fresh network, whatever its architecture; each architecture reads its own
/// fields (a field left nil takes that architecture's library default).
public struct PolicyDesign: Sendable, Equatable {
    public var architecture: PolicyArchitecture = .conv
    /// Observation planes per cell (the environment's seven, eight with the trail plane).
    public var planes = ConvPolicyConfig().planes
    /// ConvPolicy: channels and residual blocks.
    public var channels = ConvPolicyConfig().channels
    public var blocks = ConvPolicyConfig().blocks
    /// Transformers: width, layers (nil: 3 for transformer, 5 for decision-transformer), heads
    /// and MLP hidden units.
    public var dim = TransformerPolicyConfig().dim
    public var layers: Int?
    public var heads = TransformerPolicyConfig().heads
    public var mlpHidden = TransformerPolicyConfig().mlpHidden
    /// Transformers: the conv trunk the tokens are embedded from (0: the observation planes; a
    /// decision-transformer's state encoder is 32 channels × 2 blocks unless both are given).
    public var convChannels = 0
    public var convBlocks = 0
    /// DecisionTransformer: steps of context and the return-to-go it is conditioned on.
    public var contextSteps = DecisionTransformerConfig().steps
    public var targetReturn = Double(DecisionTransformerConfig().targetReturnTenths) / 10

    public init() {}

    /// What is wrong with this design, in the words of the option that sets it; nil when valid.
    public func problem() -> String? {
        guard (1...64).contains(contextSteps) else { return "--context-steps must be in 1...64" }
        guard targetReturn.isFinite && abs(targetReturn) <= 10_000 else {
            return "--target-return must be a number within ±10000"
        }
        if architecture == .conv && (convChannels != 0 || convBlocks != 0) {
            return
                "--conv-channels/--conv-blocks size a transformer's conv trunk (use --channels/--blocks for a conv network)"
        }
        return nil
    }

    /// A fresh network of this design, its weights drawn from `seed`.
    public func build(seed: UInt64) throws -> any PolicyNetwork {
        switch architecture {
        case .conv:
            return try ConvPolicy(
                config: ConvPolicyConfig(planes: planes, channels: channels, blocks: blocks),
                seed: seed)
        case .decisionTransformer:
            return try DecisionTransformer(
                config: DecisionTransformerConfig(
                    planes: planes, steps: contextSteps, dim: dim,
                    layers: layers ?? DecisionTransformerConfig().layers, heads: heads,
                    mlpHidden: mlpHidden, convChannels: convChannels == 0 ? 32 : convChannels,
                    convBlocks: convChannels == 0 && convBlocks == 0 ? 2 : convBlocks,
                    targetReturnTenths: Int((targetReturn * 10).rounded())), seed: seed)
        case .transformer:
            return try TransformerPolicy(
                config: TransformerPolicyConfig(
                    planes: planes, dim: dim, layers: layers ?? TransformerPolicyConfig().layers,
                    heads: heads, mlpHidden: mlpHidden,
                    convChannels: convChannels, convBlocks: convBlocks), seed: seed)
        }
    }

    /// `model` enlarged to this design's channels and blocks, computing the same policy (conv
    /// only; see `ConvPolicy.grown`).
    public func grow(_ model: any PolicyNetwork, seed: UInt64) throws -> any PolicyNetwork {
        guard let conv = model as? ConvPolicy else {
            throw PolicyError.invalidConfiguration(
                "only conv policies can be grown (this one is \(model.architectureName))")
        }
        var config = conv.config
        config.channels = channels
        config.blocks = blocks
        return try ConvPolicy.grown(from: conv, to: config, seed: seed)
    }

    /// `model` reading this design's planes when it reads fewer (the new plane's weights start
    /// at zero, so the policy starts unchanged); `model` itself otherwise.
    public func withPlanes(_ model: any PolicyNetwork, seed: UInt64) throws -> any PolicyNetwork {
        guard model.planeCount < planes else { return model }
        if let conv = model as? ConvPolicy {
            var config = conv.config
            config.planes = planes
            return try ConvPolicy.grown(from: conv, to: config, seed: seed)
        }
        if let transformer = model as? TransformerPolicy {
            return try TransformerPolicy.withPlanes(planes, from: transformer, seed: seed)
        }
        throw PolicyError.invalidConfiguration(
            "cannot add a plane to a \(model.architectureName) network")
    }
}
