// End-to-end tests of the Sokoban commands: solve, generate, play (help, errors, replay without a
// terminal) and bench env, run as a person would run them.

import Foundation
import Testing

@Suite struct SokobanCommandTests {
    func write(_ text: String) -> String {
        let path = CLI.temporaryDirectory() + "/levels.xsb"
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    let twoLevels = "; 1\n#######\n#@ $ .#\n#######\n\n; 2\n#######\n#.  $@#\n#######\n"

    @Test func solvePrintsTheSolutionAndSummary() throws {
        let file = write(twoLevels)
        let one = try CLI.run(["solve", file, "--level", "2"])
        #expect(one.status == 0)
        #expect(one.stdout.contains("level 2 (2): solved, 3 moves, 3 pushes"))
        #expect(one.stdout.contains("\nLLL\n"))
        let all = try CLI.run(["solve", file, "--json"])
        #expect(all.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [String: Any]
        let summary = json?["summary"] as? [String: Any]
        #expect(summary?["solved"] as? Int == 2 && summary?["levels"] as? Int == 2)
    }

    @Test func solveReportsBadLevelsOnOneLine() throws {
        let file = write("#####\n#@$.#\n#####\n\n#####\n#@$%.#\n#####\n")
        // The bad level is named on one line and skipped; the good one is solved.
        let r = try CLI.run(["solve", file])
        #expect(r.status == 0)
        #expect(r.stderr.contains("level 2, line 6, column 4: unknown character '%'"))
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stdout.contains("level 1: solved"))
        // With no good level, that one line is the error.
        let bad = try CLI.run(["solve", write("#####\n#@$%.#\n#####\n")])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("level 1, line 2, column 4: unknown character '%'"))
        #expect(bad.stderr.split(separator: "\n").count == 1)
        let missing = try CLI.run(["solve", write(twoLevels), "--level", "3"])
        #expect(missing.status != 0 && missing.stderr.contains("level 3 requested"))
    }

    @Test func generateIsDeterministicAcrossThreadCounts() throws {
        let args = [
            "generate", "--width", "7", "--height", "7", "--boxes", "2", "--count", "4",
            "--seed", "11",
        ]
        let a = try CLI.run(args + ["--jobs", "1"])
        let b = try CLI.run(args + ["--jobs", "2"])
        #expect(a.status == 0 && a.stdout == b.stdout)
        #expect(a.stdout.components(separatedBy: "Solution: ").count == 5)
        // One level again from the seed in its title.
        let seedLine = try #require(
            a.stdout.split(separator: "\n").first { $0.hasPrefix("Seed: ") })
        let one = try CLI.run([
            "generate", "--width", "7", "--height", "7", "--boxes", "2",
            "--level-seed", String(seedLine.dropFirst(6)),
        ])
        let firstBoard = a.stdout.components(separatedBy: "\n\n")[1]
        #expect(one.stdout.contains(firstBoard))
        let bad = try CLI.run(["generate", "--boxes", "0"])
        #expect(bad.status != 0 && bad.stderr.contains("at least one box"))
    }

    @Test func generateWritesAFileThatSolves() throws {
        let out = CLI.temporaryDirectory() + "/gen.xsb"
        let r = try CLI.run([
            "generate", "--width", "7", "--height", "7", "--boxes", "2",
            "--count", "3", "--output", out,
        ])
        #expect(r.status == 0 && r.stdout.isEmpty)
        let solved = try CLI.run(["solve", out])
        #expect(solved.stdout.contains("solved 3/3"))
    }

    @Test func playHelpAndErrors() throws {
        let help = try CLI.run(["play", "--help"])
        #expect(help.stdout.contains("hjkl") && help.stdout.contains("XDG_DATA_HOME"))
        let bad = try CLI.run(["play", write(twoLevels), "--replay", "RRx"])
        #expect(bad.status != 0 && bad.stderr.contains("unknown character 'x'"))
        let far = try CLI.run(["play", write(twoLevels), "--level", "9"])
        #expect(far.status != 0 && far.stderr.contains("level 9 requested"))
    }

    @Test func playWithoutATerminalEndsCleanly() throws {
        // Standard input is /dev/null: end of input quits; colours are off for a non-terminal.
        let r = try CLI.run(["play", write(twoLevels), "--replay", "rRR", "--no-save"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("levels — level 1/2"))
        #expect(!r.stdout.contains("\u{1B}[33m"))
        #expect(r.stdout.hasSuffix("\u{1B}[?25h\u{1B}[?1049l"))
    }

    @Test func benchEnvPrintsJSON() throws {
        let r = try CLI.run([
            "bench", "env", write(twoLevels), "--steps", "1000", "--batch", "4",
            "--batch-steps", "50",
        ])
        #expect(r.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let single = json?["single"] as? [String: Any]
        #expect(single?["steps"] as? Int == 1000)
        #expect((single?["stepsPerSecond"] as? Double ?? 0) > 0)
        #expect((json?["batched"] as? [String: Any])?["steps"] as? Int == 200)
        // With an observation copy per step (gym's contract), the same steps and the same rewards.
        for (plain, observed) in [
            ("single", "singleWithObservation"), ("batched", "batchedWithObservation"),
        ] {
            let a = json?[plain] as? [String: Any]
            let b = json?[observed] as? [String: Any]
            #expect(b?["steps"] as? Int == a?["steps"] as? Int, "\(observed)")
            #expect(b?["totalReward"] as? Double == a?["totalReward"] as? Double, "\(observed)")
            #expect(b?["episodes"] as? Int == a?["episodes"] as? Int, "\(observed)")
            #expect((b?["stepsPerSecond"] as? Double ?? 0) > 0)
        }
    }
}
