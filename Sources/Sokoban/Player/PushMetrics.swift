// Secondary metrics of a game, as YSokoban and JSoko show them beside moves and pushes.

/// Box lines, box changes and pushing sessions of the steps a game has taken.
public struct PushMetrics: Sendable, Equatable {
    /// Pushes of one box in one direction with no other step between them count as one line.
    public var boxLines = 0
    /// How often the pushed box differs from the box pushed before (the first push counts).
    public var boxChanges = 0
    /// Runs of consecutive pushes, separated by moves that push nothing.
    public var pushingSessions = 0

    public init(boxLines: Int = 0, boxChanges: Int = 0, pushingSessions: Int = 0) {
        self.boxLines = boxLines
        self.boxChanges = boxChanges
        self.pushingSessions = pushingSessions
    }

    /// The metrics of `game`'s steps, replayed from the level's start.
    public init(of game: Game) {
        var replay = Game(level: game.level)
        let width = game.level.width
        // Where the last pushed box now stands, and how the previous step went.
        var lastBox: Int?
        var previous: (push: Bool, direction: Direction)?
        for step in (try? LURD.parse(game.lurd)) ?? [] {
            let outcome = replay.step(step.direction)
            guard case .pushed(let from) = outcome else {
                previous = (false, step.direction)
                continue
            }
            let sameBox = from == lastBox
            if !sameBox { boxChanges += 1 }
            if previous?.push != true { pushingSessions += 1 }
            if !(sameBox && previous?.push == true && previous?.direction == step.direction) {
                boxLines += 1
            }
            lastBox = from + step.direction.offset(width: width)
            previous = (true, step.direction)
        }
    }
}
