// BLAS wrappers against the naive reference, in every transpose combination.
import Core
import Testing

@testable import LinearAlgebra

@Suite struct BLASTests {
    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func gemmMatchesNaiveLoop(transposeA: Bool, transposeB: Bool) {
        var rng = SplitMix64(seed: 7)
        let m = 13
        let k = 9
        let n = 11
        let a = Tensor(randomNormal: transposeA ? [k, m] : [m, k], using: &rng)
        let b = Tensor(randomNormal: transposeB ? [n, k] : [k, n], using: &rng)
        let fast = matmul(a, b, transposeA: transposeA, transposeB: transposeB)
        let slow = naiveMatmul(a, b, transposeA: transposeA, transposeB: transposeB)
        #expect(fast.shape == [m, n])
        #expect(fast.maxAbsDifference(slow) < 1e-4)
    }

    @Test func gemmAccumulatesWithAlphaAndBeta() {
        var rng = SplitMix64(seed: 3)
        let a = Tensor(randomNormal: [4, 5], using: &rng)
        let b = Tensor(randomNormal: [5, 6], using: &rng)
        let c0 = Tensor(randomNormal: [4, 6], using: &rng)
        var c = c0
        gemm(a, b, into: &c, alpha: 2, beta: 0.5)
        let expected = naiveMatmul(a, b) * 2 + c0 * 0.5
        #expect(c.maxAbsDifference(expected) < 1e-4)
    }

    @Test(arguments: [false, true])
    func gemvMatchesNaiveLoop(transpose: Bool) {
        var rng = SplitMix64(seed: 5)
        let a = Tensor(randomNormal: [7, 4], using: &rng)
        let x = Tensor(randomNormal: [transpose ? 7 : 4], using: &rng)
        let y = matvec(a, x, transposeA: transpose)
        let reference = naiveMatmul(
            a, x.reshaped(transpose ? [7, 1] : [4, 1]), transposeA: transpose)
        #expect(y.scalars.count == reference.count)
        #expect(y.reshaped(reference.shape).maxAbsDifference(reference) < 1e-5)
    }

    @Test func transposeIsExact() {
        var rng = SplitMix64(seed: 1)
        let a = Tensor(randomNormal: [37, 70], using: &rng)
        let t = a.transposed
        #expect(t.shape == [70, 37])
        for i in 0..<37 { for j in 0..<70 { #expect(t[j, i] == a[i, j]) } }
        #expect(t.transposed == a)
    }
}
