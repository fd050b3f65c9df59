// Values the parser reads straight from the command line: shards, layer selections, comma lists
// and interventions. A value it cannot read is an error naming the option before any work starts.
import ArgumentParser
import Foundation
import Laser

extension Shard: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
    public var defaultValueDescription: String { description }
}

extension CandidateScore: ExpressibleByArgument {}

extension LayerSelection: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
    public var defaultValueDescription: String { description }
}

/// A comma-separated list of values, each read as `Element` (spaces around a value ignored).
struct CommaList<Element: LosslessStringConvertible & Sendable>: ExpressibleByArgument, Sendable {
    var values: [Element]

    init(_ values: [Element]) { self.values = values }

    init?(argument: String) {
        var values: [Element] = []
        for part in argument.split(separator: ",", omittingEmptySubsequences: false) {
            guard let value = Element(part.trimmingCharacters(in: .whitespaces)) else {
                return nil
            }
            values.append(value)
        }
        self.values = values
    }

    var defaultValueDescription: String { values.map(\.description).joined(separator: ",") }
}

/// Interventions (`LAYER:TYPE:RHO`) are read by the option's transform rather than
/// `ExpressibleByArgument`, so a refused one keeps its reason (a ρ out of range, a missing part).
func interventionArgument(_ text: String) throws -> Intervention {
    try Intervention(parsing: text)
}
