// Reading a row of logits: argmax, log-probability of a token, and a token's rank.
import LinearAlgebra

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Operations on one row of logits (a vocabulary-sized slice of a logits tensor).
public enum LogitMath {
    /// Throws unless every logit is finite: a NaN would otherwise be scored as a rank-0 answer.
    public static func requireFinite(_ logits: Tensor, context: @autoclosure () -> String) throws {
        let finite = logits.scalars.withUnsafeBufferPointer { p in
            // Exponent bits all ones is NaN or infinity; OR-ing a flag keeps the loop vectorisable.
            var bad: UInt32 = 0
            for x in p { bad |= (x.bitPattern & 0x7F80_0000) == 0x7F80_0000 ? 1 : 0 }
            return bad == 0
        }
        if !finite { throw TextModelError.nonFiniteLogits(context: context()) }
    }

    /// Index of the largest logit (the first on ties, as llama.cpp's greedy sampler).
    public static func argmax(_ logits: Tensor, row: Int = 0) -> Int {
        let n = logits.shape[1]
        return logits.scalars.withUnsafeBufferPointer { p in
            let r = p.baseAddress! + row * n
            var best = 0
            var bestValue = r[0]
            for j in 1..<n where r[j] > bestValue {
                best = j
                bestValue = r[j]
            }
            return best
        }
    }

    /// log softmax(logits)[token], computed stably in Double.
    public static func logProbability(_ logits: Tensor, row: Int = 0, token: Int) -> Double {
        let n = logits.shape[1]
        return logits.scalars.withUnsafeBufferPointer { p in
            let r = p.baseAddress! + row * n
            var maxValue = -Float.infinity
            for j in 0..<n { maxValue = max(maxValue, r[j]) }
            var sum = 0.0
            for j in 0..<n { sum += exp(Double(r[j] - maxValue)) }
            return Double(r[token] - maxValue) - log(sum)
        }
    }

    /// How many tokens have a strictly larger logit (0 means the token is the top-1).
    public static func rank(_ logits: Tensor, row: Int = 0, token: Int) -> Int {
        let n = logits.shape[1]
        return logits.scalars.withUnsafeBufferPointer { p in
            let r = p.baseAddress! + row * n
            let v = r[token]
            var above = 0
            for j in 0..<n where r[j] > v || (r[j] == v && j < token) { above += 1 }
            return above
        }
    }
}
