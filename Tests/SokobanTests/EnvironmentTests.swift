// Tests of the RL environment: exact rewards on a scripted solve, invariants after random steps,
// the step limit, and the batched form agreeing with the single one.

import Testing

@testable import Sokoban

@Suite struct EnvironmentTests {
    let planes = ObservationEncoding.oneHot.planeCount

    /// The plane that is hot at (row, column) of environment `env`.
    func hotPlane(
        _ obs: [Float], env: Int = 0, row: Int, column: Int, height: Int = 10,
        width: Int = 10
    ) -> ObservationPlane? {
        let base = env * planes * height * width
        var found: ObservationPlane?
        for p in 0..<planes where obs[base + p * height * width + row * width + column] == 1 {
            found = ObservationPlane(rawValue: p)
        }
        return found
    }

    @Test func scriptedSolveGivesGymSokobanRewards() throws {
        // Push a box off a goal, onto the other goal, and finish.
        let l = try level("#######\n#@*  .#\n#  $  #\n#######")
        var env = SokobanEnvironment()
        try env.reset(level: l)
        // The box leaves its goal (-1), reaches the other goal (+1), then the second box is pushed
        // along the floor (no change) and a wall blocks the last step (the penalty still counts).
        let script: [(Direction, Float, Bool)] = [
            (.right, -0.1 - 1, false),  // *, off goal
            (.right, -0.1, false),
            (.right, -0.1 + 1, false),  // onto the goal at column 5
            (.down, -0.1, false),
            (.left, -0.1, false),  // pushes the second box
            (.left, -0.1, false),
            (.down, -0.1, false),  // blocked by wall: still a step
        ]
        for (n, (d, reward, done)) in script.enumerated() {
            let r = env.step(d)
            #expect(abs(r.reward - reward) < 1e-6, "step \(n + 1)")
            #expect(r.done == done)
        }
        #expect(env.stepCount == script.count)
        // Solving gives the +10 on top, and ends the episode.
        var env2 = SokobanEnvironment()
        let simple = try level("######\n#@$ .#\n#    #\n######")
        try env2.reset(level: simple)
        #expect(abs(env2.step(.right).reward - -0.1) < 1e-6)
        let last = env2.step(.right)
        #expect(abs(last.reward - (-0.1 + 1 + 10)) < 1e-6)
        #expect(last.done && last.solved)
    }

    @Test func theTrailPlaneHoldsTheSquaresWalkedSinceTheLastPush() throws {
        let l = try level("#######\n#@    #\n#  $. #\n#######")
        var config = EnvironmentConfig()
        config.trail = true
        var env = BatchedEnvironment(count: 1, config: config)
        #expect(env.planeCount == planes + 1)
        try env.reset(0, level: l)
        /// The squares (row·10 + column) lit on the trail plane.
        func trail() -> Set<Int> {
            Set((0..<100).filter { env.observations[planes * 100 + $0] == 1 })
        }
        #expect(trail() == [11])
        let start = env.positionHash(0)
        _ = env.step(0, action: 3)  // right
        _ = env.step(0, action: 1)  // down
        _ = env.step(0, action: 0)  // up: back onto the trail
        _ = env.step(0, action: 0)  // into the wall: nothing moves
        #expect(trail() == [11, 12, 22])
        #expect((0..<100).allSatisfy { env.isOnTrail(0, square: $0) == trail().contains($0) })
        _ = env.step(0, action: 2)  // left: the starting position, with a longer trail
        #expect(env.positionHash(0) != start)
        _ = env.step(0, action: 1)  // down
        _ = env.step(0, action: 3)  // right
        let pushed = env.step(0, action: 3)  // pushes the box onto the goal: a new trail
        #expect(pushed.solved)
        #expect(trail() == [23])
        // The one-hot planes are those of an environment without the trail.
        var plain = BatchedEnvironment(count: 1)
        try plain.reset(0, level: l)
        for action in [3, 1, 0, 0, 2, 1, 3, 3] { _ = plain.step(0, action: action) }
        #expect(Array(env.observations.prefix(planes * 100)) == plain.observations)
        // Without the trail, coming back gives the same position hash.
        var again = BatchedEnvironment(count: 1)
        try again.reset(0, level: l)
        let first = again.positionHash(0)
        _ = again.step(0, action: 3)
        _ = again.step(0, action: 2)
        #expect(again.positionHash(0) == first)
    }

