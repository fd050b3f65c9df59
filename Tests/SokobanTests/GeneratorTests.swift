// Tests of the generator (deterministic, valid, solvable, Boxoban-shaped) and the shipped sets.

import Foundation
import Testing

@testable import Sokoban

@Suite struct GeneratorTests {
    func make(
        _ seed: UInt64,
        _ options: GeneratorOptions = GeneratorOptions(width: 7, height: 7, boxes: 2)
    )
        -> GeneratedLevel?
    {
        Generator.generate(options: options, seed: seed, makeGenerator: { TestRNG(seed: $0) })
    }

    @Test func deterministicPerSeed() throws {
        let a = try #require(make(42))
        let b = try #require(make(42))
        #expect(a.level == b.level && a.solution == b.solution && a.score == b.score)
        let others = (43..<48).compactMap { make($0)?.level }
        #expect(others.contains { $0 != a.level })
    }

    @Test func manySeedsAtOnceEqualOneAtATime() {
        let seeds = (UInt64(100)..<UInt64(116)).map { $0 }
        let options = GeneratorOptions(width: 7, height: 7, boxes: 2)
        let one = seeds.map { make($0, options) }
        for workers in [1, 3] {
            let many = Generator.generateMany(
                seeds: seeds, options: options, workers: workers,
                makeGenerator: { TestRNG(seed: $0) })
            #expect(many.count == seeds.count)
            for (a, b) in zip(one, many) {
                #expect(a?.level == b?.level && a?.solution == b?.solution && a?.score == b?.score)
            }
        }
    }

    @Test func levelsAreValidSolvableAndRecorded() throws {
        var made = 0
        for seed in UInt64(1)...12 {
            guard let g = make(seed) else { continue }
            made += 1
            let l = g.level
            #expect(l.width == 7 && l.height == 7 && l.boxCount == 2)
            // Boxes start off their goals, as reverse play scored them.
            #expect(g.score > 0)
            // The written file reads back to the same level, with its seed and pushes.
            let again = try LevelCollection(text: LevelCollection(levels: [l]).xsb()).levels[0]
            #expect(again == l)
            #expect(again.note("seed") == "\(seed)" && again.note("pushes") == "\(g.pushes)")
            let game = try LURD.verify(g.solution, on: l)
            #expect(game.pushes == g.pushes)
            #expect(Solver.solve(l).pushes == g.pushes)
            // The recorded solution has the fewest moves among push-optimal ones.
            #expect(again.note("moves") == "\(game.moves)")
            #expect(
                Solver.solve(l, options: SolverOptions(minimizeMoves: true)).moves == game.moves)
        }
        #expect(made >= 10)
    }

    @Test func topologyIsClosedAndConnected() {
        var rng = TestRNG(seed: 9)
        let o = GeneratorOptions()
        for _ in 0..<50 {
            let floor = Generator.topology(o, &rng)
            for i in 0..<10 {
                #expect(!floor[i] && !floor[90 + i] && !floor[i * 10] && !floor[i * 10 + 9])
            }
            // One connected region.
            let cells = floor.indices.filter { floor[$0] }
            var seen = Set([cells[0]])
            var stack = [cells[0]]
            while let c = stack.popLast() {
                for n in [c - 1, c + 1, c - 10, c + 10] where floor[n] && !seen.contains(n) {
                    seen.insert(n)
                    stack.append(n)
                }
            }
            #expect(seen.count == cells.count)
        }
    }

    @Test func optionProblems() {
        #expect(GeneratorOptions(width: 4, height: 10, boxes: 1).problem() != nil)
        #expect(GeneratorOptions(width: 10, height: 10, boxes: 40).problem() != nil)
        #expect(GeneratorOptions(width: 10, height: 10, boxes: 0).problem() != nil)
        #expect(GeneratorOptions().problem() == nil)
    }

    static let levelsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("levels").path

    /// The shipped generated sets: sizes and counts as documented, every recorded solution plays
    /// and has the recorded push count; a sample is re-solved to confirm optimality.
    @Test(arguments: [
        ("easy-7x7-2.xsb", 7, 2, 100), ("train-sample-10x10-4.xsb", 10, 4, 1000),
        ("valid-10x10-4.xsb", 10, 4, 1000), ("test-10x10-4.xsb", 10, 4, 1000),
    ])
    func shippedSets(file: String, size: Int, boxes: Int, count: Int) throws {
        let c = try LevelCollection(path: Self.levelsDirectory + "/" + file)
        #expect(c.levels.count == count)
        var seeds = Set<String>()
        for (n, l) in c.levels.enumerated() {
            #expect(l.width == size && l.height == size && l.boxCount == boxes)
            let solution = try #require(l.note("solution"))
            let game = try LURD.verify(solution, on: l)
            #expect("\(game.pushes)" == l.note("pushes"))
            #expect("\(game.moves)" == l.note("moves"))
            seeds.insert(l.note("seed") ?? "")
            if n % 100 == 0 {
                let r = Solver.solve(l, options: SolverOptions(minimizeMoves: true))
                #expect(r.pushes == game.pushes && r.moves == game.moves)
            }
        }
        #expect(seeds.count == count)
    }

    @Test func setsDoNotOverlap() throws {
        var seen = Set<[Int]>()
        var total = 0
        for file in ["train-sample-10x10-4.xsb", "valid-10x10-4.xsb", "test-10x10-4.xsb"] {
            for l in try LevelCollection(path: Self.levelsDirectory + "/" + file).levels {
                seen.insert(l.squares.map { Int($0.rawValue) } + l.boxes + [l.player] + l.goals)
                total += 1
            }
        }
        #expect(seen.count == total)
    }

    @Test func tutorialIsShippedAndSolvable() throws {
        let onDisk = try String(
            contentsOfFile: Self.levelsDirectory + "/tutorial.xsb", encoding: .utf8)
        #expect(onDisk == Tutorial.text)
        let c = Tutorial.collection()
        #expect(c.levels.count >= 12)
        var previous = 0
        for l in c.levels {
            #expect(l.title != nil && l.note("comment") != nil)
            let r = Solver.solve(l)
            #expect(r.status == .solved)
            previous = max(previous, r.pushes)
        }
        #expect(previous >= 8)
    }
}
