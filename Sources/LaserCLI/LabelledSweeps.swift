// The `--sweep LABEL=DIR` list that `laser report` and `laser population` both read: finished
// sweeps, each named by a label and found by its summary.json.
import ArgumentParser
import Laser

struct LabelledSweeps: ParsableArguments {
    @Option(
        name: .customLong("sweep"),
        help: ArgumentHelp("A sweep to include, as LABEL=DIR (repeatable).", valueName: "LABEL=DIR")
    )
    var specs: [String] = []

    func validate() throws {
        guard !specs.isEmpty else { throw ValidationError("give at least one --sweep LABEL=DIR") }
        for s in specs where !s.contains("=") || s.hasPrefix("=") || s.hasSuffix("=") {
            throw ValidationError("--sweep '\(s)' is not LABEL=DIR")
        }
    }

    /// Each label with its sweep's summary.json, in the order given.
    func load() throws -> [(label: String, summary: SweepSummaryFile)] {
        try specs.map { spec in
            let i = spec.firstIndex(of: "=")!
            let dir = String(spec[spec.index(after: i)...])
            return (String(spec[..<i]), try SweepSummaryFile(path: dir + "/summary.json"))
        }
    }
}
