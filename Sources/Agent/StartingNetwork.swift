// Where a training run's first network comes from: a fresh one of a design, its conv trunk
// optionally copied from a trained policy, or a checkpoint's, given the design's planes and, with
// growth, its channels and blocks.
import Policy

public enum StartingNetwork {
    /// A fresh network of `design`, with the conv trunk (stem and residual blocks) of `trunk`
    /// copied into it when given.
    case fresh(PolicyDesign, trunk: (network: any PolicyNetwork, path: String)?)
    /// The network of a checkpoint: given `design.planes` when it reads fewer, enlarged to
    /// `design`'s channels and blocks when `grow`.
    case checkpoint(PolicyCheckpoint.Loaded, path: String, design: PolicyDesign, grow: Bool)

    /// A step of making the network that failed, and why.
    public enum Failure: Error, CustomStringConvertible {
        case trunkCopy(path: String, PolicyError)
        case planes(PolicyError)
        case growth(path: String, PolicyError)

        public var description: String {
            switch self {
            case .trunkCopy(let path, let error): return "\(path): \(error)"
            case .planes(let error): return "\(error)"
            case .growth(let path, let error): return "\(path): \(error)"
            }
        }
    }

    /// The network, what it came from (for the run's record), the lineage the checkpoint's
    /// metadata records (what it was reduced from, and how), and a line for each thing done to it.
    public struct Made {
        public let network: any PolicyNetwork
        public let initial: String?
        public let lineage: [String: String]
        public let notes: [String]
    }

    /// Makes the network; `seed` draws every fresh weight.
    public func make(seed: UInt64) throws -> Made {
        switch self {
        case .fresh(let design, let trunk):
            let network = try design.build(seed: seed)
            guard let trunk else {
                return Made(network: network, initial: nil, lineage: [:], notes: [])
            }
            let copied: Int
            do { copied = try network.copyConvTrunk(from: trunk.network) } catch let error
                as PolicyError
            {
                throw Failure.trunkCopy(path: trunk.path, error)
            }
            return Made(
                network: network, initial: "conv trunk of \(trunk.path)", lineage: [:],
                notes: ["conv trunk (\(copied) tensors) copied from \(trunk.path)"])
        case .checkpoint(let loaded, let path, let design, let grow):
            var notes: [String] = []
            var network: any PolicyNetwork
            do { network = try design.withPlanes(loaded.model, seed: seed) } catch let error
                as PolicyError
            {
                throw Failure.planes(error)
            }
            if network !== loaded.model {
                notes.append("\(path) gains the trail plane (its weights start at zero)")
            }
            if grow {
                do { network = try design.grow(network, seed: seed) } catch let error as PolicyError
                {
                    throw Failure.growth(path: path, error)
                }
            }
            return Made(
                network: network, initial: path, lineage: RunRecord.lineage(in: loaded.metadata),
                notes: notes)
        }
    }
}
