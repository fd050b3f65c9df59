// The agent commands end to end on tiny levels: train bc → eval → sweep (and its resume), and
// one-line errors for missing or truncated checkpoints, bad interventions and absent layers.
import Foundation
import Testing

@Suite(.serialized) struct AgentCommandTests {
    let dir = CLI.temporaryDirectory()

    /// Corridor levels with solutions, as a file.
    func levels() throws -> String {
        let path = dir + "/corridors.xsb"
        if !FileManager.default.fileExists(atPath: path) {
            let text = """
                #######
                #@ $ .#
                #######
                Title: right
                Solution: rRR

                #######
                #. $ @#
                #######
                Title: left
                Solution: lLL

                #####
                #@$.#
                #####
                Title: short right
                Solution: R

                #####
                #.$@#
                #####
                Title: short left
                Solution: L

                """
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        return path
    }

    /// A tiny conv policy trained for a few steps.
    func policy() throws -> String {
        let path = dir + "/tiny.safetensors"
        if !FileManager.default.fileExists(atPath: path) {
            let r = try CLI.run([
                "train", "bc", "--demos", try levels(), "--channels", "4", "--blocks", "2",
                "--steps", "4",
                "--batch", "16", "--eval-every", "2", "--held-out", "1", "--solve-levels", "1",
                "--out", path,
            ])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.contains("held-out loss"))
        }
        return path
    }

    @Test func evalIsDeterministicAndWritesPerLevelLines() throws {
        let p = try policy()
        let l = try levels()
        let args = [
            "eval", "--policy", p, "--levels", l, "--attempts", "3", "--seed", "4", "--max-steps",
            "10", "--json",
        ]
        let a = try CLI.run(args + ["--per-level", dir + "/a.jsonl"])
        let b = try CLI.run(args + ["--per-level", dir + "/b.jsonl", "--jobs", "1"])
        #expect(a.status == 0 && b.status == 0, "\(a.stderr)\(b.stderr)")
        let lines = try String(contentsOfFile: dir + "/a.jsonl", encoding: .utf8).split(
            separator: "\n")
        #expect(lines.count == 4 && lines[0].contains("\"greedy_solved\""))
        #expect(
            try String(contentsOfFile: dir + "/b.jsonl", encoding: .utf8) == lines.joined(
                separator: "\n") + "\n")
        #expect(a.stdout.contains("\"greedy_solve_rate\""))
        let table = try CLI.run(["eval", "--policy", p, "--levels", l, "--intervene", "0:conv:0.5"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("unreduced") && table.stdout.contains("0:conv:0.5"))
    }