    @Test func aTrailNoteSeedsTheTrailAndABadOneIsRefused() throws {
        var l = try level("#######\n#@    #\n#  $. #\n#######")
        l.notes = [(BatchedEnvironment.trailNote, "9 10")]  // level squares (1, 2) and (1, 3)
        var config = EnvironmentConfig()
        config.trail = true
        var env = BatchedEnvironment(count: 1, config: config)
        try env.reset(0, level: l)
        #expect(env.trailNoteValue(0) == "11 12 13")
        // Without the trail plane the note is ignored.
        var plain = BatchedEnvironment(count: 1)
        try plain.reset(0, level: l)
        #expect(plain.trailNoteValue(0) == "")
        l.notes = [(BatchedEnvironment.trailNote, "0")]  // a wall
        #expect(throws: LevelError.self) { try env.reset(0, level: l) }
        l.notes = [(BatchedEnvironment.trailNote, "x")]
        #expect(throws: LevelError.self) { try env.reset(0, level: l) }
        l.notes = [(BatchedEnvironment.trailNote, "17")]  // the box
        #expect(throws: LevelError.self) { try env.reset(0, level: l) }
    }

    @Test func observationPlanes() throws {
        let l = try level("######\n#+$ .#\n# *$ #\n######")
        var env = SokobanEnvironment()
        try env.reset(level: l)
        let obs = env.observation
        #expect(obs.count == planes * 100)
        #expect(hotPlane(obs, row: 0, column: 0) == .wall)
        #expect(hotPlane(obs, row: 1, column: 1) == .playerOnGoal)
        #expect(hotPlane(obs, row: 1, column: 2) == .box)
        #expect(hotPlane(obs, row: 1, column: 3) == .floor)
        #expect(hotPlane(obs, row: 1, column: 4) == .goal)
        #expect(hotPlane(obs, row: 2, column: 2) == .boxOnGoal)
        #expect(hotPlane(obs, row: 7, column: 8) == .wall)  // padding beyond the level
        _ = env.step(.down)
        #expect(hotPlane(env.observation, row: 1, column: 1) == .goal)
        #expect(hotPlane(env.observation, row: 2, column: 1) == .player)
    }

    @Test func snapshotsFeedTheSolver() throws {
        let l = try level("#######\n#@ $ .#\n#######")
        var env = SokobanEnvironment()
        try env.reset(level: l)
        _ = env.step(.right)
        let now = env.snapshot
        #expect(now.width == 10 && now.player == 12 && now.boxes == [13])
        let r = Solver.solve(now)
        #expect(r.status == .solved && r.solution == "RR")
        // The expert's first action, played in the environment, keeps to an optimal path.
        let first = try #require(try LURD.parse(r.solution ?? "").first)
        _ = env.step(first.direction)
        #expect(Solver.solve(env.snapshot).pushes == 1)
    }

    @Test func positionHashSeesRevisitsAndPushes() throws {
        var env = BatchedEnvironment(count: 2)
        let l = try level("#######\n#@ $ .#\n#    ##\n#######")
        try env.reset(0, level: l)
        try env.reset(1, level: l)
        let start = env.positionHash(0)
        #expect(env.positionHash(1) == start)
        _ = env.step(0, action: Direction.down.rawValue)
        let below = env.positionHash(0)
        #expect(below != start)  // the player moved
        _ = env.step(0, action: Direction.up.rawValue)
        #expect(env.positionHash(0) == start)  // back where it was
        _ = env.step(0, action: Direction.right.rawValue)
        _ = env.step(0, action: Direction.right.rawValue)  // pushes the box
        _ = env.step(0, action: Direction.left.rawValue)
        // Environment 1 steps right once: the same player square, but its box has not moved.
        _ = env.step(1, action: Direction.right.rawValue)
        #expect(env.snapshot(0).player == env.snapshot(1).player)
        #expect(env.positionHash(0) != env.positionHash(1))
    }

    @Test func layeredPlanes() throws {
        var config = EnvironmentConfig()
        config.observation = .layered
        var env = SokobanEnvironment(height: 4, width: 6, config: config)
        #expect(env.planeCount == 5)
        try env.reset(level: try level("######\n#+$ .#\n# *$ #\n######"))
        func planes(_ row: Int, _ column: Int) -> [Float] {
            (0..<5).map { env.observation[$0 * 24 + row * 6 + column] }
        }
        #expect(planes(0, 0) == [1, 0, 0, 0, 0])
        #expect(planes(1, 1) == [0, 1, 1, 0, 1])  // player on goal
        #expect(planes(2, 2) == [0, 1, 1, 1, 0])  // box on goal
        #expect(planes(1, 3) == [0, 1, 0, 0, 0])
        _ = env.step(.right)
        #expect(planes(1, 1) == [0, 1, 1, 0, 0])
        #expect(planes(1, 2) == [0, 1, 0, 0, 1])
        #expect(planes(1, 3) == [0, 1, 0, 1, 0])
    }

