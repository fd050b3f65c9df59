// Which network a training command builds: the architecture and its sizes, as a PolicyDesign.
import Agent
import ArgumentParser
import Core
import Foundation
import Laser
import LinearAlgebra
import Policy
import Sokoban

/// Architecture choice and sizes, shared by commands that build a fresh network.
struct ArchitectureOptions: ParsableArguments {
    @Option(help: "Architecture: conv (ResNet), transformer or decision-transformer.") var arch =
        "conv"
    @Option(help: "ConvPolicy channels.") var channels = 32
    @Option(help: "ConvPolicy residual blocks.") var blocks = 4
    @Option(help: "TransformerPolicy width.") var dim = 64
    @Option(
        help:
            "Transformer layers (default: the library's, 3 for transformer and 5 for decision-transformer, as the paper's)."
    )
    var layers: Int?
    @Option(help: "TransformerPolicy attention heads.") var heads = 4
    @Option(help: "TransformerPolicy MLP hidden units.") var mlpHidden = 256
    @Option(
        help:
            "TransformerPolicy: embed the tokens from a conv trunk of this many channels (ConvPolicy's stem and residual blocks); 0 embeds the observation planes."
    )
    var convChannels = 0
    @Option(help: "TransformerPolicy: residual blocks of that conv trunk.") var convBlocks = 0
    @Option(
        help:
            "DecisionTransformer: steps of context K (each a return, state and action token); its state encoder is --conv-channels/--conv-blocks (default 32 and 2), its sizes --dim/--layers/--heads/--mlp-hidden."
    )
    var contextSteps = DecisionTransformerConfig().steps
    @Option(
        help:
            "DecisionTransformer: the return-to-go it is conditioned on at an episode's start (gym-sokoban rewards; a solved 4-box level of n steps returns 14 - 0.1 n)."
    )
    var targetReturn = Double(DecisionTransformerConfig().targetReturnTenths) / 10
    @Flag(
        help:
            "The policy also reads the trail plane: the squares the player has walked since the last push, its memory of where it has just been. With --init, a checkpoint without it gains the plane (its weights start at zero, so the policy starts unchanged)."
    )
    var trail = false

    /// The network these options describe: the environment's seven observation planes, and the
    /// trail with --trail.
    var design: PolicyDesign {
        var d = PolicyDesign()
        d.architecture = PolicyArchitecture(rawValue: arch) ?? .conv
        d.planes = AgentGeometry.planeCount + (trail ? 1 : 0)
        (d.channels, d.blocks, d.dim, d.layers, d.heads) = (channels, blocks, dim, layers, heads)
        (d.mlpHidden, d.convChannels, d.convBlocks) = (mlpHidden, convChannels, convBlocks)
        (d.contextSteps, d.targetReturn) = (contextSteps, targetReturn)
        return d
    }

    func validate() throws {
        guard PolicyArchitecture(rawValue: arch) != nil else {
            throw ValidationError(
                "--arch: '\(arch)' is not an architecture (expected conv, transformer or decision-transformer)"
            )
        }
        if arch == "decision-transformer" && trail {
            throw ValidationError("--trail: a decision-transformer reads its history instead")
        }
        if let problem = design.problem() { throw ValidationError(problem) }
    }
}
