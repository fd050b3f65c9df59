// Dequantization of every supported block type against values from the `gguf` Python package.
import Foundation
import Testing

@testable import TextModel

@Suite struct DequantizeTests {
    /// One block of random bytes per type (scales set to sane half floats), with the sum of its
    /// dequantized values and every 7th value, as `gguf.quants.dequantize` (gguf 0.17) gives them.
    static let references: [(type: GGMLType, hex: String, sum: Double, samples: [Int: Float])] = [
        (
            .q4_0, "4c22f1a0afe594c6d5390e4c48dfe9017fd2", 0.07379150390625,
            [
                0: -0.086090087890625, 7: 0.012298583984375, 14: 0.086090087890625,
                21: 0.0491943359375,
                28: 0.07379150390625,
            ]
        ),
        (
            .q4_1, "4c2266aa21cc1e77d14d5747b841fd717a81958d", 1.241363525390625,
            [
                0: -0.037689208984375, 7: 0.036102294921875, 14: 0.011505126953125,
                21: -0.00079345703125,
                28: 0.036102294921875,
            ]
        ),
        (
            .q5_0, "4c22e5f1a94106a0956a26afbccdafe562f90a945f56", 0.012298583984375,
            [
                0: 0.07379150390625, 7: 0.159881591796875, 14: 0.184478759765625,
                21: 0.12298583984375, 28: -0.19677734375,
            ]
        ),
        (
            .q8_0, "4c2282fececab39f57fd7737d829db9c1d0b71092483f877ceead2a17083447f613f",
            0.356658935546875,
            [
                0: -1.54962158203125, 7: -0.036895751953125, 14: 0.356658935546875,
                21: 1.463531494140625,
                28: 0.8363037109375,
            ]
        ),
        (
            .q4_K,
            "4c22d629fe031831f8b1e133b85e7d009ed4a9278844f7e12f82f0d8b5a30abd79173e8aba819cdfaf5ca4991b0fa963"
                + "9952392661d0666193fa6497709a72a38cadf4268f705b3d0d67d31867f7f33701ab034c7fdf17a98821d8d87bf1"
                + "9be7f59147259031c0ed3e8d0c2e60e2f8a495910f60fb69363db609f8e09177c28c7a5272c00e06b85fcd07e81f"
                + "6af71ba8",
            158.131591796875,
            [
                0: 8.1219482421875, 7: -1.79071044921875, 14: 5.0718994140625,
                21: -1.79071044921875,
                28: 5.83441162109375, 35: -2.1602783203125, 42: -1.680633544921875,
                49: -2.197174072265625,
                56: -1.8651123046875, 63: -2.0126953125, 70: 0.26641845703125, 77: 1.44708251953125,
                84: 2.92291259765625, 91: 0.85675048828125, 98: -0.517364501953125,
                105: 6.714202880859375,
                112: 2.49578857421875, 119: -0.517364501953125, 126: 6.714202880859375,
                133: 7.64080810546875,
                140: 4.88592529296875, 147: 0.75360107421875, 154: 5.57464599609375,
                161: 0.03485107421875,
                168: -0.30950927734375, 175: 0.72357177734375, 182: 0.37921142578125,
                189: 0.72357177734375,
                196: -0.748931884765625, 203: -2.50762939453125, 210: -2.1878662109375,
                217: -1.388458251953125,
                224: 0.0, 231: 0.0, 238: 0.0, 245: 0.0, 252: 0.0,
            ]
        ),
        (
            .q6_K,
            "ba6d14866edfae580e9747afdd5ae78487c3cae8ff2669ee4e0193c0becfa423d86bd8d0f803dda07ccbf38316b93b39"
                + "3132e85c1b2d65584ff2dd92fc57234516f3387133fa2883f385e6e5c4be9394d46df2e05f69b6ec18113f6e2984"
                + "8af3be40c9ceaead4fb722a1ebf84c559e65bb332b0c78364cead0d7971cbf9ae87a2c9874a8604e20f6c1773ca0"
                + "69a2172fbc0fad6900c3b3d0e5bad71cebe9b1cdbde0e385d0ea4c0b2b076f054240b43ff330f8913e094e971b2a"
                + "1dad1605744f91f0db89a4cf6fa8379c3c30c293600a4c22",
            -220.55050659179688,
            [
                0: 30.03314208984375, 7: -10.921142578125, 14: -31.398284912109375,
                21: -4.3291015625,
                28: -5.9033203125, 35: -0.0, 42: -8.645904541015625, 49: -26.34356689453125,
                56: 1.463531494140625, 63: -30.734161376953125, 70: -11.314697265625,
                77: -5.6573486328125,
                84: 10.244720458984375, 91: 2.4105224609375, 98: -4.095428466796875,
                105: -5.4605712890625,
                112: -3.246826171875, 119: -22.727783203125, 126: -2.16455078125,
                133: 6.76422119140625,
                140: 2.7056884765625, 147: 19.677734375, 154: 1.2298583984375, 161: -23.61328125,
                168: 1.475830078125, 175: 15.4962158203125, 182: 16.529296875, 189: -3.5419921875,
                196: 9.91265869140625, 203: 13.7252197265625, 210: -41.556915283203125,
                217: -1.340545654296875,
                224: 12.9873046875, 231: -24.7939453125, 238: 10.6259765625, 245: -3.56658935546875,
                252: -2.58270263671875,
            ]
        ),
    ]

