// `laser merge-results`: joins the JSONL logs of sweep shards into one.
import ArgumentParser
import Laser

struct MergeResults: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge-results",
        abstract: "Join the result logs of sweep shards (--shard i/n) into one log.",
        discussion: """
            Each shard of a sweep logs the baseline and its share of the grid. The merged log holds every result once, in canonical order; give it to the same sweep command with
            --results to finish the protocol (test-split evaluations, composition) without
            re-running any finished evaluation. Two shards disagreeing on a result is an error.
            """)

    @Argument(help: "The shard logs (.jsonl).") var inputs: [String]
    @Option(help: "Where to write the merged log.") var out: String

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("give at least one shard log") }
        if inputs.contains(out) { throw ValidationError("--out must not be one of the inputs") }
    }

    func run() throws {
        try checkWritable(out, option: "--out")
        let n = try ResultStore.merge(inputs, into: out)
        print("merged \(inputs.count) logs into \(out): \(n) results")
    }
}
