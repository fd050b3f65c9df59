// Convolution lowering: layout changes and 3×3 im2col / col2im over channels-last (NHWC) boards.

enum ConvKernels {
    /// out (b, hw, c) = inp (b, c, hw): channels-first planes to channels-last rows.
    static func channelsLast(
        _ out: FloatPointer, _ inp: ConstFloatPointer, batch: Int, channels: Int, pixels: Int
    ) {
        for b in 0..<batch {
            let src = inp + b * channels * pixels
            let dst = out + b * channels * pixels
            for c in 0..<channels {
                for p in 0..<pixels { dst[p * channels + c] = src[c * pixels + p] }
            }
        }
    }

    /// out (b, c, hw) = inp (b, hw, c): channels-last rows to channels-first planes.
    static func channelsFirst(
        _ out: FloatPointer, _ inp: ConstFloatPointer, batch: Int, channels: Int, pixels: Int
    ) {
        for b in 0..<batch {
            let src = inp + b * channels * pixels
            let dst = out + b * channels * pixels
            for p in 0..<pixels {
                for c in 0..<channels { dst[c * pixels + p] = src[p * channels + c] }
            }
        }
    }

    /// col (b·h·w, 9·c) from inp (b, h, w, c) for a 3×3 kernel with zero padding 1; column
    /// (ky·3 + kx)·c + ci, matching the stored kernel order out × kh × kw × in.
    static func im2col3x3(
        _ col: FloatPointer, _ inp: ConstFloatPointer, batch: Int, height: Int, width: Int,
        channels c: Int
    ) {
        let rowLength = 9 * c
        for b in 0..<batch {
            let image = inp + b * height * width * c
            for y in 0..<height {
                for x in 0..<width {
                    var dst = col + ((b * height + y) * width + x) * rowLength
                    for ky in -1...1 {
                        let sy = y + ky
                        for kx in -1...1 {
                            let sx = x + kx
                            // Plain loops: for a few dozen channels a memmove call costs more
                            // than the copy.
                            if sy >= 0 && sy < height && sx >= 0 && sx < width {
                                let src = image + (sy * width + sx) * c
                                for i in 0..<c { dst[i] = src[i] }
                            } else {
                                for i in 0..<c { dst[i] = 0 }
                            }
                            dst += c
                        }
                    }
                }
            }
        }
    }

    /// dinp (b, h, w, c) += the scatter of dcol (b·h·w, 9·c): the adjoint of `im2col3x3`.
    static func col2im3x3Add(
        _ dinp: FloatPointer, _ dcol: ConstFloatPointer, batch: Int, height: Int, width: Int,
        channels c: Int
    ) {
        let rowLength = 9 * c
        for b in 0..<batch {
            let image = dinp + b * height * width * c
            for y in 0..<height {
                for x in 0..<width {
                    var src = dcol + ((b * height + y) * width + x) * rowLength
                    for ky in -1...1 {
                        let sy = y + ky
                        for kx in -1...1 {
                            let sx = x + kx
                            if sy >= 0 && sy < height && sx >= 0 && sx < width {
                                let dst = image + (sy * width + sx) * c
                                for i in 0..<c { dst[i] += src[i] }
                            }
                            src += c
                        }
                    }
                }
            }
        }
    }
}
