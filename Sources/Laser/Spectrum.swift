// Spectral diagnostics of a weight matrix: ranks and the random-matrix signal-to-noise ratio.
import Foundation
import LinearAlgebra

/// What a matrix's singular values say about it, to rank candidates without a full sweep.
public struct SpectralDiagnostics: Codable, Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    /// Singular values, descending.
    public let singularValues: [Float]
    /// exp of the Shannon entropy of σᵢ/Σσ (Roy & Vetterli 2007).
    public let effectiveRank: Double
    /// ‖W‖_F² / σ₁².
    public let stableRank: Double
    /// Noise scale from the interquartile range of the singular values: IQR / 1.349 (laserRMT).
    public let noiseSigma: Double
    /// Marchenko–Pastur edge σ·(1 + √β), β = min(m,n)/max(m,n): singular values above it carry signal.
    public let marchenkoPasturEdge: Double
    /// How many singular values exceed the edge.
    public let signalRank: Int
    /// Σ σ above the edge / Σ σ at or below it (laserRMT's SNR); infinity when nothing is noise.
    public let signalToNoise: Double
    /// SNR divided by σ₁, laserRMT's normalised score for ranking layers.
    public let signalToNoiseRatioNormalized: Double

    public init(singularValues s: [Float], rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        singularValues = s
        let total = s.reduce(0.0) { $0 + Double($1) }
        var entropy = 0.0
        for v in s where v > 0 {
            let p = Double(v) / total
            entropy -= p * log(p)
        }
        effectiveRank = total > 0 ? exp(entropy) : 0
        let top = Double(s.first ?? 0)
        let energy = s.reduce(0.0) { $0 + Double($1) * Double($1) }
        stableRank = top > 0 ? energy / (top * top) : 0
        noiseSigma = (Self.quantile(s, 0.75) - Self.quantile(s, 0.25)) / 1.349
        let beta = Double(min(rows, columns)) / Double(max(rows, columns, 1))
        marchenkoPasturEdge = noiseSigma * (1 + beta.squareRoot())
        var signal = 0.0
        var noise = 0.0
        var count = 0
        for v in s {
            if Double(v) > marchenkoPasturEdge {
                signal += Double(v)
                count += 1
            } else {
                noise += Double(v)
            }
        }
        signalRank = count
        signalToNoise = noise > 0 ? signal / noise : .infinity
        signalToNoiseRatioNormalized = top > 0 ? signalToNoise / top : 0
    }

    /// Computes the singular values of a matrix and diagnoses them.
    public init(matrix: Tensor) throws {
        let m = matrix.asMatrix
        self.init(
            singularValues: try LinearAlgebra.singularValues(m), rows: m.shape[0],
            columns: m.shape[1])
    }

    /// Linear-interpolated quantile (numpy's default), on values in any order.
    static func quantile(_ values: [Float], _ q: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.map(Double.init).sorted()
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
    }
}
