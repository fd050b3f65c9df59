// A set of the four actions, as supervised targets: every action that is as good as the best one
// (the solver's demonstrations often leave two equally short ways to walk to the next push).

/// A subset of the four actions (bit `a` set when action `a` belongs).
public struct ActionSet: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8

    public init(rawValue: UInt8) { self.rawValue = rawValue & 0b1111 }

    /// The set holding only `action` (0..<4).
    public init(action: Int) {
        precondition(
            action >= 0 && action < PolicyGeometry.actionCount, "action \(action) is not in 0..<4")
        rawValue = 1 << UInt8(action)
    }

    /// Whether `action` belongs.
    public func contains(action: Int) -> Bool {
        action >= 0 && action < 4 && rawValue & (1 << UInt8(action)) != 0
    }

    /// The actions in the set, in increasing order.
    public var actions: [Int] { (0..<PolicyGeometry.actionCount).filter { contains(action: $0) } }
}
