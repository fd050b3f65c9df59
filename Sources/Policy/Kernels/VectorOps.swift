// Reductions in 8-wide SIMD: the compiler will not reorder float sums itself, so these do it
// explicitly (the order differs from a sequential sum by rounding only).

enum VectorOps {
    @inline(__always)
    private static func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// Σ p[i].
    @inline(__always)
    static func sum(_ p: UnsafePointer<Float>, count n: Int) -> Float {
        var acc = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= n {
            acc += load(p, i)
            i += 8
        }
        var total = acc.sum()
        while i < n {
            total += p[i]
            i += 1
        }
        return total
    }

    /// Σ a[i]·b[i].
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) -> Float {
        var acc = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= n {
            acc += load(a, i) * load(b, i)
            i += 8
        }
        var total = acc.sum()
        while i < n {
            total += a[i] * b[i]
            i += 1
        }
        return total
    }

    /// Σ (p[i] − c)².
    @inline(__always)
    static func squaredDeviation(_ p: UnsafePointer<Float>, from c: Float, count n: Int) -> Float {
        var acc = SIMD8<Float>(repeating: 0)
        let center = SIMD8<Float>(repeating: c)
        var i = 0
        while i + 8 <= n {
            let d = load(p, i) - center
            acc += d * d
            i += 8
        }
        var total = acc.sum()
        while i < n {
            total += (p[i] - c) * (p[i] - c)
            i += 1
        }
        return total
    }

    /// max p[i] (n ≥ 1), over four independent lanes.
    @inline(__always)
    static func maximum(_ p: UnsafePointer<Float>, count n: Int) -> Float {
        var m0 = p[0]
        var m1 = p[0]
        var m2 = p[0]
        var m3 = p[0]
        var i = 0
        while i + 4 <= n {
            m0 = p[i] > m0 ? p[i] : m0
            m1 = p[i + 1] > m1 ? p[i + 1] : m1
            m2 = p[i + 2] > m2 ? p[i + 2] : m2
            m3 = p[i + 3] > m3 ? p[i + 3] : m3
            i += 4
        }
        while i < n {
            m0 = p[i] > m0 ? p[i] : m0
            i += 1
        }
        let a = m0 > m1 ? m0 : m1
        let b = m2 > m3 ? m2 : m3
        return a > b ? a : b
    }
}
