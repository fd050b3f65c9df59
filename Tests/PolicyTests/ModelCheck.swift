// Shared whole-model checks: float32 forward against a float64 reference, and every parameter's
// gradient against central differences of that reference.
import Core
import Foundation
import LinearAlgebra
import Testing

@testable import Policy

/// A float64 forward pass from exported parameters and observations to (logits, values).
typealias ReferenceForward = (_ parameters: [String: [Double]], _ observations: [Double]) -> (
    logits: [Double], values: [Double]
)

func exportedParameters(_ model: any PolicyNetwork) throws -> [String: [Double]] {
    var out: [String: [Double]] = [:]
    for info in model.parameters.infos {
        out[info.name] = try model.parameters.tensor(named: info.name).scalars.map(Double.init)
    }
    return out
}

/// Checks the forward pass against the reference and every parameter gradient of the loss
/// Σ logits·r₁ + Σ values·r₂ against float64 central differences. The input is
/// `observations(rng)` (`batch` samples), or random one-hot boards without it.
func checkModel(
    _ model: any PolicyNetwork, batch: Int, reference: ReferenceForward, seed: UInt64,
    samplesPerTensor: Int = 10,
    observations makeObservations: ((inout SplitMix64) -> [Float])? = nil
) throws {
    var rng = SplitMix64(seed: seed)
    let observations =
        makeObservations?(&rng)
        ?? randomObservations(batch: batch, planes: model.planeCount, rng: &rng)
    let context = model.makeContext(batchCapacity: batch)
    try context.setObservations(observations, batch: batch)
    model.forward(context, batch: batch)
    var logits: [Float] = []
    var values: [Float] = []
    context.copyOutputs(logits: &logits, values: &values)

    let parameters = try exportedParameters(model)
    let obs64 = observations.map(Double.init)
    let expected = reference(parameters, obs64)
    let forwardError = zip(
        logits.map(Double.init) + values.map(Double.init), expected.logits + expected.values
    )
    .map { abs($0 - $1) }.max()!
    #expect(forwardError < 1e-4, "forward differs from the float64 reference by \(forwardError)")

    let r1 = randomValues(batch * 4, rng: &rng)
    let r2 = randomValues(batch, rng: &rng)
    try context.setOutputGradients(logits: r1, values: r2)
    let gradients = model.makeGradients()
    model.backward(context, gradients: gradients)

    let w1 = r1.map(Double.init)
    let w2 = r2.map(Double.init)
    for info in model.parameters.infos {
        let analytic = try gradients.tensor(named: info.name).scalars.map(Double.init)
        let indices =
            info.count <= samplesPerTensor
            ? Array(0..<info.count)
            : (0..<samplesPerTensor).map { _ in Int(rng.next() % UInt64(info.count)) }
        let numeric = numericGradient(at: parameters[info.name]!, indices: indices) { perturbed in
            var p = parameters
            p[info.name] = perturbed
            let out = reference(p, obs64)
            return Reference.dot(out.logits, w1) + Reference.dot(out.values, w2)
        }
        let picked = indices.map { analytic[$0] }
        let error = relativeError(picked, numeric)
        // A gradient that is exactly zero in theory (the key bias: softmax ignores a per-row
        // constant) leaves only rounding noise on both sides; compare those absolutely.
        let largest = zip(picked, numeric).map { abs($0 - $1) }.max() ?? 0
        #expect(error < 1e-3 || largest < 1e-6, "gradient of \(info.name): relative error \(error)")
    }
}
