// Errors of the Policy module: each says what is wrong in a sentence a person understands.

/// A problem with policy inputs, checkpoints or training state.
public enum PolicyError: Error, CustomStringConvertible, Equatable {
    /// A board larger than the networks' fixed 10×10 input.
    case boardTooLarge(height: Int, width: Int, maximum: Int)
    /// A board with a non-positive side.
    case invalidBoardSize(height: Int, width: Int)
    /// Observation planes whose element count does not match planes × height × width.
    case planeCountMismatch(expected: Int, got: Int)
    /// A batch that does not fit the context or whose arrays have the wrong length.
    case invalidBatch(String)
    /// A hyperparameter outside its valid range.
    case invalidConfiguration(String)
    /// A name that is not a parameter of the model.
    case unknownParameter(String)
    /// A tensor whose shape differs from what the architecture needs.
    case shapeMismatch(name: String, expected: [Int], got: [Int])
    /// A checkpoint that cannot be used, with the reason.
    case invalidCheckpoint(String)

    public var description: String {
        switch self {
        case .boardTooLarge(let h, let w, let maximum):
            return "board of \(h)×\(w) is larger than the networks' \(maximum)×\(maximum) input"
        case .invalidBoardSize(let h, let w):
            return "invalid board size \(h)×\(w): both sides must be positive"
        case .planeCountMismatch(let expected, let got):
            return "observation has \(got) floats, expected \(expected) (planes × height × width)"
        case .invalidBatch(let message):
            return "invalid batch: \(message)"
        case .invalidConfiguration(let message):
            return "invalid policy configuration: \(message)"
        case .unknownParameter(let name):
            return "no parameter named '\(name)' in this policy"
        case .shapeMismatch(let name, let expected, let got):
            return "parameter '\(name)' has shape \(got), the architecture needs \(expected)"
        case .invalidCheckpoint(let message):
            return "invalid policy checkpoint: \(message)"
        }
    }
}

/// Bounds on what a policy network may be.
public enum PolicyLimits {
    /// The most parameters a policy network may have (400 MB as Float32, 1.2 GB with Adam's
    /// moments): far beyond what is trained here, small enough that a hostile checkpoint cannot
    /// make the tool allocate without bound.
    public static let maximumParameters = 100_000_000
}
