// SVD, Eckart–Young, exact recovery of low-rank matrices, and the randomized SVD's accuracy.
import Core
import Testing

@testable import LinearAlgebra

@Suite struct SVDTests {
    func randomLowRank(_ m: Int, _ n: Int, rank r: Int, seed: UInt64) -> Tensor {
        var rng = SplitMix64(seed: seed)
        let a = Tensor(randomNormal: [m, r], using: &rng)
        let b = Tensor(randomNormal: [r, n], using: &rng)
        return matmul(a, b)
    }

    @Test(arguments: [(20, 12), (12, 20), (16, 16)])
    func svdReconstructsAndIsOrthonormal(m: Int, n: Int) throws {
        var rng = SplitMix64(seed: 11)
        let a = Tensor(randomNormal: [m, n], using: &rng)
        let d = try svd(a)
        let p = min(m, n)
        #expect(d.u.shape == [m, p] && d.vt.shape == [p, n] && d.singularValues.count == p)
        #expect(zip(d.singularValues, d.singularValues.dropFirst()).allSatisfy { $0 >= $1 })
        #expect(d.reconstruction(rank: p).maxAbsDifference(a) < 1e-4)
        let utu = matmul(d.u, d.u, transposeA: true)
        #expect(utu.maxAbsDifference(.identity(p)) < 1e-4)
        let vvt = matmul(d.vt, d.vt, transposeB: true)
        #expect(vvt.maxAbsDifference(.identity(p)) < 1e-4)
    }

    @Test(arguments: [1, 3, 7])
    func rankKErrorIsEckartYoung(k: Int) throws {
        var rng = SplitMix64(seed: 21)
        let a = Tensor(randomNormal: [30, 18], using: &rng)
        let d = try svd(a)
        let error = (a - d.reconstruction(rank: k)).frobeniusNorm
        let discarded = d.singularValues[k...].reduce(0.0) { $0 + Double($1) * Double($1) }
            .squareRoot()
        #expect(abs(error - discarded) / discarded < 1e-4)
    }

    @Test func lowRankMatrixIsRecoveredExactly() throws {
        let a = randomLowRank(40, 25, rank: 4, seed: 5)
        let d = try svd(a)
        for k in [4, 5, 10] {
            let rel = (a - d.reconstruction(rank: k)).frobeniusNorm / a.frobeniusNorm
            #expect(rel < 1e-5, "rank \(k): relative error \(rel)")
        }
        #expect(Double(d.singularValues[4]) < 1e-4 * Double(d.singularValues[0]))
        let rel3 = (a - d.reconstruction(rank: 3)).frobeniusNorm / a.frobeniusNorm
        #expect(rel3 > 1e-3)
    }

    @Test func singularValuesOnlyMatchFullSVD() throws {
        var rng = SplitMix64(seed: 8)
        let a = Tensor(randomNormal: [15, 9], using: &rng)
        let s = try singularValues(a)
        let d = try svd(a)
        for (x, y) in zip(s, d.singularValues) { #expect(abs(x - y) < 1e-4) }
    }

    @Test func nonFiniteInputIsAnError() {
        var a = Tensor(zeros: [3, 3])
        a[1, 1] = .nan
        #expect(throws: LinearAlgebraError.self) { try svd(a) }
    }

    /// With decaying spectrum plus noise, 2 power iterations put the randomized rank-k error within
    /// 5% of the optimal (Eckart–Young) error, and the leading singular values within 1%.
    @Test func randomizedSVDIsCloseToExact() throws {
        var rng = SplitMix64(seed: 99)
        let signal = randomLowRank(200, 120, rank: 10, seed: 4)
        let noise = Tensor(randomNormal: [200, 120], standardDeviation: 0.05, using: &rng)
        let a = signal + noise
        let k = 10
        let exact = try svd(a)
        let approx = try randomizedSVD(
            a, rank: k, options: .init(oversampling: 10, powerIterations: 2, seed: 1))
        let optimal = (a - exact.reconstruction(rank: k)).frobeniusNorm
        let achieved = (a - approx.reconstruction(rank: k)).frobeniusNorm
        #expect(achieved <= optimal * 1.05)
        for i in 0..<k {
            #expect(
                abs(approx.singularValues[i] - exact.singularValues[i]) <= 0.01
                    * exact.singularValues[i])
        }
    }

    @Test func randomizedSVDIsDeterministicForASeed() throws {
        let a = randomLowRank(60, 50, rank: 20, seed: 2)
        let x = try randomizedSVD(a, rank: 5, options: .init(seed: 3))
        let y = try randomizedSVD(a, rank: 5, options: .init(seed: 3))
        #expect(x.singularValues == y.singularValues)
    }

    @Test func keptRankFollowsTheFormula() {
        #expect(keptRank(rho: 0.01, rows: 576, columns: 1536) == 5)
        #expect(keptRank(rho: 0.1, rows: 576, columns: 1536) == 57)
        #expect(keptRank(rho: 0.001, rows: 576, columns: 1536) == 1)
        #expect(keptRank(rho: 1, rows: 10, columns: 3) == 3)
    }
}
