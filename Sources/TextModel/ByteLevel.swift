// GPT-2's byte-level mapping: each of the 256 bytes as a printable Unicode character, and back.

enum ByteLevel {
    /// byte → scalar: printable Latin-1 bytes map to themselves, the rest to U+0100 onwards.
    static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var printable = Set<Int>()
        for b in 0x21...0x7E { printable.insert(b) }
        for b in 0xA1...0xAC { printable.insert(b) }
        for b in 0xAE...0xFF { printable.insert(b) }
        var next = 256
        for b in 0..<256 {
            if printable.contains(b) {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(UInt32(next))!
                next += 1
            }
        }
        return table
    }()

    /// scalar value → byte, for the 256 scalars above.
    static let scalarToByte: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (b, s) in byteToScalar.enumerated() { map[s.value] = UInt8(b) }
        return map
    }()
}
