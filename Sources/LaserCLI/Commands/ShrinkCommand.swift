// `laser shrink`: the smallest composition of LASER reductions whose solve rate is non-inferior to
// the parent policy's, searched on validation within a budget, confirmed once on test, and saved
// as a factored checkpoint that runs through its factors.
import Agent
import ArgumentParser
import Core
import Foundation
import Laser
import LinearAlgebra
import Policy
import Sokoban

struct ShrinkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shrink",
        abstract: "Find the smallest rank-reduced policy that is not worse than its parent.",
        discussion: """
            Greedy and budgeted: the addresses (matrices, largest first) are reduced one after another; for each, ρ is tried from the smallest, on top of what was kept, and the first composition whose greedy solve rate on --levels is non-inferior to the parent's (the one-sided 95% lower bound of the paired difference ≥ −margin) is kept. At most --budget configurations are evaluated on validation; the kept composition is then evaluated once on --test and saved with --out as a factored checkpoint (metadata: reduced_from, interventions, laser.shrink). Every evaluation goes to a resumable log: rerun the same command after a kill.
            """)

    @OptionGroup(title: "Sokoban policy") var policy: PolicySweepOptions
    @OptionGroup(title: "Threads") var threading: ThreadOptions
    @Option(
        help:
            "Addresses to reduce as LAYER:TYPE, comma-separated (e.g. all:mlp,all:attn or 3:conv); default: every layer and type the policy has except its head."
    )
    var addresses: CommaList<String>?
    @Option(help: "ρ values to try per address, smallest first.") var rhos = CommaList<Double>([
        0.05, 0.1, 0.25, 0.5,
    ])
    @Option(help: "Non-inferiority margin in points.") var margin = 1.5
    @Option(help: "Most configurations evaluated on validation.") var budget = 24
    @Option(help: "The rank-reduced checkpoint to write (factored safetensors).") var out: String
    @Option(help: "Result log (default: --out with .shrink.jsonl).") var results: String?
    @Flag(help: "Print the outcome as JSON.") var json = false

    func validate() throws {
        guard margin >= 0 && margin < 100 else {
            throw ValidationError("--margin must be in [0, 100) points")
        }
        guard (1...10_000).contains(budget) else {
            throw ValidationError("--budget must be in 1...10000")
        }
        guard !rhos.values.isEmpty, rhos.values.allSatisfy({ $0 > 0 && $0 <= 1 }) else {
            throw ValidationError("--rhos must be in (0, 1]")
        }
        guard policy.policy != nil else { throw ValidationError("--policy is required") }
    }

    func parsedAddresses(_ model: any PolicyNetwork) throws -> [(
        layer: LayerSelector, type: String
    )] {
        guard let addresses else {
            return PolicyShrink.defaultAddresses(model).map { ($0.0, $0.1) }
        }
        return try addresses.values.map { text in
            let intervention: Intervention
            do { intervention = try Intervention(parsing: text + ":1") } catch {
                throw CLIError("--addresses: '\(text)' is not LAYER:TYPE (\(error))")
            }
            do { _ = try intervention.targets(in: model) } catch {
                throw CLIError("--addresses: \(text): \(error)")
            }
            return (intervention.layer, intervention.type)
        }
    }

    func run() throws {
        let path = policy.policy!
        guard !FileManager.default.fileExists(atPath: out) || out != path else {
            throw CLIError("--out must not be the parent checkpoint \(path)")
        }
        let loaded = try loadPolicy(path)
        let model = loaded.model
        threading.applyForPlaying()
        let sweep = try policy.policySweep(model)
        let plan = try ShrinkPlan(
            addresses: try parsedAddresses(model), rhos: rhos.values, margin: margin / 100,
            budget: budget, metric: "solve_rate")
        let logPath = results ?? ((out as NSString).deletingPathExtension + ".shrink.jsonl")
        let folder = (logPath as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true)
        }
        let store = try ResultStore(
            path: logPath,
            setup: try policy.setup(sweep, path: path))
        let bar = ProgressBar(label: "shrink", total: plan.budget)
        let outcome = try PolicyShrink.run(
            sweep, plan: plan, store: store,
            progress: { done, record in
                bar.update(done, status: record.interventions.joined(separator: ","))
            })
        let record = ShrinkRecord(outcome, plan: plan)
        if !outcome.interventions.isEmpty {
            try PolicyShrink.save(model, record: record, parent: loaded, path: path, to: out)
        }
        if json {
            print(try jsonText(record))
            return
        }
        print(outcome.report(plan: plan, out: out))
    }
}
