// Spectral diagnostics: a planted low-rank signal in noise is found above the Marchenko–Pastur edge.
import Core
import Testing

@testable import Laser
@testable import LinearAlgebra

@Suite struct SpectrumTests {
    @Test func findsThePlantedSignalRank() throws {
        var rng = SplitMix64(seed: 17)
        let m = 300
        let n = 200
        let r = 5
        let u = Tensor(randomNormal: [m, r], using: &rng)
        let v = Tensor(randomNormal: [r, n], using: &rng)
        let noise = Tensor(randomNormal: [m, n], using: &rng)
        let w = matmul(u, v) * 2 + noise
        let diag = try SpectralDiagnostics(matrix: w)
        // The IQR noise estimate is laserRMT's heuristic, not the exact MP edge: every planted
        // direction clears it, and the signal matrix scores a far higher SNR than noise alone.
        #expect(diag.signalRank >= r)
        let s = diag.singularValues
        #expect(Double(s[r - 1]) > diag.marchenkoPasturEdge)
        #expect(diag.signalToNoise > 0 && diag.signalToNoise.isFinite)
        #expect(diag.effectiveRank > 1 && diag.effectiveRank <= Double(min(m, n)))
        #expect(diag.stableRank >= 1)
        // Pure noise: almost nothing clears the edge and the SNR is far lower.
        let pure = try SpectralDiagnostics(matrix: noise)
        #expect(pure.signalToNoise < diag.signalToNoise)
    }

    /// Worked by hand: σ = [10,5,4,3,2,1], 6 × 12 (β = 0.5); numpy quantiles 2.25 and 4.75,
    /// IQR 2.5, noise σ = 2.5/1.349, edge σ·(1+√0.5) ≈ 3.1637; signal 19, noise 6.
    @Test func laserRMTScoreByHand() {
        let d = SpectralDiagnostics(singularValues: [10, 5, 4, 3, 2, 1], rows: 6, columns: 12)
        #expect(abs(d.noiseSigma - 2.5 / 1.349) < 1e-12)
        #expect(abs(d.marchenkoPasturEdge - 2.5 / 1.349 * (1 + 0.5.squareRoot())) < 1e-12)
        #expect(d.signalRank == 3)
        #expect(abs(d.signalToNoise - 19.0 / 6.0) < 1e-12)
        #expect(abs(d.signalToNoiseRatioNormalized - 19.0 / 60.0) < 1e-12)
    }

    @Test func quantileMatchesNumpyLinear() {
        #expect(SpectralDiagnostics.quantile([4, 1, 3, 2], 0.25) == 1.75)
        #expect(SpectralDiagnostics.quantile([4, 1, 3, 2], 0.75) == 3.25)
    }

    @Test func effectiveRankOfEqualSingularValuesIsTheirCount() {
        let d = SpectralDiagnostics(singularValues: [2, 2, 2, 2], rows: 4, columns: 6)
        #expect(abs(d.effectiveRank - 4) < 1e-9)
        #expect(abs(d.stableRank - 4) < 1e-9)
    }
}
