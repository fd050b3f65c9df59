// Checkpoints: round trip, metadata PyTorch tools read, validation errors, exact resume.
import Core
import Foundation
import LinearAlgebra
import Testing

@testable import Policy

private func temporaryPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
        "policy-tests-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

@Suite struct CheckpointTests {
    @Test(arguments: ["conv", "transformer"])
    func roundTripKeepsOutputsAndMetadata(arch: String) throws {
        let model: any PolicyNetwork =
            arch == "conv"
            ? try ConvPolicy(config: ConvPolicyConfig(planes: 3, channels: 4, blocks: 2), seed: 1)
            : try TransformerPolicy(
                config: TransformerPolicyConfig(
                    planes: 3, dim: 8, layers: 2, heads: 2, mlpHidden: 16), seed: 1)
        let path = temporaryPath("\(arch).safetensors")
        try PolicyCheckpoint.save(
            model: model, to: path, step: 42, dataSeed: 7, metadata: ["note": "test"])
        let loaded = try PolicyCheckpoint.load(from: path)
        #expect(loaded.step == 42 && loaded.dataSeed == 7 && loaded.metadata["note"] == "test")
        #expect(loaded.metadata["architecture"] == arch)
        #expect(loaded.model.hyperparameters == model.hyperparameters)
        #expect(loaded.optimizerConfig == nil)
        var rng = SplitMix64(seed: 2)
        let obs = randomObservations(batch: 3, planes: 3, rng: &rng)
        let a = try model.predict(observations: obs, batch: 3)
        let b = try loaded.model.predict(observations: obs, batch: 3)
        #expect(a.logits == b.logits && a.values == b.values)
        // Every tensor sits under its stable name in PyTorch's shape.
        let file = try SafetensorsFile(path: path)
        if arch == "conv" {
            #expect(file.info(named: "blocks.1.conv1.weight")?.shape == [4, 4, 3, 3])
        } else {
            #expect(file.info(named: "layers.1.attn.q_proj.weight")?.shape == [8, 8])
        }
    }

