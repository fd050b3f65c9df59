// Where a training run's first network comes from, in-process: a fresh design, a copied conv
// trunk, a checkpoint given the trail plane or grown, each computing what it should.
import Foundation
import Laser
import Policy
import Testing

@testable import Agent

@Suite struct StartingNetworkTests {
    func design(_ architecture: PolicyArchitecture = .conv) -> PolicyDesign {
        var d = PolicyDesign()
        d.architecture = architecture
        d.channels = 8
        d.blocks = 2
        d.dim = 16
        d.heads = 2
        d.mlpHidden = 32
        return d
    }

    /// Two boards of seven one-hot planes, with `extra` empty planes after them.
    func boards(extra: Int = 0) -> [Float] {
        var out: [Float] = []
        for b in 0..<2 {
            var board = [Float](repeating: 0, count: (7 + extra) * 100)
            for cell in 0..<100 { board[((cell * 7 + b) % 7) * 100 + cell] = 1 }
            out += board
        }
        return out
    }

    func outputs(_ model: any PolicyNetwork, extra: Int = 0) throws -> [Float] {
        let (logits, values) = try model.predict(observations: boards(extra: extra), batch: 2)
        return logits + values
    }

    func saved(_ model: any PolicyNetwork, metadata: [String: String] = [:]) throws -> (
        PolicyCheckpoint.Loaded, String
    ) {
        let path = Fixtures.temporaryPath("start.safetensors")
        try PolicyCheckpoint.save(model: model, to: path, metadata: metadata)
        return (try PolicyCheckpoint.load(from: path), path)
    }

    @Test func aFreshDesignBuildsEachArchitecture() throws {
        for architecture in PolicyArchitecture.allCases {
            let made = try StartingNetwork.fresh(design(architecture), trunk: nil).make(seed: 1)
            #expect(made.network.architectureName == architecture.rawValue)
            #expect(made.initial == nil && made.lineage.isEmpty && made.notes.isEmpty)
        }
        var wrong = design(.conv)
        wrong.convChannels = 16
        #expect(wrong.problem()?.contains("--conv-channels") == true)
    }

    @Test func theTrunkIsCopiedFromATrainedPolicy() throws {
        let source = try design().build(seed: 5)
        var d = design(.transformer)
        d.convChannels = 8
        d.convBlocks = 2
        let made = try StartingNetwork.fresh(d, trunk: (source, "conv.safetensors")).make(seed: 1)
        #expect(made.initial == "conv trunk of conv.safetensors")
        #expect(made.notes.first?.hasPrefix("conv trunk (") == true)
        for name in ["stem.weight", "blocks.1.conv2.weight"] {
            #expect(
                try made.network.parameters.tensor(named: name).scalars
                    == source.parameters.tensor(named: name).scalars)
        }
    }

    @Test func aCheckpointGainsTheTrailPlaneAndGrowsComputingTheSame() throws {
        let parent = try design().build(seed: 3)
        let (loaded, path) = try saved(
            parent, metadata: ["reduced_from": "p.safetensors", "interventions": "1:conv:0.5"])
        defer { try? FileManager.default.removeItem(atPath: path) }
        var bigger = design()
        bigger.planes = 8
        bigger.channels = 12
        bigger.blocks = 3
        let made = try StartingNetwork.checkpoint(loaded, path: path, design: bigger, grow: true)
            .make(seed: 9)
        #expect(made.network.planeCount == 8 && made.initial == path)
        #expect(made.notes == ["\(path) gains the trail plane (its weights start at zero)"])
        #expect(made.lineage["reduced_from"] == "p.safetensors")
        // The eighth plane empty: the grown network computes what its parent did.
        let before = try outputs(parent)
        let after = try outputs(made.network, extra: 1)
        #expect(
            before.count == after.count && zip(before, after).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    @Test func onlyConvPoliciesGrow() throws {
        let (loaded, path) = try saved(try design(.transformer).build(seed: 2))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            try StartingNetwork.checkpoint(loaded, path: path, design: design(), grow: true).make(
                seed: 1)
        } throws: { error in
            guard case StartingNetwork.Failure.growth = error else { return false }
            return "\(error)".contains("only conv policies can be grown")
        }
    }
}
