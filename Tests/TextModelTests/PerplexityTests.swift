// Perplexity as llama-perplexity computes it: the chunking by hand, and the evaluator's perplexity
// and KL figures on the tiny random Llama against sums over its logits written out here.
import Core
import Foundation
import Laser
import LinearAlgebra
import Testing

@testable import TextModel

@Suite struct PerplexityTests {
    @Test func chunksAreCutAndScoredAsLlamaPerplexityDoes() throws {
        let tokens = Array(10..<31)  // 21 tokens
        let c = try PerplexityChunking(tokenCount: tokens.count, context: 8, bos: 1)
        #expect(c.chunks == 2, "21 / 8: the partial third chunk is dropped")
        #expect(c.first == 4)
        #expect(c.scoredPerChunk == 3, "logits at 4, 5, 6 predict tokens 5, 6, 7")
        #expect(c.tokens(ofChunk: 0, in: tokens) == [1, 11, 12, 13, 14, 15, 16, 17])
        #expect(c.tokens(ofChunk: 1, in: tokens) == [1, 19, 20, 21, 22, 23, 24, 25])
        let noBOS = try PerplexityChunking(tokenCount: 21, context: 8, bos: nil, maximumChunks: 1)
        #expect(noBOS.chunks == 1)
        #expect(noBOS.tokens(ofChunk: 0, in: tokens) == Array(10..<18))
        #expect(throws: TextModelError.self) {
            try PerplexityChunking(tokenCount: 15, context: 8, bos: nil)
        }
        #expect(throws: TextModelError.self) {
            try PerplexityChunking(tokenCount: 15, context: 3, bos: nil)
        }
    }

    /// −log softmax(row)[t] in Double.
    func nll(_ row: ArraySlice<Float>, _ t: Int) -> Double {
        let m = Double(row.max()!)
        let lse = m + log(row.reduce(0.0) { $0 + exp(Double($1) - m) })
        return lse - Double(row[row.startIndex + t])
    }

    @Test func perplexityIsTheExponentOfTheScoredHalvesMeanNLL() throws {
        let tiny = TinyLlama(seed: 3)
        let model = try tiny.load()
        var rng = SplitMix64(seed: 4)
        let tokens = (0..<29).map { _ in Int(rng.next() % UInt64(tiny.vocab)) }
        let report = try PerplexityEvaluator(model: model, chunksPerPass: 2).evaluate(
            tokens: tokens, context: 8)
        #expect(report.chunks == 3 && report.scored == 9)
        var total = 0.0
        var squares = 0.0
        for i in 0..<3 {
            let chunk = Array(tokens[(8 * i)..<(8 * i + 8)])
            let reference = tiny.referenceLogits(chunk)
            for p in 4..<7 {
                let row = reference[p].map(Float.init)
                let v = nll(row[...], chunk[p + 1])
                total += v
                squares += v * v
            }
        }
        let ppl = exp(total / 9)
        #expect(abs(report.perplexity / ppl - 1) < 1e-4, "\(report.perplexity) vs \(ppl)")
        let variance = squares / 9 - (total / 9) * (total / 9)
        #expect(abs(report.perplexityError - (variance / 8).squareRoot() * ppl) < 1e-3 * ppl)
        #expect(report.shift == nil && report.editedPerplexity == nil)
    }

    @Test func anEditedModelIsComparedPositionByPosition() throws {
        let tiny = TinyLlama(seed: 5)
        let model = try tiny.load()
        let edited = try tiny.load()
        _ = try Reducer(model: edited).apply([try Intervention(parsing: "1:fc_in:0.2")])
        var rng = SplitMix64(seed: 6)
        let tokens = (0..<16).map { _ in Int(rng.next() % UInt64(tiny.vocab)) }
        let report = try PerplexityEvaluator(model: model, edited: edited).evaluate(
            tokens: tokens, context: 8)
        var kl = 0.0
        var same = 0
        var editedNLL = 0.0
        for i in 0..<2 {
            let chunk = Array(tokens[(8 * i)..<(8 * i + 8)])
            let a = try model.forward(chunk, state: model.makeState(capacity: 8), logitsFrom: 4)
            let b = try edited.forward(chunk, state: edited.makeState(capacity: 8), logitsFrom: 4)
            for r in 0..<3 {
                let p = softmax(Array(a.scalars[(r * 8)..<(r * 8 + 8)]))
                let q = softmax(Array(b.scalars[(r * 8)..<(r * 8 + 8)]))
                kl += zip(p, q).reduce(0) { $0 + $1.0 * log($1.0 / $1.1) }
                if p.firstIndex(of: p.max()!) == q.firstIndex(of: q.max()!) { same += 1 }
                editedNLL -= log(q[chunk[4 + r + 1]])
            }
        }
        let shift = try #require(report.shift)
        #expect(shift.positions == 6)
        #expect(abs(shift.meanKLD - kl / 6) < 1e-4, "\(shift.meanKLD) vs \(kl / 6)")
        #expect(shift.meanKLD > 0, "the edit changed the distributions")
        #expect(abs(shift.sameTop - Double(same) / 6) < 1e-12)
        let ppl = try #require(report.editedPerplexity)
        #expect(abs(ppl / exp(editedNLL / 6) - 1) < 1e-4)
    }

    func softmax(_ z: [Float]) -> [Double] {
        let m = Double(z.max()!)
        let e = z.map { exp(Double($0) - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}
