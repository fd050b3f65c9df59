// One owned, zero-initialised Float32 allocation: parameters, gradients, optimizer moments, workspaces.

/// A fixed-size block of floats owned by a class so kernels can take stable pointers into it.
/// Internal: unsafe pointers never leave the module's kernels.
final class FloatBuffer: @unchecked Sendable {
    let count: Int
    let pointer: UnsafeMutablePointer<Float>

    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }

    /// Pointer to element `offset`.
    @inline(__always) func at(_ offset: Int) -> UnsafeMutablePointer<Float> { pointer + offset }

    func zero() { pointer.update(repeating: 0, count: count) }

    func copy(from other: FloatBuffer) {
        precondition(other.count == count)
        pointer.update(from: other.pointer, count: count)
    }

    var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
