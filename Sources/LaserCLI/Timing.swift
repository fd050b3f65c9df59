// Durations as seconds for the CLI's measurements.

extension Duration {
    /// The duration in seconds.
    var inSeconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) * 1e-18
    }
}
