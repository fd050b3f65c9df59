// Convolution lowering: layout changes and 3×3 im2col over channels-last (NHWC) boards.
import LinearAlgebra

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

    /// The kernel that carries a 3×3 convolution's output gradient back to its input, itself a
    /// 3×3 convolution: out (cin, 9·cout) with out[ci, k·cout + co] = w[co, (8 − k)·cin + ci]
    /// for w (cout, 9·cin) in `im2col3x3`'s column order (the taps reversed, in and out swapped).
    /// dinp = im2col(dout) · outᵀ is then one GEMM with the forward's depth 9·cout, where
    /// dout · w followed by the adjoint of im2col would write and scatter nine times the input's
    /// size.
    static func inputGradientKernel(
        _ out: FloatPointer, _ w: ConstFloatPointer, cin: Int, cout: Int
    ) {
        for ci in 0..<cin {
            for k in 0..<9 {
                let dst = out + ci * 9 * cout + k * cout
                let src = w + (8 - k) * cin + ci
                for co in 0..<cout { dst[co] = src[co * 9 * cin] }
            }
        }
    }

    /// dinp (b·h·w, cin) = (or += with `accumulate`) the input gradient of a 3×3 conv with
    /// `weight` (cout, 9·cin), given its output gradient dout (b·h·w, cout): im2col of dout
    /// (into `dcol`, b·h·w × 9·cout) times the kernel of `inputGradientKernel` (written to
    /// `kernel`, 9·cin·cout floats).
    static func inputGradient3x3(
        _ dinp: FloatPointer, of dout: ConstFloatPointer, weight: ConstFloatPointer, cin: Int,
        cout: Int, batch: Int, height: Int, width: Int, kernel: FloatPointer, dcol: FloatPointer,
        accumulate: Bool
    ) {
        inputGradientKernel(kernel, weight, cin: cin, cout: cout)
        im2col3x3(dcol, dout, batch: batch, height: height, width: width, channels: cout)
        BLAS.sgemm(
            transA: false, transB: true, m: batch * height * width, n: cin, k: 9 * cout,
            a: dcol, lda: 9 * cout, b: kernel, ldb: 9 * cout, beta: accumulate ? 1 : 0, c: dinp,
            ldc: cin)
    }
}
