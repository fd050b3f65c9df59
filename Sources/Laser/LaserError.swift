// Errors of the Laser module, each a sentence a person understands.

public enum LaserError: Error, CustomStringConvertible, Equatable {
    case invalidIntervention(String, reason: String)
    case unknownMatrix(String, known: [String])
    case noMatrixMatches(String, layers: [Int], types: [String])
    case invalidShard(String)
    case invalidLayers(String)
    case corruptResults(path: String, line: Int, reason: String)
    case io(String)
    case invalidPopulation(String)
    /// What the model or the options cannot do, said as is.
    case unsupported(String)

    public var description: String {
        switch self {
        case .invalidIntervention(let text, let reason):
            return
                "invalid intervention '\(text)': \(reason) (expected LAYER:TYPE:RHO such as 27:fc_in:0.01)"
        case .unknownMatrix(let name, let known):
            let sample = known.prefix(6).joined(separator: ", ")
            return
                "no reducible matrix named '\(name)' (known: \(sample)\(known.count > 6 ? ", ..." : ""))"
        case .noMatrixMatches(let text, let layers, let types):
            let layerText = layers.isEmpty ? "none" : "\(layers.first!)...\(layers.last!)"
            return
                "intervention '\(text)' matches no matrix (layers \(layerText); types \(types.joined(separator: ", ")); groups mlp, attn, all)"
        case .invalidShard(let text):
            return "invalid shard '\(text)': expected i/n with 0 <= i < n, such as 0/2"
        case .invalidLayers(let message):
            return message
        case .corruptResults(let path, let line, let reason):
            return "\(path):\(line): unreadable result line: \(reason)"
        case .io(let message), .invalidPopulation(let message), .unsupported(let message):
            return message
        }
    }
}
