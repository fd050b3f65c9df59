// The `laser` command: the root of every subcommand.
import ArgumentParser
import Core
import Foundation
import LinearAlgebra

@main
struct LaserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "laser",
        abstract:
            "LASER (layer-selective rank reduction) for Sokoban policies and language models.",
        discussion: InterventionHelp.text,
        groupedSubcommands: LaserCommand.subcommandGroups
    )

    static func main() {
        FastKernels.reexecIfUseful()
        // The main thread runs optimizer updates and small batches itself (see FloatEnvironment).
        FloatEnvironment.flushSubnormals()
        // Past a file-size limit (`ulimit -f`) a write should fail with EFBIG, reported in one line
        // with no temp file left, rather than the default SIGXFSZ killing the process mid-write.
        signal(SIGXFSZ, SIG_IGN)
        let arguments = ErrorExit.joiningNegativeNumbers(Array(CommandLine.arguments.dropFirst()))
        do {
            do { _ = try Workers.fromEnvironment() } catch { throw CLIError("\(error)") }
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            ErrorExit.exit(with: error)
        }
    }
}
