// Distillation: the teacher's targets are its symmetry-averaged probabilities, oriented like the
// board each sample is shown on, and a student trained on them alone learns the teacher's policy.
import Foundation
import Policy
import Sokoban
import Testing

@testable import Agent

@Suite struct DistillationTests {
    /// An untrained teacher and the corridor levels' samples, as it sees them.
    func corridorSamples() throws -> (teacher: any PolicyNetwork, data: DemonstrationData) {
        let teacher = try Fixtures.tinyConv(seed: 5)
        let data = try DemonstrationData(
            levels: try Fixtures.corridorLevels(), gamma: 0.99,
            config: AgentGeometry.environment(for: teacher, EnvironmentConfig()))
        return (teacher, data)
    }

    /// The averaged policy is equivariant, so the targets of a transformed board are the sample's
    /// targets mapped through the symmetry: checked against the teacher run on each transformed
    /// board directly.
    @Test func targetsTurnWithTheBoard() throws {
        let (teacher, data) = try corridorSamples()
        let samples = 0..<data.count
        let targets = try Distillation.probabilities(
            teacher: teacher, data: data, samples: samples)
        #expect(targets.count == data.count * 4)
        for s in samples {
            let row = targets[(s * 4)..<(s * 4 + 4)]
            #expect(abs(row.reduce(0, +) - 1) < 1e-5 && row.allSatisfy { $0 > 0 })
        }
        let size = data.planeCount * AgentGeometry.cells
        let context = teacher.makeContext(batchCapacity: 8)
        var scratch = SymmetryAveraging.Scratch()
        var logits: [Float] = []
        var values: [Float] = []
        for symmetry in BoardSymmetry.all {
            var board = [Float](repeating: 0, count: size)
            var mapped = [Float](repeating: 0, count: 4)
            let s = symmetry.index % data.count
            board.withUnsafeMutableBufferPointer {
                _ = data.write(sample: s, symmetry: symmetry, into: $0.baseAddress!)
            }
            targets.withUnsafeBufferPointer { t in
                mapped.withUnsafeMutableBufferPointer {
                    Distillation.write(
                        t.baseAddress! + s * 4, symmetry: symmetry, into: $0.baseAddress!)
                }
            }
            try SymmetryAveraging.forward(
                teacher, context: context, observations: board, batch: 1,
                planeCount: data.planeCount, scratch: &scratch, logits: &logits, values: &values)
            for a in 0..<4 {
                #expect(abs(expf(logits[a]) - mapped[a]) < 1e-5, "symmetry \(symmetry.index)")
            }
        }
    }

    /// With the whole policy loss on the teacher (weight 1), the action sets teach nothing: the
    /// student solves the corridors only if the teacher's targets carry its policy.
    @Test func aStudentLearnsFromTheTeacherAlone() throws {
        let levels = try Fixtures.corridorLevels()
        var options = EvaluationOptions()
        options.workers = 1
        options.environment.maxSteps = 12
        var config = TrainingTests().smallConfig(steps: 150)
        let teacher = try PolicyTrainer(
            model: try Fixtures.tinyConv(), config: config.optimizer, batchCapacity: 32)
        try BehaviorCloning(trainer: teacher, levels: levels, heldOutLevels: 1, config: config)
            .run(workers: 1) { _ in }
        let taught = try Evaluator.evaluate(model: teacher.model, levels: levels, options: options)
        #expect(taught.summary.greedySolveRate >= 0.75)

        config.distillationWeight = 1
        let student = try PolicyTrainer(
            model: try Fixtures.tinyConv(seed: 9), config: config.optimizer, batchCapacity: 32)
        let untaught = try Evaluator.evaluate(
            model: student.model, levels: levels, options: options)
        let run = try BehaviorCloning(
            trainer: student, levels: levels, heldOutLevels: 1, config: config,
            teacher: teacher.model)
        var last: SupervisedResult?
        for _ in 0..<config.steps { last = try run.step() }
        let learned = try Evaluator.evaluate(model: student.model, levels: levels, options: options)
        #expect(untaught.summary.greedySolveRate < 0.5)
        #expect(
            learned.summary.greedySolveRate >= 0.75,
            "student \(untaught.summary.greedySolveRate) → \(learned.summary.greedySolveRate)")
        #expect((last?.distillationLoss ?? 0) > 0)
    }

    /// The targets file is reused only for the teacher and samples it was made from: a file
    /// from another teacher, or not a targets file at all, is replaced with fresh targets.
    @Test func cachedTargetsAreCheckedAgainstTheTeacher() throws {
        let (teacher, data) = try corridorSamples()
        let other = try Fixtures.tinyConv(seed: 6)
        let path = Fixtures.temporaryPath("teacher.f32")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fresh = try Distillation.probabilities(
            teacher: teacher, data: data, samples: 0..<data.count)
        let first = try Distillation.probabilities(teacher: teacher, data: data, cache: path)
        #expect(first == fresh)
        #expect(try Distillation.readCache(path) == fresh)
        // A planted file with the right length and header but other numbers is caught by the
        // spot checks; the same teacher's file is taken as it is.
        var planted = fresh
        for i in planted.indices { planted[i] = 0.25 }
        try Distillation.writeCache(planted, to: path)
        #expect(try Distillation.probabilities(teacher: teacher, data: data, cache: path) == fresh)
        #expect(try Distillation.probabilities(teacher: teacher, data: data, cache: path) == fresh)
        let theirs = try Distillation.probabilities(teacher: other, data: data, cache: path)
        #expect(theirs != fresh)
        #expect(try Distillation.readCache(path) == theirs)
        try Data("not targets".utf8).write(to: URL(fileURLWithPath: path))
        #expect(try Distillation.probabilities(teacher: teacher, data: data, cache: path) == fresh)
    }

    /// Progress counts the samples the teacher labels, from 0 to all of them; a valid cache file
    /// is read without labelling (its spot checks report nothing).
    @Test func progressCountsTheSamplesTheTeacherLabels() throws {
        let (teacher, data) = try corridorSamples()
        let path = Fixtures.temporaryPath("teacher.f32")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var heard: [(Int, Int)] = []
        _ = try Distillation.probabilities(teacher: teacher, data: data, cache: path) {
            heard.append(($0, $1))
        }
        #expect(heard.first.map { $0 == (0, data.count) } == true)
        #expect(heard.last.map { $0 == (data.count, data.count) } == true)
        #expect(heard.allSatisfy { $0.1 == data.count })
        #expect(zip(heard, heard.dropFirst()).allSatisfy { $0.0 < $1.0 })
        #expect(heard.count == 1 + (data.count + Distillation.chunk - 1) / Distillation.chunk)
        heard = []
        _ = try Distillation.probabilities(teacher: teacher, data: data, cache: path) {
            heard.append(($0, $1))
        }
        #expect(heard.isEmpty)
    }

    @Test func aTeacherWithOtherPlanesIsRefused() throws {
        let levels = try Fixtures.corridorLevels()
        let config = TrainingTests().smallConfig(steps: 5)
        let student = try PolicyTrainer(
            model: try Fixtures.tinyConv(), config: config.optimizer, batchCapacity: 32)
        let trailTeacher = try ConvPolicy(
            config: ConvPolicyConfig(planes: 8, channels: 8, blocks: 1, valueHidden: 16), seed: 1)
        #expect(throws: AgentError.self) {
            try BehaviorCloning(
                trainer: student, levels: levels, heldOutLevels: 1, config: config,
                teacher: trailTeacher)
        }
    }
}
