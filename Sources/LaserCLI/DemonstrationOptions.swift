// Where a training run's demonstrations come from: a solved level file, or levels generated and
// solved from a seed (cached).
import Agent
import ArgumentParser
import Core
import Foundation
import Sokoban

/// Where demonstrations come from: a solved level file, or levels generated from a seed.
struct DemonstrationOptions: ParsableArguments {
    @Option(
        help:
            "Use the solved levels of this XSB file (each with a Solution note) instead of generating."
    )
    var demos: String?
    @Option(help: "Levels to generate and solve for demonstrations.") var levelCount = 2000
    @Option(help: "Seed of the generated levels' seed stream (as `laser generate --seed`).")
    var dataSeed: UInt64 = 1000
    @Option(help: "Room width of generated levels.") var width = 10
    @Option(help: "Room height of generated levels.") var height = 10
    @Option(help: "Boxes per generated level.") var boxes = 4
    @Option(
        help:
            "Demonstration cache (XSB with solutions; reused and extended; default out/demos-WxH-B-SEED.xsb)."
    )
    var cache: String?

    var cachePath: String { cache ?? "out/demos-\(width)x\(height)-\(boxes)-\(dataSeed).xsb" }

    func validate() throws {
        guard levelCount >= 2 && levelCount <= 1_000_000 else {
            throw ValidationError("--level-count must be in 2...1000000")
        }
        if let problem = GeneratorOptions(width: width, height: height, boxes: boxes).problem() {
            throw ValidationError(problem)
        }
        if width > 10 || height > 10 {
            throw ValidationError("the policies play boards up to 10×10")
        }
    }

    func load() throws -> [Level] {
        if let demos {
            let levels = try readCollection(demos).levels
            guard levels.count >= 2 else {
                throw CLIError("\(demos): need at least 2 levels, found \(levels.count)")
            }
            return levels
        }
        try FileManager.default.createDirectory(
            atPath: (cachePath as NSString).deletingLastPathComponent.isEmpty
                ? "." : (cachePath as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true)
        let bar = ProgressBar(label: "demonstrations", total: levelCount)
        return try Demonstrations.generate(
            options: GeneratorOptions(width: width, height: height, boxes: boxes), seed: dataSeed,
            count: levelCount, cachePath: cachePath, progress: { done, _ in bar.update(done) })
    }
}