    /// --candidates scores every grid point, evaluates only the --top best, and measures the
    /// side effects of what it chose (or of the unreduced policy).
    @Test(arguments: ["snr", "gradient"]) func candidateSweepEvaluatesOnlyTheTopPoints(
        score: String
    ) throws {
        let p = try policy()
        let l = try levels()
        let out = dir + "/candidates-\(score)"
        let r = try CLI.run([
            "sweep", "--policy", p, "--levels", l, "--test", l, "--layers", "0-1", "--types",
            "conv", "--rhos", "0.5,0.25", "--out-dir", out, "--max-steps", "10", "--candidates",
            score, "--top", "2", "--gradient-levels", "3",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("candidates (\(score)): the 2 best-scored of 4 grid points"))
        let file =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: out + "/candidates.json")))
            as! [String: Any]
        let points = file["points"] as! [[String: Any]]
        #expect(points.count == 4 && points.filter { $0["selected"] as! Bool }.count == 2)
        let summary =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
            as! [String: Any]
        #expect(summary["configurations_tried"] as? Int == 2, "only the top two were evaluated")
        let effects = summary["side_effects"] as! [[String: Any]]
        #expect(effects.count == 1 && (effects[0]["data"] as! String).contains("positions"))
    }

    @Test func sweepWritesItsReportsAndResumes() throws {
        let p = try policy()
        let l = try levels()
        let out = dir + "/sweep"
        let args = [
            "sweep", "--policy", p, "--levels", l, "--test", l, "--layers", "0-1", "--types",
            "conv",
            "--rhos", "0.5,0.25", "--out-dir", out, "--max-steps", "10",
        ]
        let first = try CLI.run(args)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("solve_rate"))
        for file in ["report.md", "results.csv", "results.jsonl", "heatmap-conv.svg"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file)")
        }
        let log = try String(contentsOfFile: out + "/results.jsonl", encoding: .utf8)
        // Baseline, 4 grid points, best and baseline on test.
        #expect(log.split(separator: "\n").count >= 5)
        let second = try CLI.run(args)
        #expect(second.status == 0)
        #expect(second.stderr.contains("results already in"))
        #expect(try String(contentsOfFile: out + "/results.jsonl", encoding: .utf8) == log)
        // The log names the checkpoint it belongs to: another checkpoint may not resume it.
        let other = dir + "/other.safetensors"
        let trained = try CLI.run([
            "train", "bc", "--demos", l, "--channels", "4", "--blocks", "2", "--steps", "2",
            "--batch", "16",
            "--eval-every", "2", "--held-out", "1", "--solve-levels", "0", "--seed", "9", "--out",
            other,
        ])
        #expect(trained.status == 0, "\(trained.stderr)")
        // The same command again would replace the trained checkpoint: refused, file untouched.
        let trainArgs = [
            "train", "bc", "--demos", l, "--channels", "8", "--blocks", "1", "--steps", "2",
            "--batch", "16", "--eval-every", "2", "--held-out", "1", "--solve-levels", "0",
            "--out", other,
        ]
        let saved = try Data(contentsOf: URL(fileURLWithPath: other))
        let again = try CLI.run(trainArgs)
        #expect(again.status != 0)
        #expect(
            again.stderr.contains("other.safetensors already exists: pass --resume")
                && again.stderr.contains("--overwrite"), "\(again.stderr)")
        #expect(again.stderr.split(separator: "\n").count == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: other)) == saved)
        let replaced = try CLI.run(trainArgs + ["--overwrite"])
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: other)) != saved)
        try saved.write(to: URL(fileURLWithPath: other))
        var otherArgs = args
        otherArgs[2] = other
        let refused = try CLI.run(otherArgs)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("another setup"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1)
        // The sweep's summary.json feeds the side-by-side report.
        let summary =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
            as! [String: Any]
        #expect(
            summary["configurations_tried"] as? Int == 4
                && summary["objective"] as? String == "solve_rate")
        let csv = try String(contentsOfFile: out + "/results.csv", encoding: .utf8)
        #expect(
            csv.split(separator: "\n")[0].hasSuffix(",delta,ci95_low,ci95_high,p_value,gained,lost")
        )
        let report = try CLI.run([
            "report", "--sweep", "policy A=\(out)", "--sweep", "policy B=\(out)", "--out-dir",
            dir + "/both",
        ])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout.contains("| | policy A | policy B |"))
        #expect(report.stdout.contains("| configurations tried on validation | 4 | 4 |"))
        let svg = try String(contentsOfFile: dir + "/both/report.svg", encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("policy B"))
        try expectOneLineError(
            ["report", "--sweep", "x=\(dir)/nowhere", "--out-dir", dir + "/none"], "no such file")
        try expectOneLineError(["report", "--sweep", "nolabel"], "LABEL=DIR")
        // And the population study: its table updates a document between its markers.
        let doc = dir + "/population.md"
        try "# Study\n\n<!-- population:begin -->\n<!-- population:end -->\nprose\n".write(
            toFile: doc, atomically: true, encoding: .utf8)
        let population = try CLI.run([
            "population", "--sweep", "g: A=\(out)", "--sweep", "g: B=\(out)", "--out", doc,
            "--svg", dir + "/forest.svg",
        ])
        #expect(population.status == 0, "\(population.stderr)")
        let text = try String(contentsOfFile: doc, encoding: .utf8)
        #expect(text.hasPrefix("# Study\n\n<!-- population:begin -->\n| model |"))
        #expect(text.hasSuffix("<!-- population:end -->\nprose\n") && text.contains("| g: B | 4 |"))
        #expect(try String(contentsOfFile: dir + "/forest.svg", encoding: .utf8).contains(">g: A<"))
        try expectOneLineError(
            ["population", "--sweep", "x=\(dir)/nowhere", "--out", dir + "/p.md"], "no such file")
        try expectOneLineError(["population", "--sweep", "nolabel"], "LABEL=DIR")
    }

    @Test func ppoWithACurriculumNamesItsStagesAndRecordsTheStage() throws {
        let l = try levels()
        let out = dir + "/curriculum.safetensors"
        let r = try CLI.run([
            "train", "ppo", "--init", try policy(), "--levels", l, "--eval-levels", l,
            "--curriculum", "7x7x1",
            "--curriculum-levels", "3", "--total-steps", "64", "--envs", "4", "--rollout", "16",
            "--minibatches", "2",
            "--eval-every", "1", "--out", out,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("curriculum: 7x7x1 → final"), "\(r.stderr)")
        let text = try String(contentsOfFile: out, encoding: .isoLatin1)
        #expect(text.contains("curriculum_stage") && text.contains("7x7x1"))
    }

    @Test func growEnlargesTheInitPolicyWithoutChangingWhatItComputes() throws {
        let l = try levels()
        // One step at a negligible learning rate: the held-out figures are the --init policy's.
        func train(_ extra: [String], out: String) throws -> CLIResult {
            try CLI.run(
                [
                    "train", "bc", "--demos", l, "--init", try policy(), "--steps", "2", "--until",
                    "1", "--lr", "1e-12",
                    "--batch", "16", "--eval-every", "1", "--held-out", "1", "--solve-levels", "1",
                    "--out", out,
                ] + extra)
        }
        // The evaluation line without its timing: losses, accuracies and solve rate.
        func heldOut(_ r: CLIResult) -> String? {
            r.stderr.split(separator: "\n").first {
                $0.hasPrefix("step 1 ") && $0.contains("held-out")
            }
            .map { $0.components(separatedBy: "  ").dropLast().joined(separator: "  ") }
        }
        let plain = try train([], out: dir + "/plain.safetensors")
        let grown = try train(
            ["--grow", "--channels", "6", "--blocks", "3"], out: dir + "/grown.safetensors")
        #expect(plain.status == 0 && grown.status == 0, "\(plain.stderr)\n\(grown.stderr)")
        #expect(
            heldOut(plain) != nil && heldOut(plain) == heldOut(grown),
            "\(plain.stderr)\n\(grown.stderr)")
        #expect(
            grown.stderr.contains("conv policy, ")
                && !grown.stderr.contains(plain.stderr.split(separator: ";")[0]))
        let eval = try CLI.run([
            "eval", "--policy", dir + "/grown.safetensors", "--levels", l, "--json",
        ])
        #expect(eval.status == 0, "\(eval.stderr)")
        // Growing needs --init and cannot shrink; both are one-line errors.
        let missing = try CLI.run([
            "train", "bc", "--demos", l, "--grow", "--out", dir + "/x.safetensors",
        ])
        #expect(
            missing.status != 0 && missing.stderr.contains("--grow needs --init"),
            "\(missing.stderr)")
        let zero = try train(["--until", "0"], out: dir + "/zero.safetensors")
        #expect(
            zero.status != 0 && zero.stderr.contains("--until must be positive"), "\(zero.stderr)")
        let shrink = try train(
            ["--grow", "--channels", "4", "--blocks", "1"], out: dir + "/shrunk.safetensors")
        #expect(
            shrink.status != 0 && shrink.stderr.contains("cannot grow blocks from 2 down to 1"),
            "\(shrink.stderr)")
        #expect(shrink.stderr.split(separator: "\n").count == 1, "\(shrink.stderr)")
    }

    /// The bytes of tensor `name` in a safetensors file.
    func tensorBytes(_ path: String, _ name: String) throws -> Data? {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let length = data.prefix(8).enumerated().reduce(0) {
            $0 | Int($1.element) << (8 * $1.offset)
        }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + length)))
        guard let entry = (header as? [String: Any])?[name] as? [String: Any],
            let offsets = entry["data_offsets"] as? [Int]
        else { return nil }
        return data.subdata(in: (8 + length + offsets[0])..<(8 + length + offsets[1]))
    }

    /// A new transformer with a conv trunk starts from a conv policy's stem and first block.
    @Test func trunkFromCopiesAConvPolicysTrunkIntoATransformer() throws {
        let l = try levels()
        let conv = try policy()  // 4 channels, 2 blocks
        let out = dir + "/hybrid.safetensors"
        func train(_ extra: [String]) throws -> CLIResult {
            try CLI.run(
                [
                    "train", "bc", "--demos", l, "--arch", "transformer", "--dim", "8", "--layers",
                    "1", "--heads", "2", "--mlp-hidden", "8", "--conv-channels", "4",
                    "--steps", "1", "--lr", "1e-12", "--batch", "16", "--eval-every", "1",
                    "--held-out", "1", "--solve-levels", "1", "--out", out,
                ] + extra)
        }
        let r = try train(["--conv-blocks", "1", "--trunk-from", conv])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("conv trunk (6 tensors) copied"), "\(r.stderr)")
        for name in ["stem.weight", "blocks.0.conv1.weight", "blocks.0.conv2.bias"] {
            let copied = try tensorBytes(out, name)
            let source = try tensorBytes(conv, name)
            #expect(copied != nil && copied == source, "\(name)")
        }
        #expect(try tensorBytes(out, "blocks.1.conv1.weight") == nil)
        let eval = try CLI.run(["eval", "--policy", out, "--levels", l, "--json"])
        #expect(eval.status == 0, "\(eval.stderr)")
        // LASER over the trunk and the layers: layer 1 (the head's) has neither type, and is left
        // out of the grid instead of stopping the sweep.
        let sweep = try CLI.run([
            "sweep", "--policy", out, "--levels", l, "--test", l, "--layers", "0-1", "--types",
            "conv,fc_in", "--rhos", "0.5", "--max-steps", "5", "--out-dir", dir + "/hybrid-sweep",
        ])
        #expect(sweep.status == 0, "\(sweep.stderr)")
        #expect(
            sweep.stderr.contains(
                "2 grid points (2 layers × 2 types × 1 ρ, less 2 layer-type pairs"),
            "\(sweep.stderr)")
        // A trunk the checkpoint cannot fill, or none to fill: one-line errors.
        try expectOneLineError(
            [
                "train", "bc", "--demos", l, "--arch", "transformer", "--conv-channels", "4",
                "--conv-blocks", "3", "--trunk-from", conv, "--out", dir + "/x.safetensors",
            ], "has no 'blocks.2.conv1.weight'")
        try expectOneLineError(
            [
                "train", "bc", "--demos", l, "--arch", "transformer", "--conv-channels", "6",
                "--trunk-from", conv, "--out", dir + "/x.safetensors",
            ], "'stem.weight' is [4, 7, 3, 3] in the conv network, [6, 7, 3, 3] here")
        try expectOneLineError(
            [
                "train", "bc", "--demos", l, "--arch", "transformer", "--trunk-from", conv,
                "--out", dir + "/x.safetensors",
            ], "has no conv trunk")
        try expectOneLineError(
            ["train", "bc", "--demos", l, "--conv-channels", "4", "--out", dir + "/x.safetensors"],
            "size a transformer's conv trunk")
    }

    /// --trail gives a trained policy the trail plane (unread at first), and the policy then plays,
    /// trains on and is evaluated with the trail.
    @Test func trailAddsThePlaneToATrainedPolicyAndPlaysWithIt() throws {
        let l = try levels()
        let source = try policy()
        let out = dir + "/trail.safetensors"
        let r = try CLI.run([
            "train", "bc", "--demos", l, "--init", source, "--trail", "--steps", "2", "--batch",
            "16", "--eval-every", "1", "--held-out", "1", "--solve-levels", "1", "--dagger-every",
            "1", "--dagger-levels", "2", "--out", out,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("gains the trail plane"), "\(r.stderr)")
        let stem = try #require(try tensorBytes(out, "stem.weight"))
        #expect(stem.count == 4 * 8 * 9 * 4)  // [4, 8, 3, 3] floats
        let eval = try CLI.run(["eval", "--policy", out, "--levels", l, "--json"])
        #expect(eval.status == 0, "\(eval.stderr)")
        // A fresh trail transformer reads 8 planes from the start.
        let fresh = dir + "/trail-transformer.safetensors"
        let t = try CLI.run([
            "train", "bc", "--demos", l, "--arch", "transformer", "--dim", "8", "--layers", "1",
            "--heads", "2", "--mlp-hidden", "8", "--trail", "--steps", "1", "--batch", "16",
            "--eval-every", "1", "--held-out", "1", "--solve-levels", "1", "--out", fresh,
        ])
        #expect(t.status == 0, "\(t.stderr)")
        #expect(!t.stderr.contains("gains the trail plane"))
        #expect(try tensorBytes(fresh, "embed.weight")?.count == 8 * 8 * 4)
        let watch = try CLI.run(["watch", "--policy", fresh, l, "--max-steps", "3", "--delay", "0"])
        #expect(watch.status == 0, "\(watch.stderr)")
    }

    @Test func untilStopsARunThatResumeContinues() throws {
        let l = try levels()
        let out = dir + "/until.safetensors"
        let args = [
            "train", "bc", "--demos", l, "--channels", "4", "--blocks", "1", "--steps", "6",
            "--batch", "16",
            "--eval-every", "4", "--held-out", "1", "--solve-levels", "0", "--out", out, "--resume",
        ]
        // The first part on one worker, the rest on every core: the run is the same run.
        let first = try CLI.run(args + ["--until", "3", "--workers", "1"])
        #expect(first.status == 0, "\(first.stderr)")
        try expectOneLineError(args + ["--workers", "0"], "--workers must be in 1...256")
        #expect(
            first.stderr.contains("step 3 ") && !first.stderr.contains("step 4 "), "\(first.stderr)"
        )
        let second = try CLI.run(args)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("resuming \(out) at step 3"))
        #expect(
            second.stderr.contains("step 4 ") && second.stderr.contains("step 6 "),
            "\(second.stderr)")
    }

    @Test func daggerRoundsAreLoggedSavedAndResumed() throws {
        let l = try levels()
        let out = dir + "/dagger.safetensors"
        func args(steps: Int) -> [String] {
            [
                "train", "bc", "--demos", l, "--channels", "4", "--blocks", "1", "--steps",
                "\(steps)", "--batch", "16",
                "--eval-every", "2", "--held-out", "1", "--solve-levels", "0", "--dagger-every",
                "1", "--dagger-levels", "3",
                "--out", out,
            ]
        }
        let first = try CLI.run(args(steps: 4))
        #expect(first.status == 0, "\(first.stderr)")
        // Rounds after steps 1, 2 and 3 (none after the last).
        #expect(
            first.stderr.components(separatedBy: "dagger round").count - 1 == 3, "\(first.stderr)")
        let saved = dir + "/dagger.dagger.xsb"
        #expect(FileManager.default.fileExists(atPath: saved))
        let resumed = try CLI.run(args(steps: 6) + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(
            resumed.stderr.contains("resuming") && resumed.stderr.contains("dagger round 4"),
            "\(resumed.stderr)")
    }

    @Test func watchPrintsEachPositionWithTheActionProbabilities() throws {
        let r = try CLI.run([
            "watch", "--policy", try policy(), try levels(), "--count", "2", "--max-steps", "3",
            "--ascii",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("U 0.") && r.stdout.contains("value"))
        // ASCII glyphs are two columns wide: a wall is `##`, the player `@ `, a box `$ `.
        #expect(r.stdout.contains("##@ ") && r.stdout.contains("$ "))
        #expect(r.stdout.contains("level 1:") && r.stdout.contains("level 2:"))
    }

    @Test func evalCountsLoopsDiagnosesAndAveragesOverSymmetries() throws {
        let p = try policy()
        let l = try levels()
        let r = try CLI.run([
            "eval", "--policy", p, "--levels", l, "--max-steps", "6", "--diagnose",
            "--average-symmetries", "--json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["average_symmetries"] as? Bool == true)
        let s = try #require(json["unreduced"] as? [String: Any])
        let levels = try #require(s["levels"] as? Int)
        let rate = try #require(s["greedy_solve_rate"] as? Double)
        let looped = try #require(s["greedy_looped"] as? Int)
        let out = try #require(s["greedy_out_of_steps"] as? Int)
        let dead = try #require(s["greedy_dead_ends"] as? Int)
        // Every greedy failure either cycled or ran out of steps; dead ends are some of the failures.
        #expect(Int((rate * Double(levels)).rounded()) + looped + out == levels)
        #expect(dead <= looped + out)
        // The dead ends, by kind, add up to all of them.
        let kinds = try #require(s["greedy_dead_end_kinds"] as? [String: Int])
        #expect(Set(kinds.keys) == ["dead-square", "frozen", "searched"])
        #expect(kinds.values.reduce(0, +) == dead)
        let text = try CLI.run([
            "eval", "--policy", p, "--levels", l, "--max-steps", "6", "--average-symmetries",
        ])
        #expect(
            text.status == 0 && text.stdout.contains("8-view symmetry-averaged")
                && text.stdout.contains("greedy failures"))
        let watch = try CLI.run([
            "watch", "--policy", p, l, "--max-steps", "3", "--ascii", "--average-symmetries",
        ])
        #expect(
            watch.status == 0 && watch.stdout.contains("U 0.") && watch.stdout.contains("level 1:"),
            "\(watch.stderr)")
    }

    @Test func sweepDefaultsCoverOnlyLayersWithTheSweptTypes() throws {
        // `--layers all` with the default type (conv) must skip the head layer, which has none.
        let r = try CLI.run([
            "sweep", "--policy", try policy(), "--levels", try levels(), "--test", try levels(),
            "--rhos", "0.5", "--max-steps", "5", "--out-dir", dir + "/defaults",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("2 grid points (2 layers × 1 types × 1 ρ)"), "\(r.stderr)")
    }

    func expectOneLineError(_ args: [String], _ message: String) throws {
        let r = try CLI.run(args)
        #expect(r.status != 0, "\(args)")
        let lines = r.stderr.split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.count == 1, "one line: \(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
    }

    /// eval --intervene compares the two policies level by level; `laser compare` gives the same
    /// figures from the two per-level files, and refuses files of different items.
    @Test func evalAndCompareGivePairedStatistics() throws {
        let p = try policy()
        let l = try levels()
        let base = try CLI.run([
            "eval", "--policy", p, "--levels", l, "--per-level", dir + "/base.jsonl",
        ])
        #expect(base.status == 0, "\(base.stderr)")
        let reduced = try CLI.run([
            "eval", "--policy", p, "--levels", l, "--intervene", "0:conv:0.25", "--per-level",
            dir + "/reduced.jsonl", "--json",
        ])
        #expect(reduced.status == 0, "\(reduced.stderr)")
        let summary =
            try JSONSerialization.jsonObject(with: Data(reduced.stdout.utf8)) as! [String: Any]
        let inline = try #require(summary["greedy_solved_comparison"] as? [String: Any])
        #expect(inline["n"] as? Int == 4 && inline["p_value"] is Double)
        let compared = try CLI.run([
            "compare", dir + "/base.jsonl", dir + "/reduced.jsonl", "--json",
        ])
        #expect(compared.status == 0, "\(compared.stderr)")
        let c = try JSONSerialization.jsonObject(with: Data(compared.stdout.utf8)) as! [String: Any]
        let fromFiles = try #require(
            (c["comparisons"] as? [String: [String: Any]])?["greedy_solved"])
        for key in ["p_value", "difference", "ci95_low", "ci95_high", "gained", "lost"] {
            #expect("\(fromFiles[key] ?? "nil")" == "\(inline[key] ?? "nil")", "\(key)")
        }
        let text = try CLI.run(["compare", dir + "/base.jsonl", dir + "/reduced.jsonl"])
        #expect(text.stdout.contains("greedy_solved") && text.stdout.contains("p_value"))
        // --margin adds the non-inferiority test of each rate, in text and JSON.
        let margin = try CLI.run([
            "compare", dir + "/base.jsonl", dir + "/reduced.jsonl", "--margin", "1.5", "--json",
        ])
        #expect(margin.status == 0, "\(margin.stderr)")
        let m = try JSONSerialization.jsonObject(with: Data(margin.stdout.utf8)) as! [String: Any]
        let ni = try #require(
            (m["non_inferiority"] as? [String: [String: Any]])?["greedy_solved"])
        #expect(ni["margin"] as? Double == 0.015 && ni["non_inferior"] is Bool)
        #expect(ni["lower_bound_95_one_sided"] is Double && ni["p_value"] is Double)
        let marginText = try CLI.run([
            "compare", dir + "/base.jsonl", dir + "/reduced.jsonl", "--margin", "1.5",
        ])
        #expect(marginText.stdout.contains("greedy_solved: B is "))
        try expectOneLineError(
            ["compare", dir + "/base.jsonl", dir + "/reduced.jsonl", "--margin", "-1"], "--margin")
        let short = dir + "/short.jsonl"
        try String(contentsOfFile: dir + "/base.jsonl", encoding: .utf8).split(separator: "\n")
            .prefix(2)
            .joined(separator: "\n").write(toFile: short, atomically: true, encoding: .utf8)
        try expectOneLineError(
            ["compare", dir + "/base.jsonl", short], "do not hold the same items")
        try expectOneLineError(["compare", l, short], "not a per-level line")
    }

    @Test func badInputGivesOneLineErrors() throws {
        let p = try policy()
        let l = try levels()
        try expectOneLineError(
            ["eval", "--policy", dir + "/missing.safetensors", "--levels", l], "does not exist")
        let data = try Data(contentsOf: URL(fileURLWithPath: p))
        let truncated = dir + "/truncated.safetensors"
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: truncated))
        try expectOneLineError(
            ["eval", "--policy", truncated, "--levels", l], "cannot load policy")
        try expectOneLineError(
            ["eval", "--policy", p, "--levels", l, "--intervene", "0:conv"], "--intervene")
        try expectOneLineError(
            ["eval", "--policy", p, "--levels", l, "--intervene", "9:conv:0.5"], "--intervene")
        try expectOneLineError(
            ["eval", "--policy", p, "--levels", dir + "/none.xsb"], "does not exist")
        // A training log that cannot be written stops the run with the reason.
        let unwritable = try CLI.run([
            "train", "bc", "--demos", l, "--channels", "4", "--blocks", "1", "--steps", "2",
            "--batch", "16",
            "--eval-every", "1", "--held-out", "1", "--solve-levels", "0", "--out",
            dir + "/log-test.safetensors",
            "--log", l + "/log.jsonl",
        ])
        #expect(unwritable.status != 0)
        #expect(
            unwritable.stderr.split(separator: "\n").last?.contains(
                "--log \(l)/log.jsonl: \(l) is a file, not a folder") == true,
            "\(unwritable.stderr)")
        try expectOneLineError(
            [
                "sweep", "--policy", p, "--levels", l, "--test", l, "--layers", "7", "--out-dir",
                dir + "/s2",
            ],
            "layer 7 does not exist")
        try expectOneLineError(
            ["train", "ppo", "--levels", l, "--out", dir + "/never.safetensors"], "--init")
        try expectOneLineError(
            [
                "train", "ppo", "--init", try policy(), "--levels", l, "--curriculum", "7x7",
                "--out", dir + "/never.safetensors",
            ],
            "WIDTHxHEIGHTxBOXES")
    }
}

