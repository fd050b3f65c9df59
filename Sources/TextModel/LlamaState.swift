// A running sequence's state: the key/value cache of every layer.

/// The key/value cache of one sequence. Create one with `LlamaModel.makeState`; `truncate(to:)`
/// rewinds it (for example to re-use a prompt's cache for another continuation).
public final class LlamaState {
    /// Most tokens the sequence can hold.
    public let capacity: Int
    /// Tokens processed so far (the position of the next token).
    public private(set) var length = 0

    let layers: Int
    let kvDim: Int
    /// (layers, capacity, kvDim) keys and values, RoPE already applied to the keys.
    let keys: UnsafeMutablePointer<Float>
    let values: UnsafeMutablePointer<Float>

    init(config: LlamaConfig, capacity: Int) {
        self.capacity = capacity
        layers = config.layers
        kvDim = config.kvDim
        let count = config.layers * capacity * config.kvDim
        keys = .allocate(capacity: count)
        values = .allocate(capacity: count)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Forgets every token after the first `n`.
    public func truncate(to n: Int) {
        precondition(n >= 0 && n <= length, "cannot truncate a sequence of \(length) to \(n)")
        length = n
    }

    public func reset() { length = 0 }

    func advance(by n: Int) { length += n }

    /// Key rows of `layer` (capacity × kvDim).
    @inline(__always)
    func keys(layer: Int) -> UnsafeMutablePointer<Float> { keys + layer * capacity * kvDim }

    @inline(__always)
    func values(layer: Int) -> UnsafeMutablePointer<Float> { values + layer * capacity * kvDim }
}
