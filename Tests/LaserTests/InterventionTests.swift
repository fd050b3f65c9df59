// The LAYER:TYPE:RHO notation, the rate notation, and matching against a model's matrices.
import Testing

@testable import Laser
import LinearAlgebra

@Suite struct InterventionTests {
    /// Found by the fuzzer's round-trip check: ρ = 1e-7 printed as 0, which does not parse.
    @Test func tinyRhoPrintsAsItParses() throws {
        for text in ["1:n:1e-7", "2:fc_in:0.000000123", "3:mlp:0.01", "0:conv:1"] {
            let a = try Intervention(parsing: text)
            let b = try Intervention(parsing: a.description)
            #expect(b.description == a.description, "\(text)")
            #expect(abs(b.rho - a.rho) <= 1e-6 * a.rho, "\(text)")
        }
        #expect(try Intervention(parsing: "1:n:1e-7").description == "1:n:1e-07")
    }

    @Test func parsesTheNotation() throws {
        let a = try Intervention(parsing: "27:fc_in:0.01")
        #expect(a.layer == .index(27) && a.type == "fc_in" && a.rho == 0.01)
        #expect(a.description == "27:fc_in:0.01")
        let b = try Intervention(parsing: "all:attn:0.5")
        #expect(b.layer == .all && b.type == "attn" && b.rho == 0.5)
        #expect(try Intervention(parsing: "3:mlp:1").rho == 1)
        let stem = try Intervention(parsing: "input:conv:0.5")
        #expect(stem.layer == .index(LayerSelector.inputLayer) && stem.layer.contains(-1))
        #expect(stem.description == "input:conv:0.5", "round trip")
    }

    /// The stem and embeddings sit before layer 0; `input` reaches them, `all` includes them.
    @Test func inputAddressesTheMatricesBeforeTheFirstLayer() throws {
        let model = InputModel()
        #expect(
            try Intervention(parsing: "input:conv:0.5").targets(in: model).map(\.name) == [
                "stem.weight"
            ])
        #expect(try Intervention(parsing: "all:conv:0.5").targets(in: model).count == 2)
        #expect(throws: LaserError.self) {
            try Intervention(parsing: "input:fc_in:0.5").targets(in: model)
        }
        #expect(throws: LaserError.self) {
            try Intervention(parsing: "input:fc_in:0.5").targets(in: StackModel(layers: 2))
        }
    }

    @Test func acceptsTheReferenceRateNotation() throws {
        #expect(abs(try Intervention(parsing: "5:fc_in:rate=9.9").rho - 0.01) < 1e-12)
        #expect(abs(try Intervention(parsing: "5:fc_in:rate=9").rho - 0.1) < 1e-12)
        #expect(try Intervention(parsing: "5:fc_in:rate=0").rho == 1)
        #expect(throws: LaserError.self) { try Intervention(parsing: "5:fc_in:rate=10") }
    }

    @Test(arguments: [
        "1:fc_in:0", "1:fc_in:2", "1:fc_in:-0.5", "1:fc_in:nan", "x:fc_in:0.5", "-1:fc_in:0.5",
        "1::0.5", "1:fc_in", "1:fc_in:0.5:7", "1:fc_in:abc", "2-1:fc_in:0.5", "1-1:fc_in:0.5",
        "1-2-3:fc_in:0.5", "-1-2:fc_in:0.5", "1-:fc_in:0.5", "Input:conv:0.5", "input-2:conv:0.5",
    ])
    func rejectsMalformedText(text: String) {
        #expect(throws: LaserError.self) { try Intervention(parsing: text) }
        do { _ = try Intervention(parsing: text) } catch {
            #expect("\(error)".contains(text), "the error names the input")
            #expect(!"\(error)".contains("\n"))
        }
    }

    @Test func matchesLayersTypesAndGroups() throws {
        let model = StackModel(layers: 3)
        #expect(
            try Intervention(parsing: "1:fc_in:0.5").targets(in: model).map(\.name) == [
                "layers.1.mlp.fc_in.weight"
            ])
        #expect(try Intervention(parsing: "all:fc_out:0.5").targets(in: model).count == 3)
        #expect(try Intervention(parsing: "2:mlp:0.5").targets(in: model).count == 2)
        #expect(try Intervention(parsing: "all:all:0.5").targets(in: model).count == 6)
        let range = try Intervention(parsing: "1-2:fc_out:0.5")
        #expect(range.layer == .range(1, 2) && range.description == "1-2:fc_out:0.5")
        #expect(
            try range.targets(in: model).map(\.name) == [
                "layers.1.mlp.fc_out.weight", "layers.2.mlp.fc_out.weight",
            ])
        #expect(try Intervention(parsing: range.description) == range, "round trip")
        #expect(throws: LaserError.self) {
            try Intervention(parsing: "3-5:fc_in:0.5").targets(in: model)
        }
    }

    @Test func aLayerThatDoesNotExistIsAnError() throws {
        let model = StackModel(layers: 3)
        #expect(throws: LaserError.self) {
            try Intervention(parsing: "9:fc_in:0.5").targets(in: model)
        }
        #expect(throws: LaserError.self) {
            try Intervention(parsing: "1:q_proj:0.5").targets(in: model)
        }
        #expect(throws: LaserError.self) {
            try Intervention(parsing: "1:attn:0.5").targets(in: model)
        }
    }

    @Test func keptRankIsMaxOneFloorRhoTimesMinDimension() throws {
        let i = try Intervention(parsing: "0:fc_in:0.25")
        #expect(i.keptRank(rows: 20, columns: 12) == 3)
        #expect(try Intervention(parsing: "0:fc_in:0.01").keptRank(rows: 20, columns: 12) == 1)
    }

    @Test func shardsParseAndPartition() throws {
        let s = try Shard(parsing: "1/3")
        #expect(s.owns(1) && s.owns(4) && !s.owns(0))
        for bad in ["3/3", "-1/2", "1", "a/b", "0/0"] {
            #expect(throws: LaserError.self) { try Shard(parsing: bad) }
        }
    }
}

/// A stem conv before layer 0 and one block conv at layer 0, as a conv policy exposes them.
private final class InputModel: ReducibleModel {
    let reducibleMatrices = [
        WeightMatrixInfo(
            name: "stem.weight", layer: LayerSelector.inputLayer, type: "conv", rows: 4, columns: 9),
        WeightMatrixInfo(
            name: "blocks.0.conv1.weight", layer: 0, type: "conv", rows: 4, columns: 36),
    ]
    func weightMatrix(named name: String) throws -> Tensor {
        let info = try matrixInfo(named: name)
        return Tensor(repeating: 1, shape: [info.rows, info.columns])
    }
    func setWeightMatrix(named name: String, to value: WeightValue) throws {}
}