    @Test func wrongNamesAndShapesAreNamed() throws {
        let model = try ConvPolicy(
            config: ConvPolicyConfig(planes: 3, channels: 4, blocks: 1), seed: 1)
        let path = temporaryPath("bad.safetensors")
        var entries = try model.parameters.infos.map {
            SafetensorsEntry(name: $0.name, tensor: try model.parameters.tensor(named: $0.name))
        }
        var metadata = ["format": "laser-policy", "format_version": "1", "architecture": "conv"]
        for (k, v) in model.hyperparameters { metadata["hp." + k] = v }

        entries[0] = SafetensorsEntry(name: "stem.weight", tensor: Tensor(zeros: [4, 3, 3, 2]))
        try SafetensorsWriter.write(entries, metadata: metadata, to: path)
        #expect(
            throws: PolicyError.invalidCheckpoint(
                "\(path): tensor 'stem.weight' has shape [4, 3, 3, 2], the conv policy needs [4, 3, 3, 3]"
            )
        ) {
            try PolicyCheckpoint.load(from: path)
        }
        entries.remove(at: 0)
        try SafetensorsWriter.write(entries, metadata: metadata, to: path)
        #expect(throws: PolicyError.invalidCheckpoint("\(path): missing tensor 'stem.weight'")) {
            try PolicyCheckpoint.load(from: path)
        }
        entries.append(SafetensorsEntry(name: "stem.weight", tensor: Tensor(zeros: [4, 3, 3, 3])))
        entries.append(SafetensorsEntry(name: "blocks.5.conv1.weight", tensor: Tensor(zeros: [1])))
        try SafetensorsWriter.write(entries, metadata: metadata, to: path)
        #expect(
            throws: PolicyError.invalidCheckpoint(
                "\(path): unexpected tensor 'blocks.5.conv1.weight' for a conv policy")
        ) {
            try PolicyCheckpoint.load(from: path)
        }
        try SafetensorsWriter.write(
            entries,
            metadata: ["format": "laser-policy", "format_version": "1", "architecture": "mlp"],
            to: path)
        #expect(
            throws: PolicyError.invalidCheckpoint(
                "unknown architecture 'mlp' (expected conv, transformer or decision-transformer)")
        ) {
            try PolicyCheckpoint.load(from: path)
        }
        try SafetensorsWriter.write(entries, metadata: [:], to: path)
        #expect(throws: PolicyError.self) { try PolicyCheckpoint.load(from: path) }
        #expect(throws: PolicyError.self) {
            try PolicyCheckpoint.resume(from: path, batchCapacity: 2)
        }
    }

    /// A checkpoint of a format version this build does not know, or with a NaN weight or
    /// optimizer moment, is refused naming the problem (a NaN policy was evaluated as 0% solved).
    @Test func unknownVersionsAndNonFiniteValuesAreRefused() throws {
        let model = try ConvPolicy(
            config: ConvPolicyConfig(planes: 3, channels: 4, blocks: 1), seed: 1)
        let trainer = try PolicyTrainer(model: model, config: OptimizerConfig(), batchCapacity: 2)
        let path = temporaryPath("version.safetensors")
        try PolicyCheckpoint.save(model: model, trainer: trainer, to: path)
        let file = try SafetensorsFile(path: path)
        func rewrite(metadata edit: (inout [String: String]) -> Void, tensor: String? = nil) throws
        {
            var metadata = file.metadata
            edit(&metadata)
            let entries = try file.tensors.map { info -> SafetensorsEntry in
                var t = try file.tensor(named: info.name)
                if info.name == tensor { t.scalars[1] = .nan }
                return SafetensorsEntry(name: info.name, tensor: t)
            }
            try SafetensorsWriter.write(entries, metadata: metadata, to: path + ".edited")
        }
        try rewrite(metadata: { $0["format_version"] = "2" })
        #expect(
            throws: PolicyError.invalidCheckpoint(
                "\(path).edited has format_version '2'; this laser reads version 1")
        ) { try PolicyCheckpoint.load(from: path + ".edited") }
        try rewrite(metadata: { _ in }, tensor: "stem.weight")
        #expect(
            throws: PolicyError.invalidCheckpoint(
                "\(path).edited: tensor 'stem.weight' holds a non-finite value (nan) at element 1")
        ) { try PolicyCheckpoint.load(from: path + ".edited") }
        try rewrite(metadata: { _ in }, tensor: "optimizer.adam_v.stem.weight")
        _ = try PolicyCheckpoint.load(from: path + ".edited")
        #expect(throws: PolicyError.self) {
            try PolicyCheckpoint.resume(from: path + ".edited", batchCapacity: 2)
        }
    }

    /// Hyperparameters in a checkpoint's metadata cannot make the loader allocate without bound.
    @Test func oversizedArchitecturesAreRefusedBeforeAllocating() throws {
        #expect(throws: PolicyError.self) {
            try PolicyCheckpoint.makeModel(
                architecture: "transformer",
                hyperparameters: [
                    "planes": "4", "dim": "4096", "layers": "64", "heads": "64",
                    "mlp_hidden": "16384",
                ],
                seed: 0)
        }
        func conv(channels: Int, blocks: Int) throws -> any PolicyNetwork {
            try PolicyCheckpoint.makeModel(
                architecture: "conv",
                hyperparameters: [
                    "planes": "4", "channels": "\(channels)", "blocks": "\(blocks)",
                    "policy_channels": "2", "value_channels": "1", "value_hidden": "64",
                ],
                seed: 0)
        }
        #expect(throws: PolicyError.self) { try conv(channels: 1024, blocks: 64) }
        #expect(throws: Never.self) { try conv(channels: 32, blocks: 8) }
    }

    /// Training 3 steps, saving, and resuming for 2 more gives bit-identical weights to 5 steps.
    @Test(arguments: ["conv", "transformer"])
    func resumeContinuesExactly(arch: String) throws {
        func makeModel() throws -> any PolicyNetwork {
            arch == "conv"
                ? try ConvPolicy(
                    config: ConvPolicyConfig(planes: 2, channels: 4, blocks: 1), seed: 9)
                : try TransformerPolicy(
                    config: TransformerPolicyConfig(
                        planes: 2, dim: 8, layers: 1, heads: 2, mlpHidden: 8), seed: 9)
        }
        var config = OptimizerConfig()
        config.warmupSteps = 2
        config.totalSteps = 5
        var rng = SplitMix64(seed: 5)
        let batches = (0..<5).map { _ in toyBatch(4, planes: 2, rng: &rng) }
        let straight = try PolicyTrainer(model: try makeModel(), config: config, batchCapacity: 4)
        for b in batches {
            _ = try straight.supervisedStep(
                observations: b.obs, actions: b.actions, valueTargets: b.values)
        }

        let first = try PolicyTrainer(model: try makeModel(), config: config, batchCapacity: 4)
        for b in batches[0..<3] {
            _ = try first.supervisedStep(
                observations: b.obs, actions: b.actions, valueTargets: b.values)
        }
        let path = temporaryPath("resume.safetensors")
        try PolicyCheckpoint.save(model: first.model, trainer: first, to: path, dataSeed: 5)
        let resumed = try PolicyCheckpoint.resume(from: path, batchCapacity: 4)
        #expect(resumed.step == 3 && resumed.config == config)
        for b in batches[3...] {
            _ = try resumed.supervisedStep(
                observations: b.obs, actions: b.actions, valueTargets: b.values)
        }
        for info in straight.model.parameters.infos {
            #expect(
                try straight.model.parameters.tensor(named: info.name)
                    == resumed.model.parameters.tensor(named: info.name),
                "\(info.name) differs after resume")
        }
    }
}

