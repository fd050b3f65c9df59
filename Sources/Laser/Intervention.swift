// One LASER intervention (layer, type, ρ) and its single textual form LAYER:TYPE:RHO.
import LinearAlgebra

/// Which layers an intervention addresses.
public enum LayerSelector: Hashable, Sendable, Codable, CustomStringConvertible {
    case index(Int)
    /// The layers first...last, both included (first < last).
    case range(Int, Int)
    case all

    /// The index of the matrices before the first layer (a policy's stem conv and input
    /// embeddings), written `input`: a name, because `-1` would read as half a range.
    public static let inputLayer = -1
    public static let inputName = "input"

    /// A layer index as interventions and reports write it.
    public static func name(_ layer: Int) -> String {
        layer == inputLayer ? inputName : String(layer)
    }

    public var description: String {
        switch self {
        case .index(let i): return Self.name(i)
        case .range(let first, let last): return "\(first)-\(last)"
        case .all: return "all"
        }
    }

    /// Whether layer `l` is addressed.
    public func contains(_ l: Int) -> Bool {
        switch self {
        case .index(let i): return i == l
        case .range(let first, let last): return first <= l && l <= last
        case .all: return true
        }
    }
}

/// Replace the matrices of layer ℓ and type τ by their best rank-k approximations,
/// k = max(1, ⌊ρ·min(m, n)⌋).
public struct Intervention: Hashable, Sendable, Codable, CustomStringConvertible {
    public let layer: LayerSelector
    /// A matrix type (`fc_in`) or a group (`mlp`, `attn`, `all`).
    public let type: String
    /// Fraction of rank kept, in (0, 1].
    public let rho: Double

    public init(layer: LayerSelector, type: String, rho: Double) throws {
        guard rho > 0, rho <= 1, rho.isFinite else {
            throw LaserError.invalidIntervention(
                "\(layer):\(type):\(rho)", reason: "ρ must be in (0, 1], got \(rho)")
        }
        guard !type.isEmpty, !type.contains(":") else {
            throw LaserError.invalidIntervention(
                "\(layer):\(type):\(rho)", reason: "empty or malformed type")
        }
        self.layer = layer
        self.type = type
        self.rho = rho
    }

    /// The reference code's `rate` notation: ρ = 1 − 0.1·rate (rate 9.9 keeps 1%).
    public static func rhoFromRate(_ rate: Double) -> Double { 1 - 0.1 * rate }

    /// Parses `LAYER:TYPE:RHO`, where LAYER is an index, a range `A-B`, `input` (the stem and
    /// input embeddings) or `all`, and RHO a fraction in (0, 1] or `rate=R` in the
    /// reference code's notation.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else {
            throw LaserError.invalidIntervention(
                text, reason: "needs three fields separated by ':'")
        }
        let layer: LayerSelector
        // "A-B" splits into exactly two numbers; "-1", "1-" and "1-2-3" do not.
        let bounds = parts[0].split(separator: "-", omittingEmptySubsequences: false).map {
            Int($0)
        }
        if parts[0] == "all" {
            layer = .all
        } else if parts[0] == LayerSelector.inputName {
            layer = .index(LayerSelector.inputLayer)
        } else if let i = Int(parts[0]), i >= 0 {
            layer = .index(i)
        } else if bounds.count == 2, let first = bounds[0], let last = bounds[1] {
            guard first < last else {
                throw LaserError.invalidIntervention(
                    text,
                    reason: "layer range '\(parts[0])' must run from a lower to a higher layer")
            }
            layer = .range(first, last)
        } else {
            throw LaserError.invalidIntervention(
                text,
                reason:
                    "layer '\(parts[0])' is neither a non-negative integer, a range A-B, 'input' nor 'all'"
            )
        }
        guard !parts[1].isEmpty else {
            throw LaserError.invalidIntervention(text, reason: "the type is empty")
        }
        let rhoText = parts[2]
        let rho: Double
        if rhoText.hasPrefix("rate=") {
            guard let rate = Double(rhoText.dropFirst(5)), rate.isFinite else {
                throw LaserError.invalidIntervention(
                    text, reason: "rate '\(rhoText.dropFirst(5))' is not a number")
            }
            rho = Self.rhoFromRate(rate)
            guard rho > 0, rho <= 1 else {
                throw LaserError.invalidIntervention(
                    text,
                    reason: "rate \(rate) gives ρ = \(rho), outside (0, 1]; rate must be in [0, 10)"
                )
            }
        } else {
            guard let r = Double(rhoText), r.isFinite else {
                throw LaserError.invalidIntervention(text, reason: "ρ '\(rhoText)' is not a number")
            }
            guard r > 0, r <= 1 else {
                throw LaserError.invalidIntervention(
                    text, reason: "ρ must be in (0, 1], got \(rhoText)")
            }
            rho = r
        }
        try self.init(layer: layer, type: parts[1], rho: rho)
    }

    public var description: String { "\(layer):\(type):\(Self.format(rho))" }

    /// ρ printed without float noise (0.01, not 0.010000000000000009), and always parsing back to
    /// a ρ that prints the same: below 10⁻⁶ in exponent form (1e-07), never as a refused 0.
    public static func format(_ rho: Double) -> String {
        var s = String(format: "%.6f", rho)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        if s == "0" && rho != 0 { return String(format: "%.6g", rho) }
        return s
    }

    /// Whether a matrix is addressed by this intervention, given the model's type groups.
    public func matches(_ info: WeightMatrixInfo, groups: [String: Set<String>]) -> Bool {
        if !layer.contains(info.layer) { return false }
        if type == "all" { return true }
        if let group = groups[type] { return group.contains(info.type) }
        return type == info.type
    }

    /// The matrices of a model this intervention addresses; an error when there are none, so a
    /// layer that does not exist or a misspelled type never passes silently.
    public func targets(in model: some ReducibleModel) throws -> [WeightMatrixInfo] {
        let groups = model.typeGroups
        let hits = model.reducibleMatrices.filter { matches($0, groups: groups) }
        guard !hits.isEmpty else {
            throw LaserError.noMatrixMatches(
                description, layers: model.layerIndices, types: model.matrixTypes)
        }
        return hits
    }

    /// The rank kept for an m × n matrix.
    public func keptRank(rows: Int, columns: Int) -> Int {
        LinearAlgebra.keptRank(rho: rho, rows: rows, columns: columns)
    }
}
