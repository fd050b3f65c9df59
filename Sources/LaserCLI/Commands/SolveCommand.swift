// `laser solve`: push-optimal solutions for one level or a whole collection, with timings.

import ArgumentParser
import Foundation
import Sokoban

struct SolveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "solve",
        abstract: "Solve Sokoban levels (A* on pushes, Hungarian lower bound, deadlock pruning).",
        discussion: """
            Prints the LURD solution (lowercase moves, uppercase pushes), moves, pushes, nodes and time for each level. Without --level every level of FILE is solved and a summary follows. Solutions are push-optimal; with --minimize-moves they also have the fewest moves among push-optimal solutions (a larger search).
            """)

    @Argument(help: "An XSB/SOK level file (Boxoban files work as they are).")
    var file: String

    @Option(name: .long, help: "Solve only level N (1-based).")
    var level: Int?

    @Option(name: .long, help: "Seconds allowed per level.")
    var timeLimit: Double?

    @Option(name: .long, help: "Most positions stored per level (bounds memory, ~30 bytes each).")
    var nodeLimit: Int = 5_000_000

    @Flag(name: .long, help: "Among push-optimal solutions, find one with the fewest moves.")
    var minimizeMoves = false

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func validate() throws {
        if let level, level < 1 { throw ValidationError("--level must be 1 or more") }
        if let timeLimit, !(timeLimit > 0) {
            throw ValidationError("--time-limit must be positive")
        }
        if nodeLimit < 1 { throw ValidationError("--node-limit must be positive") }
    }

    struct Entry: Codable {
        var level: Int
        var title: String?
        var result: SolverResult
    }

    struct Summary: Codable {
        var file: String
        var levels: Int
        var solved: Int
        var unsolvable: Int
        var unfinished: Int
        var totalSeconds: Double
        var meanSecondsSolved: Double
        var maxSecondsSolved: Double
        var medianSecondsSolved: Double
        var totalExpanded: Int
        var timeLimit: Double?
    }

    func run() throws {
        let collection: LevelCollection
        collection = try readCollection(file)
        let numbers: [Int]
        if let level {
            guard level <= collection.levels.count else {
                throw CLIError(
                    "level \(level) requested but \(file) has \(collection.levels.count)")
            }
            numbers = [level]
        } else {
            numbers = Array(1...collection.levels.count)
        }
        let options = SolverOptions(
            timeLimit: timeLimit, nodeLimit: nodeLimit, minimizeMoves: minimizeMoves)
        var entries: [Entry] = []
        for n in numbers {
            let lvl = collection.levels[n - 1]
            let result = Solver.solve(lvl, options: options)
            if let solution = result.solution {
                // Every solution is replayed against the level before it is reported.
                do { try LURD.verify(solution, on: lvl) } catch {
                    throw CLIError("internal error: level \(n) solution fails: \(error)")
                }
            }
            let entry = Entry(level: n, title: lvl.title, result: result)
            entries.append(entry)
            if !json { printText(entry) }
        }
        let solvedTimes = entries.filter { $0.result.status == .solved }.map(\.result.seconds)
            .sorted()
        let summary = Summary(
            file: file, levels: entries.count, solved: solvedTimes.count,
            unsolvable: entries.filter { $0.result.status == .unsolvable }.count,
            unfinished: entries.filter {
                $0.result.status == .timeLimit || $0.result.status == .nodeLimit
            }.count,
            totalSeconds: entries.map(\.result.seconds).reduce(0, +),
            meanSecondsSolved: solvedTimes.isEmpty
                ? 0 : solvedTimes.reduce(0, +) / Double(solvedTimes.count),
            maxSecondsSolved: solvedTimes.last ?? 0,
            medianSecondsSolved: solvedTimes.isEmpty ? 0 : solvedTimes[solvedTimes.count / 2],
            totalExpanded: entries.map(\.result.expanded).reduce(0, +),
            timeLimit: timeLimit)
        if json {
            struct Output: Codable {
                var levels: [Entry]
                var summary: Summary?
            }
            let output = Output(levels: entries, summary: numbers.count > 1 ? summary : nil)
            print(try jsonText(output, pretty: false))
        } else if numbers.count > 1 {
            print(
                String(
                    format: "solved %d/%d, unsolvable %d, unfinished %d; total %.2f s, "
                        + "solved mean %.4f s, median %.4f s, max %.3f s; %d nodes expanded",
                    summary.solved, summary.levels, summary.unsolvable, summary.unfinished,
                    summary.totalSeconds, summary.meanSecondsSolved, summary.medianSecondsSolved,
                    summary.maxSecondsSolved, summary.totalExpanded))
        }
    }

    func printText(_ entry: Entry) {
        let r = entry.result
        let name = entry.title.map { " (\($0))" } ?? ""
        var line = "level \(entry.level)\(name): \(r.status.rawValue)"
        if r.status == .solved {
            line += ", \(r.moves) moves, \(r.pushes) pushes"
        }
        line += String(format: ", %d nodes, %.3f s", r.expanded, r.seconds)
        print(line)
        if let solution = r.solution { print(solution) }
    }
}