/// Python's `safetensors` (what PyTorch uses) reads our checkpoints: names, PyTorch shapes,
/// metadata and values. Needs LASER_PYTHON (scripts/test.sh sets it); skipped without it unless
/// LASER_REQUIRE_PYTHON=1.
@Test func pythonSafetensorsReadsPolicyCheckpoints() throws {
    let env = ProcessInfo.processInfo.environment
    guard let python = env["LASER_PYTHON"] else {
        #expect(
            env["LASER_REQUIRE_PYTHON"] != "1", "LASER_PYTHON is not set but LASER_REQUIRE_PYTHON=1"
        )
        return
    }
    let model = try ConvPolicy(config: ConvPolicyConfig(planes: 7, channels: 8, blocks: 2), seed: 3)
    let trainer = try PolicyTrainer(model: model, config: OptimizerConfig(), batchCapacity: 2)
    let path = temporaryPath("python.safetensors")
    try PolicyCheckpoint.save(model: model, trainer: trainer, to: path, dataSeed: 99)
    let stem = try model.parameters.tensor(named: "stem.weight")
    let script = """
        import sys, json, numpy as np
        from safetensors.numpy import load_file
        from safetensors import safe_open
        tensors = load_file(sys.argv[1])
        with safe_open(sys.argv[1], "np") as f:
            meta = f.metadata()
        assert meta["architecture"] == "conv" and meta["hp.channels"] == "8", meta
        assert meta["data_seed"] == "99" and meta["step"] == "0", meta
        assert json.loads(meta["optimizer"])["learningRate"] > 0
        assert tensors["blocks.1.conv2.weight"].shape == (8, 8, 3, 3)
        assert tensors["optimizer.adam_m.blocks.1.conv2.weight"].shape == (576,)
        print(repr(float(tensors["stem.weight"][2, 5, 1, 2])))
        """
    let scriptPath = temporaryPath("check.py")
    try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [scriptPath, path]
    let pipe = Pipe()
    let errors = Pipe()
    process.standardOutput = pipe
    process.standardError = errors
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "python: \(message)")
    // PyTorch order out × in × kh × kw: element [2, 5, 1, 2].
    let index: Int = ((2 * 7 + 5) * 3 + 1) * 3 + 2
    let expected = stem.scalars[index]
    #expect(Float(output.trimmingCharacters(in: .whitespacesAndNewlines)) == expected)
}
