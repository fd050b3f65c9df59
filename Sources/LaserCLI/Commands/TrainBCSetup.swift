// What `laser train bc`'s flags describe: the run's configuration, its DAgger file and the network
// it starts from.
import Agent
import ArgumentParser
import Policy

extension TrainBC {
    func validate() throws {
        if grow && initial == nil {
            throw ValidationError("--grow needs --init CHECKPOINT (the network to enlarge)")
        }
        if trunkFrom != nil && initial != nil {
            throw ValidationError("--trunk-from builds a new network; it cannot go with --init")
        }
        if let until, until < 1 { throw ValidationError("--until must be positive") }
        if let threads, !(1...256).contains(threads) {
            throw ValidationError("--threads must be in 1...256")
        }
        guard heldOut >= 0 else { throw ValidationError("--held-out must not be negative") }
        if demonstrations.demos == nil && heldOut >= demonstrations.levelCount {
            throw ValidationError(
                "--held-out (\(heldOut)) must be fewer than --level-count (\(demonstrations.levelCount))"
            )
        }
        guard solveLevels >= 0 else { throw ValidationError("--solve-levels must not be negative") }
        do { try makeConfig().validate() } catch { throw ValidationError("\(error)") }
    }

    var daggerPath: String {
        BehaviorCloningRun.Files(
            checkpoint: out, daggerStates: dagger.daggerStates, demonstrations: ""
        ).daggerStates
    }

    func makeConfig() -> BehaviorCloningConfig {
        var config = BehaviorCloningConfig()
        config.steps = steps
        config.batchSize = batch
        config.learningRate = lr
        config.evaluateEvery = evalEvery
        config.solveLevels = solveLevels
        config.seed = seed
        config.augment = !noAugment
        config.distillationWeight = distillationWeight
        dagger.apply(to: &config)
        return config
    }

    /// The network this command describes: --init's (given the trail plane with --trail, grown
    /// with --grow), or a fresh one (its conv trunk from --trunk-from).
    func network() throws -> StartingNetwork.Made {
        let start: StartingNetwork
        if let initial {
            start = .checkpoint(
                try loadPolicy(initial), path: initial, design: architecture.design, grow: grow)
        } else {
            start = .fresh(
                architecture.design,
                trunk: try trunkFrom.map { (network: try loadPolicy($0).model, path: $0) })
        }
        do { return try start.make(seed: seed) } catch let failure as StartingNetwork.Failure {
            switch failure {
            case .trunkCopy: throw CLIError("--trunk-from \(failure)")
            case .planes: throw ValidationError("--trail: \(failure)")
            case .growth: throw ValidationError("--grow: \(failure)")
            }
        }
    }
}
