// Sample-major regions of a workspace: each worker of a batch split finds its samples by offset.

/// A region holding `perSample` floats for each sample of the batch capacity.
struct SampleSpan {
    let offset: Int
    let perSample: Int

    /// Pointer to sample `sample`'s first float in `buffer`.
    @inline(__always) func at(_ buffer: FloatBuffer, _ sample: Int = 0) -> FloatPointer {
        buffer.at(offset + sample * perSample)
    }
}

/// Lays out spans one after another, each 16-float aligned.
struct ArenaLayout {
    let capacity: Int
    private(set) var count = 0

    init(capacity: Int) { self.capacity = capacity }

    mutating func take(_ perSample: Int) -> SampleSpan {
        let span = SampleSpan(offset: count, perSample: perSample)
        count += (perSample * capacity + 15) / 16 * 16
        return span
    }

    /// A region not split by sample (per-worker scratch), of `count` floats.
    mutating func takeFixed(_ floats: Int) -> SampleSpan {
        let span = SampleSpan(offset: count, perSample: 0)
        count += (floats + 15) / 16 * 16
        return span
    }
}
