// Hostile input through the command line: each bad input gets one line naming the problem and a
// non-zero exit before any long work; nothing printed from a file can drive the terminal; a
// collection with one bad level still loads; nothing saved is overwritten by a refused run.
import Foundation
import Testing

@Suite(.serialized) struct HostileInputTests {
    let dir = CLI.temporaryDirectory()

    func write(_ text: String, _ name: String) throws -> String {
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Exits non-zero with exactly one line on standard error, holding `message`, and no raw
    /// control characters anywhere in the output.
    @discardableResult
    func expectOneLineError(_ args: [String], _ message: String) throws -> CLIResult {
        let r = try CLI.run(args)
        #expect(r.status != 0, "\(args)")
        let lines = r.stderr.split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.count == 1, "one line: \(r.stderr)")
        #expect(r.stderr.contains(message), "\(args): \(r.stderr)")
        #expect(!r.stderr.contains("NSCocoaErrorDomain") && !r.stderr.contains("Error Domain"))
        expectNoControlCharacters(r)
        return r
    }

    func expectNoControlCharacters(_ r: CLIResult) {
        for text in [r.stdout, r.stderr] {
            let bad = text.unicodeScalars.filter {
                ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value)
            }
            #expect(bad.isEmpty, "control characters in \(text.debugDescription)")
        }
    }

    @Test func negativeNumbersReachTheRangeCheck() throws {
        let r = try CLI.run([
            "reduce", "in.safetensors", "--tensor", "w", "--rho", "-1", "--out",
            dir + "/o.safetensors",
        ])
        #expect(r.status != 0)
        #expect(r.stderr.contains("ρ must be in (0, 1], got -1.0"), "\(r.stderr)")
        #expect(!r.stderr.contains("Missing value"))
        let layer = try CLI.run([
            "eval", "--policy", "policies/conv-8x32.safetensors", "--intervene", "-1:conv:0.5",
        ])
        #expect(layer.status != 0)
        #expect(layer.stderr.contains("invalid intervention '-1:conv:0.5'"), "\(layer.stderr)")
    }

    @Test func workerCountOverrideIsChecked() throws {
        let bad = try CLI.run(["solve", "/dev/null"], environment: ["LASER_WORKERS": "lots"])
        #expect(
            bad.status != 0 && bad.stderr.contains("LASER_WORKERS='lots' is not a worker count"),
            "\(bad.stderr)")
        let one = try CLI.run(["bench", "policy", "--help"], environment: ["LASER_WORKERS": "1"])
        #expect(one.status == 0)
        // One pair of thread flags on every command that computes, checked the same way.
        for command in [
            ["eval"], ["sweep"], ["shrink"], ["generate"], ["train", "bc"], ["train", "ppo"],
            ["qa"], ["perplexity"], ["generate-text"], ["bench", "text"], ["bench", "policy"],
            ["reduce"],
        ] {
            let help = try CLI.run(command + ["--help"])
            #expect(
                help.stdout.contains("--workers") && help.stdout.contains("--blas-threads"),
                "\(command)")
        }
        try expectOneLineError(
            ["eval", "--policy", "policies/conv-8x32.safetensors", "--workers", "0"],
            "--workers must be in 1...256")
        try expectOneLineError(
            ["qa", "--blas-threads", "300"], "--blas-threads must be in 1...256")
    }

    @Test func fileErrorsAreOneLineNamingThePath() throws {
        try expectOneLineError(["solve", "/dev/null"], "/dev/null: no levels found")
        let r = try CLI.run(["solve", "/dev/null"])
        #expect(!r.stderr.lowercased().contains("permission"))
        try expectOneLineError(
            ["solve", dir + "/none.xsb"], dir + "/none.xsb: the level file does not exist")
        try expectOneLineError(["solve", dir], dir + ": is a directory")
        try expectOneLineError(["inspect", dir + "/none.safetensors"], dir + "/none.safetensors")
        try expectOneLineError(
            ["qa", "--dataset", dir + "/none.json", "--model", dir + "/none.gguf"], "none")
    }

    /// A file of the wrong kind is named for what it looks like.
    @Test func wrongFormatsAreNamed() throws {
        let gguf = try write("GGUF\u{3}\0\0\0 not really", "fake.gguf")
        let text = try write("#####\n#@$.#\n#####\n", "level.xsb")
        try expectOneLineError(
            ["eval", "--policy", gguf, "--levels", text], "is a GGUF file, not a policy checkpoint")
        try expectOneLineError(
            ["qa", "--model", text, "--limit", "1"], "is a text file, not a GGUF language model")
        try expectOneLineError(
            ["solve", "policies/conv-8x32.safetensors"], "is a safetensors file, not a level file")
        try expectOneLineError(["inspect", text], "is a text file, not a safetensors or GGUF file")
        try expectOneLineError(["inspect", gguf], gguf)
        try expectOneLineError(
            ["reduce", gguf, "--intervene", "0:conv:0.5", "--out", dir + "/r.gguf"],
            gguf + ": GGUF file truncated")
    }

    @Test func aCollectionWithOneBadLevelLoadsTheRest() throws {
        let path = try write(
            """
            ; good
            #####
            #@$.#
            #####

            ; bad
            #####
            #@$?#
            #####

            ; also good
            ######
            #@$ .#
            ######
            """, "mixed.xsb")
        let r = try CLI.run(["solve", path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.stderr.contains(
                "warning: skipped \(path): level 2 (bad), line 8, column 4: unknown character '?'"),
            "\(r.stderr)")
        #expect(r.stdout.contains("also good"))
    }

    @Test func titlesAndMetadataCannotDriveTheTerminal() throws {
        let evil = "\u{1B}]0;pwned\u{07}\u{1B}[2J\u{9B}31m"
        let path = try write("; \(evil)\n#####\n#@$.#\n#####\n", "evil.xsb")
        let solved = try CLI.run(["solve", path])
        #expect(solved.status == 0, "\(solved.stderr)")
        #expect(solved.stdout.contains("\\x1B]0;pwned\\x07"), "\(solved.stdout)")
        expectNoControlCharacters(solved)
        let json = try CLI.run(["solve", path, "--json"])
        expectNoControlCharacters(json)
        let bad = try write("; \(evil)\n#####\n#@$x#\n#####\n", "evil-bad.xsb")
        try expectOneLineError(["solve", bad], "unknown character")
        // Safetensors metadata and tensor names.
        let tensors = dir + "/evil.safetensors"
        let header =
            #"{"__metadata__":{"note\u001b]0;x\u0007":"v\u001b[2J"},"w\u001b[31m":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}"#
        var bytes = Data()
        var length = UInt64(header.utf8.count).littleEndian
        bytes.append(Data(bytes: &length, count: 8))
        bytes.append(Data(header.utf8))
        bytes.append(Data(count: 16))
        try bytes.write(to: URL(fileURLWithPath: tensors))
        let inspected = try CLI.run(["inspect", tensors])
        #expect(inspected.status == 0, "\(inspected.stderr)")
        #expect(inspected.stdout.contains("\\x1B"), "\(inspected.stdout)")
        expectNoControlCharacters(inspected)
        expectNoControlCharacters(try CLI.run(["inspect", tensors, "--json"]))
    }

    /// Options and output paths are checked before demonstrations are generated: with a million
    /// levels to generate, each of these would otherwise run for hours before failing.
    @Test func trainingOptionsAreCheckedBeforeLongWork() throws {
        let cache = dir + "/demos.xsb"
        let base = ["train", "bc", "--level-count", "1000000", "--cache", cache]
        try expectOneLineError(
            base + ["--steps", "0", "--out", dir + "/a.safetensors"], "steps must be positive")
        try expectOneLineError(
            base + ["--batch", "0", "--out", dir + "/a.safetensors"], "batch size")
        try expectOneLineError(
            base + ["--lr", "nan", "--out", dir + "/a.safetensors"], "learning rate nan")
        try expectOneLineError(
            base + ["--dagger-share", "1.5", "--out", dir + "/a.safetensors"], "DAgger share")
        try expectOneLineError(
            base + ["--held-out", "-3", "--out", dir + "/a.safetensors"], "--held-out")
        let blocker = try write("x", "blocker")
        try expectOneLineError(
            base + ["--out", blocker + "/a.safetensors"], "\(blocker) is a file, not a folder")
        try expectOneLineError(base + ["--out", dir], "is a folder")
        #expect(!FileManager.default.fileExists(atPath: cache))
    }

    /// Level errors in --demos files name the file, whether the board or its solution is bad.
    @Test func demonstrationFileErrorsNameTheFile() throws {
        let wrong = try write(
            "#####\n#@$.#\n#####\nSolution: L\n\n#####\n#@$.#\n#####\nSolution: R\n", "wrong.xsb")
        try expectOneLineError(
            [
                "train", "bc", "--demos", wrong, "--steps", "1", "--held-out", "1", "--out",
                dir + "/w.safetensors",
            ],
            "\(wrong): level 1 (untitled): its solution")
        let broken = try write("#####\n#@$?#\n#####\n", "broken.xsb")
        try expectOneLineError(
            [
                "train", "bc", "--demos", broken, "--steps", "1", "--held-out", "1", "--out",
                dir + "/w.safetensors",
            ],
            "\(broken): level 1, line 2, column 4")
    }

    /// PPO settings are checked before anything runs (--envs 0 crashed the trainer).
    @Test func ppoOptionsAreCheckedFirst() throws {
        let base = [
            "train", "ppo", "--init", "policies/conv-8x32.safetensors", "--out",
            dir + "/p.safetensors",
        ]
        try expectOneLineError(base + ["--envs", "0"], "environments must be in 1...4096")
        try expectOneLineError(
            base + ["--total-steps", "0"], "total environment steps must be positive")
        try expectOneLineError(base + ["--entropy", "nan"], "entropy coefficient")
        try expectOneLineError(base + ["--minibatches", "7"], "must divide")
        try expectOneLineError(base + ["--eval-every", "-1"], "--eval-every")
        #expect(!FileManager.default.fileExists(atPath: dir + "/p.safetensors"))
    }

    @Test func perLevelOutputIsCheckedBeforeTheEvaluation() throws {
        let blocker = try write("x", "blocker2")
        let r = try expectOneLineError(
            [
                "eval", "--policy", "policies/conv-8x32.safetensors", "--per-level",
                blocker + "/out.jsonl",
            ],
            "is a file, not a folder")
        #expect(r.stdout.isEmpty)
    }

    /// --resume into a checkpoint of another network (or of an unknown format) is refused and the
    /// file is left as it was.
    @Test func resumeIntoAnotherArchitectureIsRefused() throws {
        let levels = try write(
            """
            #######
            #@ $ .#
            #######
            Solution: rRR

            #####
            #@$.#
            #####
            Solution: R

            """, "demos.xsb")
        let out = dir + "/tiny.safetensors"
        let train = try CLI.run([
            "train", "bc", "--demos", levels, "--channels", "4", "--blocks", "1", "--steps", "2",
            "--batch", "8",
            "--eval-every", "2", "--held-out", "1", "--solve-levels", "0", "--out", out,
        ])
        #expect(train.status == 0, "\(train.stderr)")
        let before = try Data(contentsOf: URL(fileURLWithPath: out))
        try expectOneLineError(
            [
                "train", "bc", "--demos", levels, "--arch", "transformer", "--dim", "8", "--layers",
                "1", "--heads", "2",
                "--mlp-hidden", "8", "--steps", "4", "--batch", "8", "--held-out", "1", "--out",
                out, "--resume",
            ],
            "holds a conv")
        try expectOneLineError(
            [
                "train", "bc", "--demos", levels, "--channels", "8", "--blocks", "1", "--steps",
                "4", "--batch", "8",
                "--held-out", "1", "--out", out, "--resume",
            ],
            "channels=4")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == before)
    }
}
