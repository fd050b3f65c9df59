// The eight symmetries of a square board (rotations and reflections) acting on boards and actions:
// a free 8× augmentation of every demonstration.

/// One of the eight symmetries of the 10×10 board (the dihedral group D4).
public struct BoardSymmetry: Sendable, Equatable {
    /// 0 is the identity; 1...3 rotate by 90°, 180°, 270°; 4...7 reflect.
    public let index: Int
    /// `sourceCell[c]`: the cell of the original board that lands on cell `c`.
    let sourceCell: [Int]
    /// `action[a]`: the action that does on the transformed board what `a` does on the original.
    public let action: [Int]

    /// All eight, the identity first.
    public static let all: [BoardSymmetry] = (0..<8).map { BoardSymmetry(index: $0) }

    static let size = AgentGeometry.boardSize

    /// Where cell (y, x) of the original goes.
    static func map(_ index: Int, _ y: Int, _ x: Int) -> (Int, Int) {
        let m = size - 1
        switch index {
        case 0: return (y, x)
        case 1: return (x, m - y)
        case 2: return (m - y, m - x)
        case 3: return (m - x, y)
        case 4: return (y, m - x)
        case 5: return (m - y, x)
        case 6: return (x, y)
        default: return (m - x, m - y)
        }
    }

    private init(index: Int) {
        self.index = index
        let n = Self.size
        var source = [Int](repeating: 0, count: n * n)
        for y in 0..<n {
            for x in 0..<n {
                let (ty, tx) = Self.map(index, y, x)
                source[ty * n + tx] = y * n + x
            }
        }
        sourceCell = source
        // A direction is the difference of two neighbouring cells' images.
        let deltas = [(-1, 0), (1, 0), (0, -1), (0, 1)]  // up, down, left, right
        let (cy, cx) = Self.map(index, 4, 4)
        action = deltas.map { d in
            let (ty, tx) = Self.map(index, 4 + d.0, 4 + d.1)
            return deltas.firstIndex { $0 == (ty - cy, tx - cx) }!
        }
    }

    /// Writes a board of cell codes (100 bytes, one `ObservationPlane` raw value per cell, with
    /// `AgentGeometry.trailCode` on trail cells) as one-hot planes (planes × 10 × 10 floats) at
    /// `out`, transformed by this symmetry. With one plane more than the one-hot encoding's, the
    /// last is the trail.
    func writePlanes(
        codes: UnsafePointer<UInt8>, planeCount: Int, into out: UnsafeMutablePointer<Float>
    ) {
        let cells = Self.size * Self.size
        let trail = planeCount > AgentGeometry.planeCount
        out.update(repeating: 0, count: planeCount * cells)
        sourceCell.withUnsafeBufferPointer { source in
            for c in 0..<cells {
                let code = codes[source[c]]
                out[Int(code & ~AgentGeometry.trailCode) * cells + c] = 1
                if trail && code & AgentGeometry.trailCode != 0 {
                    out[AgentGeometry.planeCount * cells + c] = 1
                }
            }
        }
    }

    /// Writes float planes (planes × 10 × 10, as the environment gives them) transformed by this
    /// symmetry: the view of the same position that `writePlanes` gives from cell codes.
    func transformPlanes(
        _ from: UnsafePointer<Float>, planeCount: Int, into to: UnsafeMutablePointer<Float>
    ) {
        let cells = Self.size * Self.size
        sourceCell.withUnsafeBufferPointer { source in
            for p in 0..<planeCount {
                for c in 0..<cells { to[p * cells + c] = from[p * cells + source[c]] }
            }
        }
    }
}
