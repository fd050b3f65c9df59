// The one fast exp: close to libm over the whole float range, the scalar form bit-identical to
// each vector lane, tanh within a few ulps, and the shifted exp and softmax built on it.
import Foundation
import Testing

@testable import LinearAlgebra

@Suite struct FastExpTests {
    @Test func matchesLibmAndTheScalarFormEqualsEachLane() {
        var worst = 0.0
        var x: Float = -87
        while x < 87.98 {
            let lanes = SIMD8<Float>((0..<8).map { x + Float($0) * 0.0017 })
            let vector = FastExp.exp(lanes)
            for i in 0..<8 {
                let scalar = FastExp.exp(lanes[i])
                #expect(scalar.bitPattern == vector[i].bitPattern, "exp(\(lanes[i]))")
                let reference = Foundation.exp(Double(lanes[i]))
                worst = max(worst, abs(Double(scalar) - reference) / reference)
            }
            x += 0.0137
        }
        #expect(worst < 1e-6, "largest relative error \(worst)")
        #expect(FastExp.exp(-1000 as Float) >= 0 && FastExp.exp(-1000 as Float) < 1e-37)
        #expect(FastExp.exp(1000 as Float).isFinite)
    }

    @Test func tanhIsAccurateAndSaturates() {
        var x: Float = -12
        while x <= 12 {
            #expect(abs(Double(FastExp.tanh(x)) - Foundation.tanh(Double(x))) < 2e-7, "tanh(\(x))")
            x += 0.0173
        }
        #expect(FastExp.tanh(1000) == 1 && FastExp.tanh(-1000) == -1)
    }

    @Test func shiftedExpAndSoftmax() {
        var values: [Float] = (0..<19).map { Float($0) * 0.5 - 4 }
        let sum = values.withUnsafeMutableBufferPointer {
            FastExp.expShifted($0.baseAddress!, count: 19, shift: 1)
        }
        let expected = (0..<19).map { Foundation.exp(Double($0) * 0.5 - 5) }
        #expect(abs(Double(sum) - expected.reduce(0, +)) < 1e-5)
        for i in 0..<19 { #expect(abs(Double(values[i]) - expected[i]) <= 1e-6 * expected[i]) }
        // Large logits: the shift by the maximum keeps every term finite.
        var logits: [Float] = [1000, 998, -5, 1000, 0, 3, 999, 2, 7, 1]
        logits.withUnsafeMutableBufferPointer {
            FastExp.softmaxInPlace($0.baseAddress!, count: $0.count)
        }
        let raw = [1000.0, 998, -5, 1000, 0, 3, 999, 2, 7, 1].map { Foundation.exp($0 - 1000) }
        let total = raw.reduce(0, +)
        for i in 0..<raw.count { #expect(abs(Double(logits[i]) - raw[i] / total) < 1e-6) }
    }
}
