// `laser reduce` on a policy, in-process: the file written loads as a policy, runs through its
// factors, and records its first parent and every reduction in order.
import Foundation
import Laser
import Policy
import Testing

@Suite struct PolicyReductionTests {
    @Test func aPolicyReducedTwiceKeepsItsFirstParentAndEveryReduction() throws {
        let dir = NSTemporaryDirectory() + "policy-reduce-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let parent = try ConvPolicy(config: ConvPolicyConfig(channels: 8, blocks: 2), seed: 1)
        try PolicyCheckpoint.save(model: parent, to: dir + "/p.safetensors", step: 12)
        let first = try PolicyCheckpoint.reduce(
            dir + "/p.safetensors",
            ReductionRequest(interventions: [try Intervention(parsing: "0:conv:0.5")]),
            to: dir + "/r1.safetensors", factored: true)
        #expect(first.map(\.rankKept) == [4, 4])
        try PolicyCheckpoint.reduce(
            dir + "/r1.safetensors",
            ReductionRequest(
                matrices: [("blocks.1.conv1.weight", 0.25)],
                interventions: [try Intervention(parsing: "1:conv:0.5")]),
            to: dir + "/r2.safetensors", factored: true)
        let loaded = try PolicyCheckpoint.load(from: dir + "/r2.safetensors")
        #expect(loaded.metadata["reduced_from"] == dir + "/p.safetensors")
        #expect(
            loaded.metadata["interventions"]
                == "0:conv:0.5,blocks.1.conv1.weight@0.25,1:conv:0.5")
        #expect(loaded.step == 12)
        // Stored and run as factors: both blocks' convolutions.
        let factored = Set(
            (loaded.metadata[PolicyCheckpoint.factoredKey] ?? "").split(separator: ",").map(
                String.init))
        #expect(
            factored
                == [
                    "blocks.0.conv1.weight", "blocks.0.conv2.weight", "blocks.1.conv1.weight",
                    "blocks.1.conv2.weight",
                ])
    }
}
