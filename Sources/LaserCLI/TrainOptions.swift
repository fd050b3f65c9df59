// The option groups the training commands share: which network to build, and where its
// demonstrations come from.
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

/// Where demonstrations come from: a solved level file, or levels generated from a seed.
struct DemonstrationOptions: ParsableArguments {
    @Option(
        help:
            "Use the solved levels of this XSB file (each with a Solution note) instead of generating."
    )
    var demos: String?
    @Option(help: "Levels to generate and solve for demonstrations.") var levelCount = 2000
    @Option(help: "Seed of the generated levels' seed stream (as `laser generate --seed`).")
    var dataSeed: UInt64 = 1000
    @Option(help: "Room width of generated levels.") var width = 10
    @Option(help: "Room height of generated levels.") var height = 10
    @Option(help: "Boxes per generated level.") var boxes = 4
    @Option(
        help:
            "Demonstration cache (XSB with solutions; reused and extended; default out/demos-WxH-B-SEED.xsb)."
    )
    var cache: String?

    var cachePath: String { cache ?? "out/demos-\(width)x\(height)-\(boxes)-\(dataSeed).xsb" }

    func validate() throws {
        guard levelCount >= 2 && levelCount <= 1_000_000 else {
            throw ValidationError("--level-count must be in 2...1000000")
        }
        if let problem = GeneratorOptions(width: width, height: height, boxes: boxes).problem() {
            throw ValidationError(problem)
        }
        if width > 10 || height > 10 {
            throw ValidationError("the policies play boards up to 10×10")
        }
    }

    func load() throws -> [Level] {
        if let demos {
            let levels = try readCollection(demos).levels
            guard levels.count >= 2 else {
                throw CLIError("\(demos): need at least 2 levels, found \(levels.count)")
            }
            return levels
        }
        try FileManager.default.createDirectory(
            atPath: (cachePath as NSString).deletingLastPathComponent.isEmpty
                ? "." : (cachePath as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true)
        let bar = ProgressBar(label: "demonstrations", total: levelCount)
        return try Demonstrations.generate(
            options: GeneratorOptions(width: width, height: height, boxes: boxes), seed: dataSeed,
            count: levelCount, cachePath: cachePath, progress: { done, _ in bar.update(done) })
    }
}

/// PPO's optional curriculum: stages of smaller generated rooms before the training pool.
struct CurriculumOptions: ParsableArguments {
    @Option(
        name: .customLong("curriculum"),
        help:
            "Curriculum: stages of generated levels before --levels, as WIDTHxHEIGHTxBOXES, comma-separated (like 7x7x2,8x8x3)."
    )
    var stages: CommaList<String>?
    @Option(help: "Curriculum: levels generated per stage.") var curriculumLevels = 300
    @Option(
        help:
            "Curriculum: move on when the last --curriculum-window episodes of a stage solve at least this fraction."
    )
    var advanceAt = 0.7
    @Option(help: "Curriculum: episodes the advance rule looks back over.") var curriculumWindow =
        200

    func validate() throws {
        guard curriculumLevels >= 1 else {
            throw ValidationError("--curriculum-levels must be positive")
        }
        guard curriculumWindow >= 1 else {
            throw ValidationError("--curriculum-window must be positive")
        }
        guard advanceAt > 0 && advanceAt <= 1 else {
            throw ValidationError("--advance-at must be in (0, 1]")
        }
    }

    /// The curriculum these options describe, nil without --curriculum.
    func settings() throws -> CurriculumSettings? {
        guard let stages else { return nil }
        var settings = CurriculumSettings(stages: stages.values)
        settings.levelsPerStage = curriculumLevels
        settings.advanceAt = advanceAt
        settings.window = curriculumWindow
        do { try settings.validate() } catch { throw CLIError("--curriculum: \(error)") }
        return settings
    }
}

/// DAgger with the solver as the expert, for `train bc`.
struct DAggerOptions: ParsableArguments {
    @Option(
        help:
            "DAgger: every this many steps the policy plays training levels and the solver labels the positions it reaches (0: off)."
    )
    var daggerEvery = 0
    @Option(help: "DAgger: training levels played per round.") var daggerLevels = DAggerConfig()
        .levelsPerRound
    @Option(
        help:
            "DAgger: fraction of each batch drawn from the collected positions (0: all samples alike)."
    )
    var daggerShare = BehaviorCloningConfig().daggerShare
    @Option(
        help: "DAgger: solver positions allowed per labelled state (harder states are skipped).")
    var daggerNodeLimit = DAggerConfig().solverNodeLimit
    @Option(
        help:
            "DAgger: copies added of the position each failed episode's fatal move was made from (the move into its first dead position; 1: plain DAgger)."
    )
    var daggerFatalCopies = DAggerConfig().fatalCopies
    @Option(
        help:
            "DAgger: copies added of each position on the cycle of a failed episode that looped while its level was solvable (1: plain DAgger)."
    )
    var daggerLoopCopies = DAggerConfig().loopCopies
    @Option(
        help:
            "DAgger: file of collected positions (XSB with solutions; default: --out with .dagger.xsb)."
    )
    var daggerStates: String?
    @Option(
        help:
            "DAgger: also train on the positions in this file (another run's --dagger-states, e.g. of the --init policy); sampled like collected positions, not copied into --dagger-states."
    )
    var daggerImport: String?

    func validate() throws {
        guard daggerEvery >= 0 else { throw ValidationError("--dagger-every must not be negative") }
    }

    func apply(to config: inout BehaviorCloningConfig) {
        config.dagger.every = daggerEvery
        config.dagger.levelsPerRound = daggerLevels
        config.dagger.solverNodeLimit = daggerNodeLimit
        config.dagger.fatalCopies = daggerFatalCopies
        config.dagger.loopCopies = daggerLoopCopies
        config.daggerShare = daggerShare
    }
}
