// Ranking a sweep's grid points without evaluating them, so that only the most promising few are:
// laserRMT's random-matrix signal-to-noise ratio, or the first-order change of the loss from the
// truncation (Compress to Impress: the gradient with respect to the singular values).
import LinearAlgebra

/// How candidates are scored.
public enum CandidateScore: String, Sendable, CaseIterable {
    /// laserRMT: matrices with the least signal over the Marchenko–Pastur edge first, each at the
    /// grid's ρ nearest its signal rank.
    case snr
    /// The first-order change of the loss, Σ over the dropped i of −σᵢ·uᵢᵀ(∂L/∂W)vᵢ: the most
    /// negative (the loss predicted to fall most) first.
    case gradient
}

public enum CandidateRanking {
    /// A (layer, type) pair of the grid.
    struct Pair: Hashable {
        let layer: Int
        let type: String
    }

    /// The matrices a grid point reduces.
    static func targets(_ point: Intervention, in model: some ReducibleModel) throws
        -> [WeightMatrixInfo]
    {
        try point.targets(in: model)
    }

    /// laserRMT's order: each (layer, type) pair's matrices by their mean SNR, lowest first; within
    /// a pair, the ρ whose kept rank is nearest the Marchenko–Pastur signal rank first. A point's
    /// score is its place in that order (lower is more promising): every pair's nearest ρ comes
    /// before any pair's second nearest.
    public static func snrScores(
        points: [Intervention], model: some ReducibleModel,
        diagnostics: (WeightMatrixInfo) throws -> SpectralDiagnostics
    ) throws -> [Double] {
        var snr: [Pair: Double] = [:]
        var distance: [Double] = []
        var pairOf: [Pair] = []
        for point in points {
            let infos = try targets(point, in: model)
            let d = try infos.map(diagnostics)
            guard case .index(let layer) = point.layer else {
                throw LaserError.invalidIntervention(
                    point.description, reason: "candidates are single-layer grid points")
            }
            let pair = Pair(layer: layer, type: point.type)
            pairOf.append(pair)
            if snr[pair] == nil {
                // An all-signal matrix (no value under the edge) ranks last.
                let values = d.map { $0.signalToNoise.isFinite ? $0.signalToNoise : 1e300 }
                snr[pair] = values.reduce(0, +) / Double(max(1, values.count))
            }
            let gaps = zip(infos, d).map { info, diag in
                let k = keptRank(rho: point.rho, rows: info.rows, columns: info.columns)
                return Double(abs(k - max(1, diag.signalRank))) / Double(info.fullRank)
            }
            distance.append(gaps.reduce(0, +) / Double(max(1, gaps.count)))
        }
        let pairOrder = snr.keys.sorted {
            (snr[$0]!, $0.layer, $0.type) < (snr[$1]!, $1.layer, $1.type)
        }
        let pairRank = Dictionary(uniqueKeysWithValues: pairOrder.enumerated().map { ($1, $0) })
        // Within each pair, the points by their distance to the signal rank.
        var placeInPair = [Int](repeating: 0, count: points.count)
        for pair in pairOrder {
            let mine = points.indices.filter { pairOf[$0] == pair }.sorted {
                (distance[$0], $0) < (distance[$1], $1)
            }
            for (place, i) in mine.enumerated() { placeInPair[i] = place }
        }
        return points.indices.map {
            Double(placeInPair[$0] * pairOrder.count + pairRank[pairOf[$0]]!)
        }
    }

    /// The first-order change of the loss from each point's truncation: for each matrix it
    /// reduces to rank k, −Σ_{i≥k} σᵢ·uᵢᵀ G vᵢ with G = ∂L/∂W (setting σᵢ to 0 moves σᵢ by −σᵢ,
    /// and ∂L/∂σᵢ = uᵢᵀ G vᵢ). Lower is more promising.
    public static func gradientScores(
        points: [Intervention], model: some ReducibleModel, gradients: [String: Tensor],
        decomposition: (WeightMatrixInfo) throws -> SingularValueDecomposition
    ) throws -> [Double] {
        var projections: [String: [Double]] = [:]
        func terms(_ info: WeightMatrixInfo) throws -> [Double] {
            if let t = projections[info.name] { return t }
            guard let g = gradients[info.name] else {
                throw LaserError.invalidIntervention(
                    info.name, reason: "no gradient was measured for this matrix")
            }
            let t = try singularValueGradients(decomposition(info), gradient: g)
            projections[info.name] = t
            return t
        }
        return try points.map { point in
            try targets(point, in: model).reduce(0.0) { total, info in
                let k = keptRank(rho: point.rho, rows: info.rows, columns: info.columns)
                return total + (try terms(info)).dropFirst(k).reduce(0, +)
            }
        }
    }

    /// −σᵢ·uᵢᵀ G vᵢ for every i: the first-order change of the loss from zeroing σᵢ.
    public static func singularValueGradients(
        _ d: SingularValueDecomposition, gradient g: Tensor
    ) throws -> [Double] {
        let m = d.u.shape[0]
        let r = d.singularValues.count
        let n = d.vt.shape[1]
        guard g.count == m * n else {
            throw LaserError.invalidIntervention(
                "gradient", reason: "shape \(g.shape) does not match the matrix \(m) × \(n)")
        }
        // (Uᵀ G) then each row i against row i of Vᵀ.
        let ug = matmul(d.u, g.reshaped([m, n]), transposeA: true)
        return (0..<r).map { i in
            var dot = 0.0
            for j in 0..<n {
                dot += Double(ug.scalars[i * n + j]) * Double(d.vt.scalars[i * n + j])
            }
            return -Double(d.singularValues[i]) * dot
        }
    }

    /// The `count` points with the lowest scores, in grid order.
    public static func top(_ count: Int, of points: [Intervention], scores: [Double])
        -> [Intervention]
    {
        let chosen = Set(
            points.indices.sorted { (scores[$0], $0) < (scores[$1], $1) }.prefix(count))
        return points.indices.filter { chosen.contains($0) }.map { points[$0] }
    }

    /// Spearman's rank correlation (average ranks for ties); nil for fewer than 3 pairs or a
    /// constant side.
    public static func spearman(_ a: [Double], _ b: [Double]) -> Double? {
        guard a.count == b.count, a.count >= 3 else { return nil }
        func ranks(_ x: [Double]) -> [Double] {
            let order = x.indices.sorted { x[$0] < x[$1] }
            var r = [Double](repeating: 0, count: x.count)
            var i = 0
            while i < order.count {
                var j = i
                while j + 1 < order.count && x[order[j + 1]] == x[order[i]] { j += 1 }
                for k in i...j { r[order[k]] = Double(i + j) / 2 + 1 }
                i = j + 1
            }
            return r
        }
        let ra = ranks(a)
        let rb = ranks(b)
        let ma = ra.reduce(0, +) / Double(ra.count)
        let mb = rb.reduce(0, +) / Double(rb.count)
        var sab = 0.0
        var saa = 0.0
        var sbb = 0.0
        for (x, y) in zip(ra, rb) {
            sab += (x - ma) * (y - mb)
            saa += (x - ma) * (x - ma)
            sbb += (y - mb) * (y - mb)
        }
        guard saa > 0 && sbb > 0 else { return nil }
        return sab / (saa * sbb).squareRoot()
    }
}
