// Fitting a smaller board's observation planes into the networks' fixed 10×10 input, walls outside.

/// The fixed input geometry every policy network shares.
public enum PolicyGeometry {
    /// Boards are 10×10; smaller ones are padded with wall, larger ones refused.
    public static let boardSize = 10
    /// Cells on the board.
    public static let cells = boardSize * boardSize
    /// Up, down, left, right.
    public static let actionCount = 4
}

/// Writes observation planes into the networks' input layout.
public enum BoardInput {
    /// The planes of a `height × width` board (planes × height × width, row-major) as a
    /// planes × 10 × 10 input: the board in the top-left corner, every cell outside it marked as a
    /// wall (plane `wallPlane` set to 1, the others 0).
    public static func padded(
        planes: [Float], planeCount: Int, height: Int, width: Int, wallPlane: Int = 0
    ) throws -> [Float] {
        var out = [Float](repeating: 0, count: planeCount * PolicyGeometry.cells)
        try planes.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBufferPointer { dst in
                try write(
                    src, planeCount: planeCount, height: height, width: width, wallPlane: wallPlane,
                    into: dst.baseAddress!)
            }
        }
        return out
    }

    /// Checks a board size against the networks' input.
    public static func validate(height: Int, width: Int) throws {
        guard height > 0 && width > 0 else {
            throw PolicyError.invalidBoardSize(height: height, width: width)
        }
        let size = PolicyGeometry.boardSize
        guard height <= size && width <= size else {
            throw PolicyError.boardTooLarge(height: height, width: width, maximum: size)
        }
    }

    /// The padding kernel: writes planeCount × 10 × 10 floats at `out`.
    static func write(
        _ planes: UnsafeBufferPointer<Float>, planeCount: Int, height: Int, width: Int,
        wallPlane: Int, into out: UnsafeMutablePointer<Float>
    ) throws {
        try validate(height: height, width: width)
        guard wallPlane >= 0 && wallPlane < planeCount else {
            throw PolicyError.invalidConfiguration(
                "wall plane \(wallPlane) is not one of the \(planeCount) planes")
        }
        guard planes.count == planeCount * height * width else {
            throw PolicyError.planeCountMismatch(
                expected: planeCount * height * width, got: planes.count)
        }
        let size = PolicyGeometry.boardSize
        out.update(repeating: 0, count: planeCount * size * size)
        let wall = out + wallPlane * size * size
        for y in 0..<size {
            for x in 0..<size where y >= height || x >= width { wall[y * size + x] = 1 }
        }
        for p in 0..<planeCount {
            for y in 0..<height {
                for x in 0..<width {
                    out[(p * size + y) * size + x] = planes[(p * height + y) * width + x]
                }
            }
        }
    }
}
