// `laser population`: finished sweeps of many models as one study (Markdown table and forest plot).
import ArgumentParser
import Core
import Foundation
import Laser
import LinearAlgebra

struct Population: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pool finished sweeps of many models: how often LASER helps, and by how much.",
        discussion: """
            Each --sweep LABEL=DIR names the output folder of a `laser sweep` run with --test (its summary.json); a label "GROUP: NAME" puts the model in a group, pooled on its own as well. For each model the table gives the reduction chosen on validation (none when nothing beat the unreduced model) and its paired difference on test; then two pooled estimates: over the models with a reduction chosen, and averaged over all (no reduction = no change), each the mean difference with a 95% interval and the exact McNemar test of the summed discordant pairs. The objective must be a rate. --out gets the table (between <!-- population:begin --> and <!-- population:end --> when the file already holds them, keeping the prose around it), --svg the forest plot. Example (scripts/population-study.sh):
              laser population --sweep "conv: conv-8x32=out/population/conv-8x32" --sweep "DT: seed 1=out/population/dt-seed-1" --out docs/laser-on-policies.md --svg docs/laser-on-policies.svg
            """)

    @OptionGroup var sweeps: LabelledSweeps
    @Option(help: "The Markdown file to write (or update between its markers).")
    var out = "out/population/report.md"
    @Option(help: "The SVG forest plot to write.") var svg = "out/population/forest.svg"

    func run() throws {
        try checkWritable(out, option: "--out")
        try checkWritable(svg, option: "--svg")
        let study = try PopulationStudy(try sweeps.load())
        let existing = FileManager.default.contents(atPath: out).flatMap {
            String(data: $0, encoding: .utf8)
        }
        try AtomicFile.write(string: study.document(replacingIn: existing), to: out)
        try AtomicFile.write(string: study.svg, to: svg)
        print(study.markdown)
        print("wrote \(out) and \(svg)")
    }
}
