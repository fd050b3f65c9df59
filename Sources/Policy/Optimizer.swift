// Adam / AdamW over the flat parameter allocation, global-norm clipping, warm-up + cosine schedule.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Optimizer and schedule hyperparameters, in one place.
public struct OptimizerConfig: Codable, Sendable, Equatable {
    /// Peak learning rate (reached at the end of warm-up).
    public var learningRate: Float = 1e-3
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    /// Weight decay on weight matrices (never on biases, norms or embeddings).
    public var weightDecay: Float = 0.01
    /// AdamW (decay applied to the weights directly) when true; Adam with the decay added to the
    /// gradient (L2) when false.
    public var decoupledWeightDecay = true
    /// Clip the global gradient norm to this; nil for no clipping.
    public var maxGradientNorm: Float? = 1.0
    /// Steps of linear warm-up from 0 to `learningRate`.
    public var warmupSteps = 100
    /// Steps after which the cosine decay reaches its floor (and stays there).
    public var totalSteps = 10_000
    /// The floor of the cosine decay, as a fraction of `learningRate`.
    public var minimumLearningRateRatio: Float = 0.1

    public init() {}

    /// Throws `PolicyError.invalidConfiguration` for values outside their ranges.
    public func validate() throws {
        func fail(_ message: String) -> PolicyError { .invalidConfiguration(message) }
        guard learningRate.isFinite && learningRate > 0 else {
            throw fail("learning rate \(learningRate) must be positive")
        }
        guard beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 else {
            throw fail("betas must be in [0, 1)")
        }
        guard epsilon > 0 else { throw fail("epsilon must be positive") }
        guard weightDecay >= 0 else { throw fail("weight decay must not be negative") }
        if let norm = maxGradientNorm, !(norm > 0) {
            throw fail("gradient clip norm must be positive")
        }
        guard warmupSteps >= 0 && totalSteps >= 1 else {
            throw fail("step counts must be positive")
        }
        guard minimumLearningRateRatio >= 0 && minimumLearningRateRatio <= 1 else {
            throw fail("minimum learning-rate ratio must be in [0, 1]")
        }
    }

    /// The learning rate for a 0-based step: linear warm-up, then cosine decay to the floor.
    public func learningRate(atStep step: Int) -> Float {
        if step < warmupSteps { return learningRate * Float(step + 1) / Float(warmupSteps) }
        let span = max(1, totalSteps - warmupSteps)
        let progress = min(1, Float(step - warmupSteps) / Float(span))
        let floor = learningRate * minimumLearningRateRatio
        return floor + (learningRate - floor) * 0.5 * (1 + cosf(Float.pi * progress))
    }
}

/// Adam's moment estimates, laid out like the parameters.
final class AdamState {
    let m: FloatBuffer
    let v: FloatBuffer

    init(count: Int) {
        m = FloatBuffer(count: count)
        v = FloatBuffer(count: count)
    }

    /// One update of every parameter at `step` (1-based for bias correction).
    func update(
        parameters: ParameterStore, gradients: FloatBuffer, config: OptimizerConfig,
        learningRate lr: Float, gradientScale: Float, step: Int
    ) {
        let b1 = config.beta1
        let b2 = config.beta2
        let eps = config.epsilon
        let correction1 = 1 - powf(b1, Float(step))
        let correction2 = 1 - powf(b2, Float(step))
        for info in parameters.infos {
            let p = parameters.values.at(info.offset)
            let g = gradients.at(info.offset)
            let m = self.m.at(info.offset)
            let v = self.v.at(info.offset)
            let decay = info.decays ? config.weightDecay : 0
            let coupled = config.decoupledWeightDecay ? 0 : decay
            let decoupled = config.decoupledWeightDecay ? decay : 0
            for i in 0..<info.count {
                let grad = g[i] * gradientScale + coupled * p[i]
                m[i] = b1 * m[i] + (1 - b1) * grad
                v[i] = b2 * v[i] + (1 - b2) * grad * grad
                let mHat = m[i] / correction1
                let vHat = v[i] / correction2
                p[i] -= lr * (mHat / (vHat.squareRoot() + eps) + decoupled * p[i])
            }
        }
    }
}
