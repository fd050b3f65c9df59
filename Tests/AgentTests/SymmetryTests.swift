// The eight board symmetries: a step on a transformed board with the mapped action gives the
// transformed result of the original step.
import Foundation
import Policy
import Sokoban
import Testing

@testable import Agent

@Suite struct SymmetryTests {
    /// Cell codes of an environment's observation.
    func codes(_ env: BatchedEnvironment) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: AgentGeometry.cells)
        out.withUnsafeMutableBufferPointer {
            AgentGeometry.codes(of: env, index: 0, into: $0.baseAddress!)
        }
        return out
    }

    func transformed(_ codes: [UInt8], _ s: BoardSymmetry) -> [UInt8] {
        (0..<AgentGeometry.cells).map { codes[s.sourceCell[$0]] }
    }

    /// The level a code board shows (walls, floor, goals, boxes, player).
    func level(from codes: [UInt8]) throws -> Level {
        let n = AgentGeometry.boardSize
        let glyphs: [Character] = ["#", " ", ".", "$", "@", "*", "+"]
        let rows = (0..<n).map { r in String((0..<n).map { glyphs[Int(codes[r * n + $0])] }) }
        return try Level(rows: rows)
    }

    @Test func actionsAreAPermutationAndTheIdentityIsFirst() {
        #expect(BoardSymmetry.all.count == 8)
        #expect(BoardSymmetry.all[0].action == [0, 1, 2, 3])
        for s in BoardSymmetry.all { #expect(Set(s.action) == [0, 1, 2, 3]) }
        // Rotating by 90° clockwise turns up into right.
        #expect(BoardSymmetry.all[1].action[0] == 3)
    }

    @Test func steppingCommutesWithEverySymmetry() throws {
        let rows = [
            "##########", "#   #    #", "# $   .  #", "#  @$ #  #", "# .   $  #",
            "#  ## .  #", "#   $    #", "#  .     #", "#        #", "##########",
        ]
        let original = try Level(rows: rows)
        for s in BoardSymmetry.all {
            for action in 0..<4 {
                var a = BatchedEnvironment(count: 1)
                try a.reset(0, level: original)
                let before = codes(a)
                _ = a.step(0, action: action)
                var b = BatchedEnvironment(count: 1)
                try b.reset(0, level: try level(from: transformed(before, s)))
                #expect(codes(b) == transformed(before, s))
                _ = b.step(0, action: s.action[action])
                #expect(
                    codes(b) == transformed(codes(a), s), "symmetry \(s.index), action \(action)")
            }
        }
    }

    static let tenByTen = [
        "##########", "#   #    #", "# $   .  #", "#  @$ #  #", "# .   $  #",
        "#  ## .  #", "#   $    #", "#  .     #", "#        #", "##########",
    ]

    /// The action log-probabilities of a tiny network in one position, symmetry-averaged or not,
    /// followed by its value estimate.
    func averaged(_ model: any PolicyNetwork, _ level: Level, views: Bool) throws -> [Float] {
        var env = BatchedEnvironment(count: 1)
        try env.reset(0, level: level)
        let batch = views ? SymmetryAveraging.views : 1
        let context = model.makeContext(batchCapacity: batch)
        var scratch = SymmetryAveraging.Scratch()
        var logits: [Float] = []
        var values: [Float] = []
        if views {
            try SymmetryAveraging.forward(
                model, context: context, observations: env.observations, batch: 1,
                planeCount: env.planeCount,
                scratch: &scratch, logits: &logits, values: &values)
            return logits + [values[0]]
        }
        try context.setObservations(env.observations, batch: 1)
        model.forward(context, batch: batch)
        context.copyOutputs(logits: &logits, values: &values)
        let m = logits.max()!
        let total = logits.map { expf($0 - m) }.reduce(0, +)
        return logits.map { $0 - m - logf(total) } + [values[0]]
    }

    @Test func symmetryAveragingMakesThePolicyEquivariant() throws {
        let model = try Fixtures.tinyConv(seed: 5)
        let original = try Level(rows: Self.tenByTen)
        var env = BatchedEnvironment(count: 1)
        try env.reset(0, level: original)
        let board = codes(env)
        let base = try averaged(model, original, views: true)
        #expect(abs(base.prefix(4).map { expf($0) }.reduce(0, +) - 1) < 1e-5)  // log-probabilities
        var plainDiffers = false
        let plain = try averaged(model, original, views: false)
        for s in BoardSymmetry.all.dropFirst() {
            let turned = try level(from: transformed(board, s))
            // Action a on the original board is action s.action[a] on the turned one.
            let mine = try averaged(model, turned, views: true)
            for a in 0..<4 {
                #expect(abs(mine[s.action[a]] - base[a]) < 1e-5, "symmetry \(s.index), action \(a)")
            }
            #expect(
                abs(mine[4] - base[4]) < 1e-5,
                "symmetry \(s.index): the averaged value is invariant")
            let plainTurned = try averaged(model, turned, views: false)
            if (0..<4).contains(where: { abs(plainTurned[s.action[$0]] - plain[$0]) > 1e-4 }) {
                plainDiffers = true
            }
        }
        // The network alone is not equivariant, so the check above is not trivially true.
        #expect(plainDiffers)
    }

    @Test func transformingFloatPlanesMatchesWritingPlanesFromCodes() throws {
        var env = BatchedEnvironment(count: 1)
        try env.reset(0, level: try Level(rows: Self.tenByTen))
        let board = codes(env)
        for s in BoardSymmetry.all {
            let (fromCodes, fromFloats) = views(env, board, s)
            #expect(fromFloats == fromCodes, "symmetry \(s.index)")
        }
    }

    /// The planes `s` writes from the cell codes `board` and the planes it turns the environment's
    /// own observation into: the same view, if the codes hold everything the planes do.
    func views(_ env: BatchedEnvironment, _ board: [UInt8], _ s: BoardSymmetry) -> (
        fromCodes: [Float], fromFloats: [Float]
    ) {
        var fromCodes = [Float](repeating: -1, count: env.observationSize)
        var fromFloats = fromCodes
        board.withUnsafeBufferPointer { c in
            fromCodes.withUnsafeMutableBufferPointer {
                s.writePlanes(
                    codes: c.baseAddress!, planeCount: env.planeCount, into: $0.baseAddress!)
            }
        }
        env.observations.withUnsafeBufferPointer { o in
            fromFloats.withUnsafeMutableBufferPointer {
                s.transformPlanes(o.baseAddress!, planeCount: env.planeCount, into: $0.baseAddress!)
            }
        }
        return (fromCodes, fromFloats)
    }

    @Test func theTrailPlaneTurnsWithTheBoardAndSurvivesTheCellCodes() throws {
        var config = EnvironmentConfig()
        config.trail = true
        var env = BatchedEnvironment(count: 1, config: config)
        try env.reset(0, level: try Level(rows: Self.tenByTen))
        // A walk without a push leaves a trail of several squares.
        for action in [1, 1, 3, 3, 0] { _ = env.step(0, action: action) }
        let board = codes(env)
        let trailCells = board.filter { $0 & AgentGeometry.trailCode != 0 }.count
        #expect(trailCells >= 3)
        let n = env.observationSize
        #expect(n == (AgentGeometry.planeCount + 1) * AgentGeometry.cells)
        for s in BoardSymmetry.all {
            let (fromCodes, fromFloats) = views(env, board, s)
            #expect(fromFloats == fromCodes, "symmetry \(s.index)")
            // The trail plane holds exactly the trail squares, turned.
            let plane = fromCodes[(AgentGeometry.planeCount * AgentGeometry.cells)...]
            #expect(plane.filter { $0 == 1 }.count == trailCells)
        }
        // Seven planes from the same codes: the trail is left out, the one-hot planes unchanged.
        var seven = [Float](repeating: -1, count: AgentGeometry.observationCount)
        board.withUnsafeBufferPointer { c in
            seven.withUnsafeMutableBufferPointer {
                BoardSymmetry.all[0].writePlanes(
                    codes: c.baseAddress!, planeCount: AgentGeometry.planeCount,
                    into: $0.baseAddress!)
            }
        }
        #expect(seven == Array(env.observations.prefix(AgentGeometry.observationCount)))
    }

    @Test func symmetryAveragedEvaluationIsTheSameOnATurnedLevelSet() throws {
        let model = try Fixtures.tinyConv(seed: 9)
        var env = BatchedEnvironment(count: 1)
        try env.reset(0, level: try Level(rows: Self.tenByTen))
        let board = codes(env)
        var options = EvaluationOptions()
        options.symmetryAveraging = true
        options.environment.maxSteps = 40
        let levels = try BoardSymmetry.all.map { try level(from: transformed(board, $0)) }
        let outcomes = try Evaluator.evaluate(model: model, levels: levels, options: options)
            .outcomes
        // Every orientation is played the same way: same steps, same ending.
        for o in outcomes.dropFirst() {
            #expect(
                o.greedySteps == outcomes[0].greedySteps && o.greedyEnd == outcomes[0].greedyEnd)
        }
    }
}
