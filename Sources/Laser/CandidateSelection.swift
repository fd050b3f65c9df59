// `--candidates`: a sweep's grid scored without evaluating it (laserRMT's SNR, or the first-order
// change of the validation loss), and only its best-scored points evaluated.
import Core
import LinearAlgebra

extension CandidateRanking {
    /// Every point of `grid` scored and its `top` best-scored chosen, as candidates.json lists them
    /// (grid order: intervention, score, selected). `gradients` (the validation loss's gradient
    /// per matrix) is needed for `.gradient` only.
    public static func select<Model: ReducibleModel>(
        _ grid: SweepGrid, score: CandidateScore, top: Int, model: Model,
        gradients: (() throws -> [String: Tensor])?
    ) throws -> CandidatesFile {
        let start = ContinuousClock.now
        let points = grid.allPoints
        // The Reducer's cache: each matrix decomposed once, whichever points address it.
        let reducer = Reducer(model: model)
        func decomposition(_ info: WeightMatrixInfo) throws -> SingularValueDecomposition {
            try reducer.decomposition(of: info.name)
        }
        let scores: [Double]
        switch score {
        case .snr:
            scores = try CandidateRanking.snrScores(points: points, model: model) { info in
                SpectralDiagnostics(
                    singularValues: try decomposition(info).singularValues, rows: info.rows,
                    columns: info.columns)
            }
        case .gradient:
            guard let gradients else {
                throw LaserError.unsupported(
                    "--candidates gradient needs the gradient of the validation loss, and the language model here runs forward only (no backward pass): use --candidates snr"
                )
            }
            scores = try CandidateRanking.gradientScores(
                points: points, model: model, gradients: try gradients(),
                decomposition: decomposition)
        }
        let chosen = CandidateRanking.top(top, of: points, scores: scores)
        return CandidatesFile(
            score: score.rawValue, top: top, gridPoints: points.count,
            seconds: (ContinuousClock.now - start).inSeconds, chosen: chosen,
            points: zip(points, scores).map {
                CandidateRow(intervention: $0.description, score: $1, selected: chosen.contains($0))
            })
    }
}

/// A candidate point and its score, as candidates.json lists it.
public struct CandidateRow: Encodable, Sendable {
    public let intervention: String
    public let score: Double
    public let selected: Bool
}

/// candidates.json: every grid point's score, and which were evaluated.
public struct CandidatesFile: Encodable, Sendable {
    public let score: String
    public let top: Int
    public let gridPoints: Int
    public let seconds: Double
    /// The points chosen for evaluation.
    public let chosen: [Intervention]
    public let points: [CandidateRow]
    enum CodingKeys: String, CodingKey {
        case score, top, seconds, points
        case gridPoints = "grid_points"
    }
}
