// The one hash and the one random generator against their published reference values.
import Core
import Testing

@Suite struct HashTests {
    @Test func fnv1aMatchesTheReferenceVectors() {
        // The FNV authors' test vectors for 64-bit FNV-1a.
        #expect(FNV1a.hash(Array("".utf8)) == 0xcbf2_9ce4_8422_2325)
        #expect(FNV1a.hash(Array("a".utf8)) == 0xaf63_dc4c_8601_ec8c)
        #expect(FNV1a.hash(Array("foobar".utf8)) == 0x8594_4171_f739_67e8)
    }

    @Test func splitMixMatchesTheReferenceSequence() {
        // The first outputs of Vigna's splitmix64.c seeded with 0.
        var rng = SplitMix64(seed: 0)
        #expect(rng.next() == 0xe220_a839_7b1d_cdaf)
        #expect(rng.next() == 0x6e78_9e6a_a1b9_65f4)
        #expect(SplitMix64.mix(0) == 0xe220_a839_7b1d_cdaf)
    }
}
