// The `laser` command: the root of every subcommand.
import ArgumentParser

@main
struct LaserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "laser",
        abstract: "LASER (layer-selective rank reduction) for Sokoban policies and language models.",
        discussion: InterventionHelp.text,
        subcommands: LaserCommand.allSubcommands
    )

    static func main() {
        FastKernels.reexecIfUseful()
        Self.main(nil)
    }
}
