// Applies, composes and restores interventions on any ReducibleModel, with a cache of SVDs.
import LinearAlgebra

/// What one reduction did to one matrix.
public struct ReductionReport: Codable, Sendable, Equatable {
    public let name: String
    public let layer: Int
    public let type: String
    public let rows: Int
    public let columns: Int
    public let fullRank: Int
    public let rankKept: Int
    /// Parameters of the dense matrix, m·n.
    public let parametersBefore: Int
    /// Parameters in factored form, k·(m+n).
    public let parametersAfter: Int
    /// ‖W − W_k‖_F / ‖W‖_F.
    public let relativeError: Double
    /// Σ_{i<k} σᵢ² / Σ σᵢ²: the fraction of spectral energy kept.
    public let energyKept: Double
}

/// How a reduced matrix is handed back to the model.
public enum ReducedStorage: Sendable {
    /// The rank-k reconstruction as a dense matrix (the forward pass is unchanged).
    case dense
    /// The two factors, so the forward pass costs k·(m+n) per row.
    case factored
}

/// How the rank-k factors are computed.
public enum DecompositionMethod: Sendable {
    /// The full SVD (LAPACK gesdd), cached per matrix: every ρ of a sweep reuses one decomposition.
    case exact
    /// Halko et al.'s randomized truncated SVD at the requested rank: cheaper for a single small
    /// rank of a large matrix, within a small measured factor of the optimal error.
    case randomized(RandomizedSVDOptions)
}

/// Applies interventions to a model, composes them, and restores the original weights bit-exactly.
///
/// SVDs are cached per matrix (of the original weights), so a sweep over many ρ for one matrix
/// decomposes it once.
public final class Reducer<Model: ReducibleModel> {
    public let model: Model
    public var storage: ReducedStorage
    public var method: DecompositionMethod = .exact
    /// Original dense weights of every matrix currently reduced, for bit-exact restore.
    private var originals: [String: Tensor] = [:]
    /// Current kept rank of every reduced matrix.
    public private(set) var keptRanks: [String: Int] = [:]
    /// Reports of the matrices currently reduced, by name.
    public private(set) var reports: [String: ReductionReport] = [:]
    private var cache: SVDCache

    /// - Parameter cacheBytes: how much memory the SVD cache may use (least recently used evicted).
    public init(model: Model, storage: ReducedStorage = .factored, cacheBytes: Int = 512 << 20) {
        self.model = model
        self.storage = storage
        self.cache = SVDCache(capacityBytes: cacheBytes)
    }

    /// Applies interventions in order; a matrix addressed twice keeps the smaller rank (truncating a
    /// best rank-k′ approximation to rank k < k′ is the best rank-k approximation of the original).
    @discardableResult
    public func apply(_ interventions: [Intervention]) throws -> [ReductionReport] {
        var touched: [String] = []
        for intervention in interventions {
            for info in try intervention.targets(in: model) {
                let k = intervention.keptRank(rows: info.rows, columns: info.columns)
                try reduce(info, toRank: min(k, keptRanks[info.name] ?? k))
                if !touched.contains(info.name) { touched.append(info.name) }
            }
        }
        return touched.compactMap { reports[$0] }
    }

    /// Applies one intervention.
    @discardableResult
    public func apply(_ intervention: Intervention) throws -> [ReductionReport] {
        try apply([intervention])
    }

    /// Reduces one matrix by name to k = max(1, ⌊ρ·min(m, n)⌋) (composing like `apply`).
    @discardableResult
    public func apply(matrix name: String, rho: Double) throws -> ReductionReport {
        guard rho > 0, rho <= 1, rho.isFinite else {
            throw LaserError.invalidIntervention("\(name) ρ \(rho)", reason: "ρ must be in (0, 1]")
        }
        let info = try model.matrixInfo(named: name)
        let k = keptRank(rho: rho, rows: info.rows, columns: info.columns)
        try reduce(info, toRank: min(k, keptRanks[name] ?? k))
        return reports[name]!
    }

