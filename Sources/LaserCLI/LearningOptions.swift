// The option groups of the learning schedules: PPO's curriculum and behavior cloning's DAgger.
import Agent
import ArgumentParser

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
