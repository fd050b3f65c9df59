// The foundation commands end to end: help that teaches, one-line errors, reduce and inspect.
import Foundation
import Testing

@Suite(.serialized) struct FoundationCommandTests {
    let dir = CLI.temporaryDirectory()

    func sample() throws -> String {
        let path = dir + "/sample.safetensors"
        if !FileManager.default.fileExists(atPath: path) {
            let r = try CLI.run([
                "sample-checkpoint", path, "--layers", "3", "--width", "32", "--hidden", "64",
                "--signal-rank", "4",
            ])
            #expect(r.status == 0, "\(r.stderr)")
        }
        return path
    }

    @Test func helpExplainsTheNotation() throws {
        let r = try CLI.run(["--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("LAYER:TYPE:RHO") && r.stdout.contains("rate="))
        for sub in ["inspect", "reduce", "merge-results", "sample-checkpoint", "bench"] {
            let h = try CLI.run([sub, "--help"])
            #expect(h.status == 0 && h.stdout.contains("USAGE"), "\(sub) --help")
        }
        #expect(try CLI.run(["reduce", "--help"]).stdout.contains("max(1, ⌊ρ·min(m, n)⌋)"))
    }

    @Test(arguments: [
        (["1:mlp:0"], "ρ must be in (0, 1]"),
        (["1:mlp:2"], "ρ must be in (0, 1]"),
        (["7:mlp:0.5"], "matches no matrix"),
        (["1:nonsense:0.5"], "matches no matrix"),
        (["1-mlp-0.5"], "three fields"),
    ])
    func badInterventionsGiveOneLineErrors(args: [String], message: String) throws {
        let path = try sample()
        let r = try CLI.run([
            "reduce", path, "--intervene", args[0], "--out", dir + "/never.safetensors",
        ])
        #expect(r.status != 0)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line: \(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/never.safetensors"))
    }

    @Test func badFilesGiveOneLineErrors() throws {
        let path = try sample()
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let truncated = dir + "/truncated.safetensors"
        try data.prefix(200).write(to: URL(fileURLWithPath: truncated))
        for (file, message) in [
            (truncated, "runs past the end"), (dir + "/missing.safetensors", "No such file"),
        ] {
            let r = try CLI.run(["inspect", file])
            #expect(r.status != 0)
            #expect(
                r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(message),
                "\(r.stderr)")
        }
        let bad = try CLI.run([
            "reduce", path, "--tensor", "nope.weight", "--rho", "0.5", "--out",
            dir + "/x.safetensors",
        ])
        #expect(bad.status != 0 && bad.stderr.contains("no reducible matrix named 'nope.weight'"))
    }

    @Test func reduceThenInspectShowsTheReducedRank() throws {
        let path = try sample()
        let out = dir + "/reduced.safetensors"
        let r = try CLI.run(["reduce", path, "--intervene", "2:mlp:0.25", "--json", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let reductions = report["reductions"] as! [[String: Any]]
        #expect(reductions.map { $0["rankKept"] as! Int } == [8, 8])
        let inspect = try CLI.run([
            "inspect", out, "--spectrum", "--json", "--filter", "layers.2.mlp.fc_in",
        ])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let parsed =
            try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as! [String: Any]
        let tensors = parsed["tensors"] as! [[String: Any]]
        let spectrum = tensors[0]["spectrum"] as! [String: Any]
        let values = spectrum["singularValues"] as! [Double]
        // Rank 8 kept: the ninth singular value is zero up to rounding.
        #expect(values[7] > 1e-3 && values[8] < 1e-4 * values[0])
    }

    @Test func factoredOutputIsSmallerAndNamesItsFactors() throws {
        let path = try sample()
        let out = dir + "/factored.safetensors"
        let r = try CLI.run([
            "reduce", path, "--intervene", "all:mlp:0.1", "--factored", "--out", out,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("smaller"))
        let inspect = try CLI.run(["inspect", out])
        #expect(
            inspect.stdout.contains("layers.0.mlp.fc_in.weight.left")
                && inspect.stdout.contains("laser.factored"))
        let before = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        let after = try FileManager.default.attributesOfItem(atPath: out)[.size] as! Int
        #expect(after < before)
    }

    /// PyTorch's `safetensors` package reads what `laser reduce` writes, and the values agree with the
    /// rank-k reconstruction. Needs a Python with safetensors and numpy: scripts/test.sh makes a
    /// venv and sets LASER_PYTHON; without it the test is skipped unless LASER_REQUIRE_PYTHON=1.
    @Test func pythonSafetensorsLoadsReducedFiles() throws {
        let env = ProcessInfo.processInfo.environment
        guard let python = env["LASER_PYTHON"] else {
            #expect(
                env["LASER_REQUIRE_PYTHON"] != "1",
                "LASER_PYTHON is not set but LASER_REQUIRE_PYTHON=1")
            return
        }
        let path = try sample()
        let dense = dir + "/py-dense.safetensors"
        let factored = dir + "/py-factored.safetensors"
        #expect(
            try CLI.run(["reduce", path, "--intervene", "1:fc_in:0.25", "--out", dense]).status == 0
        )
        #expect(
            try CLI.run([
                "reduce", path, "--intervene", "1:fc_in:0.25", "--factored", "--out", factored,
            ]).status == 0)
        let script = """
            import sys, numpy as np
            from safetensors.numpy import load_file
            from safetensors import safe_open
            orig = load_file(sys.argv[1]); dense = load_file(sys.argv[2]); fact = load_file(sys.argv[3])
            name = "layers.1.mlp.fc_in.weight"
            w = orig[name].astype(np.float64)
            u, s, vt = np.linalg.svd(w, full_matrices=False)
            k = max(1, int(0.25 * min(w.shape)))
            best = (u[:, :k] * s[:k]) @ vt[:k]
            assert np.abs(dense[name] - best).max() < 1e-4, "dense reconstruction differs"
            prod = fact[name + ".left"].astype(np.float64) @ fact[name + ".right"]
            assert fact[name + ".left"].shape == (w.shape[0], k), fact[name + ".left"].shape
            assert np.abs(prod - best).max() < 1e-4, "factored product differs"
            for other in orig:
                if other != name:
                    assert np.array_equal(orig[other], dense[other]), other
            with safe_open(sys.argv[3], "np") as f:
                assert f.metadata()["laser.factored"] == name
            print("ok", k)
            """
        let scriptPath = dir + "/check.py"
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let r = try CLI.run(executable: python, [scriptPath, path, dense, factored])
        #expect(r.status == 0, "python: \(r.stderr)")
        #expect(r.stdout.contains("ok 8"))
    }
}