/// `laser reduce` on a policy checkpoint writes a policy checkpoint (factored on request) that
/// eval and bench load as they are, recording its parent and interventions.
@Suite struct RankReducedPolicyCommandTests {
    let dir: String = {
        let d = NSTemporaryDirectory() + "rank-reduced-cli-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }()

    @Test func aReducedPolicyLoadsEverywhereAndNamesItsParent() throws {
        let agent = AgentCommandTests()
        let levels = try agent.levels()
        let parent = try agent.policy()
        let reduced = dir + "/reduced.safetensors"
        let r = try CLI.run([
            "reduce", parent, "--intervene", "all:conv:0.5", "--factored", "--out", reduced,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let header = try safetensorsHeader(reduced)
        let metadata = header["__metadata__"] as! [String: String]
        #expect(metadata["reduced_from"] == parent)
        #expect(metadata["interventions"] == "all:conv:0.5")
        #expect(metadata["laser.factored"]?.contains("blocks.1.conv2.weight") == true)
        #expect(
            header["blocks.1.conv2.weight.left"] != nil && header["blocks.1.conv2.weight"] == nil)
        let eval = try CLI.run(["eval", "--policy", reduced, "--levels", levels])
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(
            eval.stdout.contains("as saved (all:conv:0.5)") && !eval.stdout.contains("unreduced"),
            "a reduced checkpoint's row says it is reduced")
        let bench = try CLI.run([
            "bench", "policy", "--policy", parent, "--policy", reduced, "--batches", "1",
            "--seconds", "0.01", "--json",
        ])
        #expect(bench.status == 0, "\(bench.stderr)")
        let rows =
            (try JSONSerialization.jsonObject(with: Data(bench.stdout.utf8)) as! [String: Any])[
                "rows"] as! [[String: Any]]
        #expect(rows.count == 2)
        let params = rows.map { $0["parameters"] as! Int }
        #expect(params[1] < params[0], "the factored policy computes with fewer parameters")
    }

    /// The JSON header of a safetensors file (8-byte little-endian length, then the JSON).
    func safetensorsHeader(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let length = data.prefix(8).enumerated().reduce(0) {
            $0 | Int($1.element) << (8 * $1.offset)
        }
        return try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + length)))
            as! [String: Any]
    }
}
