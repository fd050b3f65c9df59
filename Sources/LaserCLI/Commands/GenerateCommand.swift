// `laser generate`: Boxoban-style levels, deterministic per seed, each checked by the solver.

import ArgumentParser
import Core
import Dispatch
import Foundation
import LinearAlgebra
import Sokoban

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate Sokoban levels the way Boxoban was made, each solved and titled.",
        discussion: """
            Rooms are carved by a random walk of 3x3 floor masks; goals and the player are placed at random; reverse play (pulls from the solved state) places the boxes, keeping the position with the highest box-switches x displacement score. Every level is solved by `laser solve`'s solver and written with its seed, optimal push count and solution. The same --seed gives the same file on any number of cores; `--level-seed S --count 1` reproduces one level from the seed in its title.
            """)

    @Option(name: .long, help: "Room width including walls.") var width = 10
    @Option(name: .long, help: "Room height including walls.") var height = 10
    @Option(name: .long, help: "Boxes per level.") var boxes = 4
    @Option(name: .long, help: "Levels to write.") var count = 1
    @Option(name: .long, help: "Seed of the collection.") var seed: UInt64 = 0
    @Option(name: .long, help: "Make one level from this per-level seed (as in titles).")
    var levelSeed: UInt64?
    @Option(name: .long, help: "Write here (atomically) instead of standard output.")
    var output: String?
    @Option(name: .long, help: "Collection title written as the first note.") var title: String?
    @OptionGroup var threading: ThreadOptions

    var options: GeneratorOptions { GeneratorOptions(width: width, height: height, boxes: boxes) }

    func validate() throws {
        if let problem = options.problem() { throw ValidationError(problem) }
        if count < 1 || count > 1_000_000 {
            throw ValidationError("--count must be in 1...1000000")
        }
    }

    /// The per-level seeds of a collection: the SplitMix64 stream of `seed`.
    static func levelSeeds(seed: UInt64, count: Int) -> [UInt64] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in rng.next() }
    }

    func run() throws {
        let options = self.options
        var made: [GeneratedLevel] = []
        if let levelSeed {
            guard
                let level = Generator.generate(
                    options: options, seed: levelSeed, makeGenerator: { SplitMix64(seed: $0) })
            else { throw CLIError("seed \(levelSeed) gives no level (every try scored 0)") }
            made = [level]
        } else {
            // Seeds are drawn in order and results kept in seed order, so the output does not
            // depend on the number of threads; failed seeds are skipped.
            let workers = threading.count
            var seedStream = SplitMix64(seed: seed)
            var attempts = 0
            while made.count < count {
                let batch = max(8, (count - made.count) + (count - made.count) / 8)
                let seeds = (0..<batch).map { _ in seedStream.next() }
                attempts += batch
                if attempts > 4 * count + 64 {
                    throw CLIError("too many failed rooms; try other sizes")
                }
                let results = Generator.generateMany(
                    seeds: seeds, options: options, workers: workers,
                    makeGenerator: { SplitMix64(seed: $0) })
                for case let level? in results where made.count < count { made.append(level) }
            }
        }
        var collection = LevelCollection(levels: made.map(\.level))
        collection.notes = [("Title", title ?? "generated \(width)x\(height), \(boxes) boxes")]
        collection.notes.append(
            (
                "Comment",
                "laser generate --width \(width) --height \(height) "
                    + "--boxes \(boxes) --count \(count) --seed \(seed)"
            ))
        let text = collection.xsb()
        if let output {
            do { try AtomicFile.write(string: text, to: output) } catch {
                throw CLIError("\(error)")
            }
        } else {
            print(text, terminator: "")
        }
    }
}
