// Durations as seconds, the unit every report and time limit here is in.

extension Duration {
    /// The duration in seconds.
    public var inSeconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) * 1e-18
    }
}
