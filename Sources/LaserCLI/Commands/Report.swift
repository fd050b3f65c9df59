// `laser report`: sweeps of different models in one side-by-side report (Markdown and SVG).
import ArgumentParser
import Core
import Foundation
import Laser
import LinearAlgebra

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Put finished sweeps side by side: unreduced, chosen on validation, result on test.",
        discussion: """
            Each --sweep LABEL=DIR names the output folder of a `laser sweep` (its summary.json). The report gives, per sweep, the configurations tried on validation, the unreduced score, the reduction chosen and its test result with Wilson intervals, the paired difference with its 95% interval and p-value, and whether it is beyond noise; report.svg draws the test rates with their intervals. Example:
              laser report --sweep "Sokoban policy=out/quickstart/policy-sweep" --sweep "SmolLM2-135M=out/quickstart/text-sweep" --out-dir out/quickstart
            """)

    @OptionGroup var sweeps: LabelledSweeps
    @Option(help: "Where to write report.md and report.svg.") var outDir = "out/report"

    func run() throws {
        try checkWritable(outDir + "/report.md", option: "--out-dir")
        let entries: [SideBySideReport.Entry] = try sweeps.load()
        let markdown = SideBySideReport.markdown(entries)
        try AtomicFile.write(string: markdown, to: outDir + "/report.md")
        try AtomicFile.write(string: SideBySideReport.svg(entries), to: outDir + "/report.svg")
        print(markdown)
        print("wrote \(outDir)/report.md and \(outDir)/report.svg")
    }
}