    @Test func stepLimitEndsTheEpisode() throws {
        var config = EnvironmentConfig()
        config.maxSteps = 5
        var env = SokobanEnvironment(config: config)
        try env.reset(level: try level("#######\n#@ $ .#\n#######"))
        for _ in 0..<4 { #expect(!env.step(.left).done) }
        let fifth = env.step(.left)
        #expect(fifth.done && !fifth.solved)
    }

    @Test func rejectsLevelsLargerThanTheBoard() throws {
        var env = SokobanEnvironment(height: 3, width: 5)
        #expect(throws: LevelError.self) {
            try env.reset(level: try level("######\n#@$ .#\n######"))
        }
    }

    /// After random steps the observation stays one-hot, boxes are conserved, exactly one player
    /// is shown, and everything agrees with the rules engine.
    @Test func invariantsAfterRandomStepsMatchTheRules() throws {
        let l = try level("########\n#  .   #\n# $ #$ #\n#. $@ .#\n#  $ . #\n########")
        var env = SokobanEnvironment()
        try env.reset(level: l)
        var game = Game(level: l)
        var rng = TestRNG(seed: 11)
        var totalReward: Float = 0
        for n in 0..<119 {
            let action = Int(rng.next() % 4)
            let before = game.boxesOnGoals
            game.step(Direction(rawValue: action)!)
            let r = env.step(action)
            totalReward += r.reward
            let expected = -0.1 + Float(game.boxesOnGoals - before) + (game.isSolved ? 10 : 0)
            #expect(abs(r.reward - expected) < 1e-5, "step \(n)")
            let obs = env.observation
            var boxes = 0
            var players = 0
            for row in 0..<10 {
                for column in 0..<10 {
                    var hot = 0
                    for p in 0..<planes where obs[p * 100 + row * 10 + column] == 1 { hot += 1 }
                    #expect(hot == 1)
                    switch hotPlane(obs, row: row, column: column) {
                    case .box, .boxOnGoal: boxes += 1
                    case .player, .playerOnGoal: players += 1
                    default: break
                    }
                    if row < l.height && column < l.width {
                        let square = row * l.width + column
                        let isBox =
                            hotPlane(obs, row: row, column: column) == .box
                            || hotPlane(obs, row: row, column: column) == .boxOnGoal
                        #expect(isBox == game.hasBox[square])
                    }
                }
            }
            #expect(boxes == l.boxCount && players == 1)
            if r.done { break }
        }
    }

    @Test func batchedMatchesSingleAndAutoResets() throws {
        let levels = try [
            level("#######\n#@ $ .#\n#######"),
            level("######\n#.   #\n#.$$ #\n# $@ #\n#.   #\n######"),
            level("#######\n##   ##\n#. $ .#\n# $@$ #\n#  .  #\n#######"),
        ]
        var config = EnvironmentConfig()
        config.maxSteps = 30
        var batch = BatchedEnvironment(count: 3, config: config, autoReset: true)
        var singles = levels.map { _ in SokobanEnvironment(config: config) }
        for i in 0..<3 {
            try batch.reset(i, level: levels[i])
            try singles[i].reset(level: levels[i])
        }
        var rng = TestRNG(seed: 5)
        var rewards = [Float](repeating: 0, count: 3)
        var dones = [Bool](repeating: false, count: 3)
        var solved = dones
        var resets = 0
        for _ in 0..<100 {
            let actions = (0..<3).map { _ in Int(rng.next() % 4) }
            batch.step(actions: actions, rewards: &rewards, dones: &dones, solved: &solved)
            for i in 0..<3 {
                let r = singles[i].step(actions[i])
                #expect(r.reward == rewards[i] && r.done == dones[i] && r.solved == solved[i])
                if r.done {
                    try singles[i].reset(level: levels[i])
                    resets += 1
                }
                let size = batch.observationSize
                #expect(
                    Array(batch.observations[(i * size)..<((i + 1) * size)])
                        == singles[i].observation)
            }
        }
        #expect(resets > 0)
        // Level 0 is solved by right, right, right.
        batch.restart(0)
        var r = batch.step(0, action: 3)
        r = batch.step(0, action: 3)
        r = batch.step(0, action: 3)
        #expect(r.solved && r.done && batch.stepCount(0) == 0)
    }
}