    private func reduce(_ info: WeightMatrixInfo, toRank k: Int) throws {
        let original: Tensor
        if let saved = originals[info.name] {
            original = saved
        } else {
            original = try model.weightMatrix(named: info.name).reshaped([info.rows, info.columns])
        }
        let entry: SVDCache.Entry
        switch method {
        case .exact:
            entry = try cache.decomposition(of: info.name) { try svd(original) }
        case .randomized(let options):
            let d = try randomizedSVD(original, rank: k, options: options)
            let norm = original.frobeniusNorm
            entry = SVDCache.Entry(svd: d, squaredNorm: norm * norm)
        }
        let (left, right) = entry.svd.truncatedFactors(rank: k)
        let factors = FactoredMatrix(left: left, right: right)
        let value: WeightValue =
            storage == .factored ? .factored(factors) : .dense(factors.reconstructed())
        try model.setWeightMatrix(named: info.name, to: value)
        originals[info.name] = original
        keptRanks[info.name] = k
        let kept = entry.svd.singularValues.prefix(k).reduce(0.0) { $0 + Double($1) * Double($1) }
        let total = entry.squaredNorm
        reports[info.name] = ReductionReport(
            name: info.name, layer: info.layer, type: info.type, rows: info.rows,
            columns: info.columns,
            fullRank: info.fullRank, rankKept: k, parametersBefore: info.rows * info.columns,
            parametersAfter: k * (info.rows + info.columns),
            relativeError: total > 0 ? max(0, total - kept).squareRoot() / total.squareRoot() : 0,
            energyKept: total > 0 ? min(1, kept / total) : 1)
    }

    /// Puts every reduced matrix back exactly as it was.
    public func restoreAll() throws {
        for (name, original) in originals {
            try model.setWeightMatrix(named: name, to: .dense(original))
        }
        originals.removeAll()
        keptRanks.removeAll()
        reports.removeAll()
    }

    /// Puts one matrix back exactly as it was (no-op if it is not reduced).
    public func restore(_ name: String) throws {
        guard let original = originals.removeValue(forKey: name) else { return }
        try model.setWeightMatrix(named: name, to: .dense(original))
        keptRanks[name] = nil
        reports[name] = nil
    }

    /// The SVD of a matrix's original weights (cached), for diagnostics.
    public func decomposition(of name: String) throws -> SingularValueDecomposition {
        let original = try originals[name] ?? model.weightMatrix(named: name)
        let info = try model.matrixInfo(named: name)
        return try cache.decomposition(of: name) {
            try svd(original.reshaped([info.rows, info.columns]))
        }.svd
    }
}

/// A least-recently-used cache of SVDs bounded in bytes.
struct SVDCache {
    struct Entry {
        let svd: SingularValueDecomposition
        /// ‖W‖_F² in Double, from the singular values.
        let squaredNorm: Double
        var bytes: Int { 4 * (svd.u.count + svd.vt.count + svd.singularValues.count) }
    }

    let capacityBytes: Int
    private var entries: [String: Entry] = [:]
    private var order: [String] = []  // least recent first

    init(capacityBytes: Int) { self.capacityBytes = capacityBytes }

    mutating func decomposition(of name: String, compute: () throws -> SingularValueDecomposition)
        rethrows -> Entry
    {
        if let hit = entries[name] {
            order.removeAll { $0 == name }
            order.append(name)
            return hit
        }
        let d = try compute()
        let entry = Entry(
            svd: d, squaredNorm: d.singularValues.reduce(0.0) { $0 + Double($1) * Double($1) })
        var used = entries.values.reduce(0) { $0 + $1.bytes }
        while used + entry.bytes > capacityBytes, let oldest = order.first {
            used -= entries[oldest]!.bytes
            entries[oldest] = nil
            order.removeFirst()
        }
        if entry.bytes <= capacityBytes {
            entries[name] = entry
            order.append(name)
        }
        return entry
    }
}
