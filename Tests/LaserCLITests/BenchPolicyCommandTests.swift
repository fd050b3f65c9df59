// `laser bench policy` end to end: JSON rows for both networks, the PyTorch-check export, errors.
import Foundation
import Testing

@Suite struct BenchPolicyCommandTests {
    @Test func jsonHasARowPerArchitectureModeAndBatch() throws {
        let r = try CLI.run([
            "bench", "policy", "--json", "--batches", "1", "--batches", "9", "--seconds", "0.01",
            "--channels", "4", "--blocks", "1", "--dim", "8", "--layers", "1", "--heads", "2",
            "--mlp-hidden", "8",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let rows = json["rows"] as! [[String: Any]]
        #expect(rows.count == 8)
        for row in rows { #expect((row["samplesPerSecond"] as! Double) > 0) }
        #expect(Set(rows.map { $0["architecture"] as! String }) == ["conv", "transformer"])
        #expect((json["blasThreads"] as! Int) == 1)
    }

    @Test func trainOnlyAndInferOnlyKeepTheirRows() throws {
        let common = [
            "bench", "policy", "--json", "--arch", "conv", "--batches", "2", "--seconds", "0.01",
            "--channels", "4", "--blocks", "1",
        ]
        for (flag, mode) in [("--train-only", "train"), ("--infer-only", "infer")] {
            let r = try CLI.run(common + [flag])
            #expect(r.status == 0, "\(r.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
            let rows = json["rows"] as! [[String: Any]]
            #expect(rows.map { $0["mode"] as! String } == [mode])
        }
        let both = try CLI.run(common + ["--train-only", "--infer-only"])
        #expect(both.status != 0 && both.stderr.contains("exclude each other"))
    }

    @Test func kernelsTimesEachDirectConvKernel() throws {
        let r = try CLI.run([
            "bench", "policy", "--kernels", "--channels", "16", "--seconds", "0.01", "--json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let rows = json["rows"] as! [[String: Any]]
        #expect(
            rows.map { $0["kernel"] as! String } == [
                "forward", "input-gradient", "weight-gradient",
            ])
        for row in rows {
            #expect((row["gflops"] as! Double) > 0 && (row["channels"] as! Int) == 16)
            #expect((row["calls"] as! Int) >= 15)
        }
        let text = try CLI.run([
            "bench", "policy", "--kernels", "--channels", "16", "--seconds", "0.01",
        ])
        #expect(text.status == 0 && text.stdout.contains("weight-gradient"), "\(text.stderr)")
        let odd = try CLI.run(["bench", "policy", "--kernels", "--channels", "24"])
        #expect(odd.status != 0 && odd.stderr.contains("multiples of 16 (got 24)"))
    }

    @Test func exportCheckWritesCheckpointInputAndOutputs() throws {
        let dir = CLI.temporaryDirectory()
        let r = try CLI.run([
            "bench", "policy", "--arch", "conv", "--channels", "4", "--blocks", "1",
            "--export-check", dir,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        for file in ["conv.safetensors", "conv.input.f32", "conv.output.json"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/" + file), "\(file)")
        }
        let inspect = try CLI.run(["inspect", dir + "/conv.safetensors"])
        #expect(
            inspect.status == 0 && inspect.stdout.contains("blocks.0.conv1.weight"),
            "\(inspect.stderr)")
        // The policy's own addressing: the stem is what `input:conv:RHO` reduces.
        let stem = inspect.stdout.split(separator: "\n").first { $0.hasPrefix("stem.weight ") }
        #expect(
            stem.map { $0.split(separator: " ").suffix(2) == ["input", "conv"] } == true,
            "\(stem ?? "no stem row")")
    }

    @Test func badArgumentsGiveOneLineErrors() throws {
        let r = try CLI.run(["bench", "policy", "--arch", "mlp"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("unknown architecture 'mlp'"))
        let b = try CLI.run(["bench", "policy", "--batches", "0"])
        #expect(b.status != 0 && b.stderr.contains("batch sizes must be in 1...65536"))
    }
}