    @Test(arguments: 0..<6) func blockMatchesReference(_ index: Int) throws {
        let ref = Self.references[index]
        let bytes = hexBytes(ref.hex)
        #expect(bytes.count == ref.type.blockBytes)
        // Two blocks in a row: the second repeats the first, so block strides are exercised too.
        var b = GGUFBuilder()
        b.addRaw(
            "w", dims: [UInt64(ref.type.blockSize), 2], type: ref.type.rawValue, data: bytes + bytes
        )
        let path = b.write(name: "quant")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let t = try GGUFFile(path: path).tensor(named: "w")
        #expect(t.shape == [2, ref.type.blockSize])
        let n = ref.type.blockSize
        for row in 0..<2 {
            let values = Array(t.scalars[(row * n)..<((row + 1) * n)])
            let sum = values.reduce(0.0) { $0 + Double($1) }
            #expect(
                abs(sum - ref.sum) <= 1e-4 * max(1, abs(ref.sum)), "\(ref.type.name) sum \(sum)")
            for (i, expected) in ref.samples {
                #expect(
                    abs(values[i] - expected) <= 1e-6 * max(1, abs(expected)),
                    "\(ref.type.name)[\(i)] = \(values[i]), expected \(expected)")
            }
        }
    }

    @Test func halfAndBFloat16() throws {
        // 1.0, −2.0, 65504 (max), 2^-24 (smallest subnormal), −0, +inf in F16; 1.0, −3.0 in BF16.
        let halves: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000, 0x7C00]
        #expect(halves.map(halfToFloat) == [1, -2, 65504, Float(1) / 16_777_216, -0.0, .infinity])
        var b = GGUFBuilder()
        b.addRaw("h", dims: [6], type: 1, data: halves.flatMap { le($0) })
        b.addRaw("bf", dims: [2], type: 30, data: le(UInt16(0x3F80)) + le(UInt16(0xC040)))
        let path = b.write(name: "half")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let f = try GGUFFile(path: path)
        // The reader converts every half but refuses the infinity (a weight must be finite)...
        #expect(throws: GGUFError.nonFiniteTensor(tensor: "h", element: 5)) {
            try f.tensor(named: "h")
        }
        #expect(try f.tensor(named: "bf").scalars == [1, -3])
        // ...which the conversion itself produces.
        var out = [Float](repeating: 0, count: 6)
        let bytes = halves.flatMap { le($0) }
        bytes.withUnsafeBytes { source in
            out.withUnsafeMutableBufferPointer {
                Dequantize.run(type: .f16, from: source, into: $0)
            }
        }
        #expect(out == [1, -2, 65504, Float(1) / 16_777_216, -0.0, .infinity])
    }

    @Test func everyHalfMatchesFloat16Conversion() {
        #if arch(x86_64) || arch(arm64)
            for bits in 0...UInt16.max {
                let ours = halfToFloat(bits)
                let reference = Float(Float16(bitPattern: bits))
                #expect(ours.bitPattern == reference.bitPattern || (ours.isNaN && reference.isNaN))
                if ours.bitPattern != reference.bitPattern && !(ours.isNaN && reference.isNaN) {
                    break
                }
            }
        #endif
    }
}
