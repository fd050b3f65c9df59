// Factored checkpoints: a LASER-reduced policy saved as its factors loads back running through the
// same factors (identical outputs, fewer stored parameters), malformed factor files are named, and
// a reduced policy trains at its ranks and resumes from its checkpoint.
import Core
import Foundation
import Laser
import LinearAlgebra
import Testing

@testable import Policy

@Suite struct FactoredCheckpointTests {
    let dir: String = {
        let d = NSTemporaryDirectory() + "factored-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }()

    func model(_ arch: String) throws -> any PolicyNetwork {
        arch == "conv"
            ? try ConvPolicy(config: ConvPolicyConfig(planes: 3, channels: 6, blocks: 2), seed: 1)
            : try TransformerPolicy(
                config: TransformerPolicyConfig(
                    planes: 3, dim: 8, layers: 2, heads: 2, mlpHidden: 16), seed: 1)
    }

    func reduced(_ arch: String) throws -> any PolicyNetwork {
        let m = try model(arch)
        let interventions =
            arch == "conv" ? ["0:conv:0.5", "1:conv:0.2"] : ["1:fc_in:0.25", "0:q_proj:0.5"]
        func apply<M: PolicyNetwork>(_ model: M) throws {
            try Reducer(model: model, storage: .factored).apply(
                interventions.map { try Intervention(parsing: $0) })
        }
        try apply(m)
        return m
    }

    @Test(arguments: ["conv", "transformer"])
    func aFactoredCheckpointRunsThroughTheSameFactors(arch: String) throws {
        let m = try reduced(arch)
        let path = dir + "/\(arch).safetensors"
        try PolicyCheckpoint.save(
            model: m, to: path, metadata: ["reduced_from": "parent.safetensors"], factored: true)
        let file = try SafetensorsFile(path: path)
        let names = m.reducedMatrixNames
        #expect(names.count == (arch == "conv" ? 4 : 2), "block i is its two convolutions")
        #expect(file.metadata[PolicyCheckpoint.factoredKey] == names.joined(separator: ","))
        for name in names {
            #expect(file.info(named: name) == nil, "the dense matrix is not stored")
            let f = try #require(m.factors(ofMatrix: name))
            #expect(file.info(named: name + ".left")?.shape == [f.rows, f.rank])
            #expect(file.info(named: name + ".right")?.shape == [f.rank, f.columns])
        }
        let loaded = try PolicyCheckpoint.load(from: path)
        #expect(loaded.metadata["reduced_from"] == "parent.safetensors")
        #expect(loaded.model.reducedMatrixNames == names, "the loaded model runs through factors")
        for name in names {
            #expect(loaded.model.factors(ofMatrix: name)?.rank == m.factors(ofMatrix: name)?.rank)
        }
        var rng = SplitMix64(seed: 3)
        let obs = randomObservations(batch: 4, planes: 3, rng: &rng)
        let a = try m.predict(observations: obs, batch: 4)
        let b = try loaded.model.predict(observations: obs, batch: 4)
        #expect(a.logits == b.logits && a.values == b.values)
        // The factored file stores fewer floats than the dense one.
        let dense = dir + "/\(arch)-dense.safetensors"
        try PolicyCheckpoint.save(model: m, to: dense)
        #expect(try SafetensorsFile(path: dense).metadata[PolicyCheckpoint.factoredKey] == nil)
        let floats = { (p: String) in
            try SafetensorsFile(path: p).tensors.reduce(0) { $0 + $1.shape.reduce(1, *) }
        }
        #expect(try floats(path) < floats(dense))
    }

    func trainer(for model: any PolicyNetwork) throws -> PolicyTrainer {
        var config = OptimizerConfig()
        config.learningRate = 1e-2
        config.warmupSteps = 0
        config.totalSteps = 100
        return try PolicyTrainer(model: model, config: config, batchCapacity: 8)
    }

    /// Training a reduced policy trains the rank-reduced network: every step leaves each reduced
    /// matrix at its rank, the factors and the dense parameters agree, and the loss falls.
    @Test(arguments: ["conv", "transformer"])
    func trainingKeepsEachReducedMatrixAtItsRank(arch: String) throws {
        let m = try reduced(arch)
        let names = m.reducedMatrixNames
        let ranks = names.map { m.factors(ofMatrix: $0)!.rank }
        let trainer = try trainer(for: m)
        #expect(trainer.rankConstraints.map(\.name) == names)
        #expect(trainer.rankConstraints.map(\.rank) == ranks)
        var rng = SplitMix64(seed: 5)
        let b = toyBatch(8, planes: 3, rng: &rng)
        let before = try trainer.evaluate(
            observations: b.obs, actions: b.actions, valueTargets: b.values)
        for _ in 0..<30 {
            try trainer.supervisedStep(
                observations: b.obs, actions: b.actions, valueTargets: b.values)
        }
        let after = try trainer.evaluate(
            observations: b.obs, actions: b.actions, valueTargets: b.values)
        #expect(
            after.policyLoss < 0.8 * before.policyLoss, "\(before.policyLoss) → \(after.policyLoss)"
        )
        #expect(m.reducedMatrixNames == names, "still running through factors")
        for (name, rank) in zip(names, ranks) {
            let f = try #require(m.factors(ofMatrix: name))
            #expect(f.rank == rank)
            let dense = try m.weightMatrix(named: name).reshaped([f.rows, f.columns])
            let sigma = try singularValues(dense)
            #expect(
                sigma[rank] <= 1e-4 * sigma[0], "\(name): σ beyond rank \(rank): \(sigma[rank])")
            let product = f.reconstructed()
            let gap = zip(dense.scalars, product.scalars).map { abs($0 - $1) }.max() ?? 0
            #expect(gap <= 1e-5, "\(name): parameters and factors differ by \(gap)")
        }
    }

    /// A reduced model's step is the dense model's step followed by the rank-k projection: its
    /// gradient is the one of the dense reconstruction.
    @Test func aReducedStepIsADenseStepThenTheProjection() throws {
        let m = try reduced("conv")
        let dense = try model("conv")
        for info in m.parameters.infos {
            try dense.parameters.setTensor(
                named: info.name, to: m.parameters.tensor(named: info.name))
        }
        #expect(dense.reducedMatrixNames.isEmpty)
        var rng = SplitMix64(seed: 6)
        let b = toyBatch(8, planes: 3, rng: &rng)
        for t in [try trainer(for: m), try trainer(for: dense)] {
            try t.supervisedStep(observations: b.obs, actions: b.actions, valueTargets: b.values)
        }
        for name in m.reducedMatrixNames {
            let f = try #require(m.factors(ofMatrix: name))
            let stepped = try dense.weightMatrix(named: name).reshaped([f.rows, f.columns])
            let projected = try svd(stepped).reconstruction(rank: f.rank)
            let mine = try m.weightMatrix(named: name).reshaped([f.rows, f.columns])
            let gap = zip(projected.scalars, mine.scalars).map { abs($0 - $1) }.max() ?? 0
            #expect(gap <= 1e-5, "\(name): \(gap)")
        }
    }

    /// The checkpoint of a rank-constrained run keeps the factors beside every Adam moment, and
    /// resuming it takes the same next step as the run that never stopped.
    @Test(arguments: ["conv", "transformer"])
    func aRankConstrainedRunResumesExactly(arch: String) throws {
        let m = try reduced(arch)
        let trainer = try trainer(for: m)
        var rng = SplitMix64(seed: 7)
        let b = toyBatch(8, planes: 3, rng: &rng)
        for _ in 0..<3 {
            try trainer.supervisedStep(
                observations: b.obs, actions: b.actions, valueTargets: b.values)
        }
        let path = dir + "/run-\(arch).safetensors"
        try PolicyCheckpoint.save(model: m, trainer: trainer, to: path)
        let file = try SafetensorsFile(path: path)
        #expect(
            file.metadata[PolicyCheckpoint.factoredKey]
                == m.reducedMatrixNames.joined(separator: ","))
        for name in m.reducedMatrixNames {
            #expect(file.info(named: name) == nil)
            #expect(file.info(named: "optimizer.adam_m." + name) != nil)
        }
        let resumed = try PolicyCheckpoint.resume(from: path, batchCapacity: 8)
        #expect(resumed.step == 3)
        #expect(resumed.rankConstraints.map(\.rank) == trainer.rankConstraints.map(\.rank))
        for t in [trainer, resumed] {
            try t.supervisedStep(observations: b.obs, actions: b.actions, valueTargets: b.values)
        }
        let obs = randomObservations(batch: 4, planes: 3, rng: &rng)
        let a = try m.predict(observations: obs, batch: 4)
        let c = try resumed.model.predict(observations: obs, batch: 4)
        let gap = zip(a.logits, c.logits).map { abs($0 - $1) }.max() ?? 0
        #expect(gap <= 1e-6, "resumed logits differ by \(gap)")
    }

    @Test func malformedFactorsAreNamed() throws {
        let m = try reduced("conv")
        let path = dir + "/good.safetensors"
        try PolicyCheckpoint.save(model: m, to: path, factored: true)
        let file = try SafetensorsFile(path: path)
        let name = m.reducedMatrixNames[0]
        func rewrite(_ change: (inout [SafetensorsEntry], inout [String: String]) -> Void) throws
            -> String
        {
            var entries = try file.tensors.map {
                SafetensorsEntry(name: $0.name, tensor: try file.tensor(named: $0.name))
            }
            var metadata = file.metadata
            change(&entries, &metadata)
            let out = dir + "/bad-\(UUID().uuidString).safetensors"
            try SafetensorsWriter.write(entries, metadata: metadata, to: out)
            return out
        }
        let missing = try rewrite { e, _ in e.removeAll { $0.name == name + ".right" } }
        #expect(throws: PolicyError.self) { try PolicyCheckpoint.load(from: missing) }
        let wrongShape = try rewrite { e, _ in
            let i = e.firstIndex { $0.name == name + ".left" }!
            e[i] = SafetensorsEntry(name: name + ".left", tensor: Tensor(zeros: [5, 2]))
        }
        do {
            _ = try PolicyCheckpoint.load(from: wrongShape)
            Issue.record("a wrong factor shape loaded")
        } catch let error as PolicyError {
            #expect("\(error)".contains("factors of '\(name)'"))
        }
        let unknown = try rewrite { _, md in md[PolicyCheckpoint.factoredKey] = "nowhere.weight" }
        #expect(throws: PolicyError.self) { try PolicyCheckpoint.load(from: unknown) }
    }
}
