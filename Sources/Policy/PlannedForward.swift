// What the two architectures share: contexts sized by a plan of offsets, a linear layer that
// multiplies through LASER's factors when its matrix is reduced, the forward and backward drivers
// that split a batch over the workers, and their sizes as checkpoint metadata.
import Core
import Foundation
import Laser
import LinearAlgebra

/// Where a batch's activations and gradients live in a context's buffers.
protocol NetworkPlan {
    var activationCount: Int { get }
    var gradientCount: Int { get }
}

/// A network whose passes run per slice of the batch over a precomputed plan of offsets.
protocol PlannedForward: PolicyNetwork {
    associatedtype Plan: NetworkPlan
    var reducible: ReducibleParameters { get }
    /// The offsets of a batch of `capacity` samples.
    func makePlan(capacity: Int) -> Plan
    /// Work a forward pass needs once per batch, before it is split (default: none).
    func prepareForward(_ context: PolicyContext, plan: Plan)
    /// The forward pass of samples `samples` (one worker's share of the batch).
    func forward(_ context: PolicyContext, plan: Plan, samples: Range<Int>)
    /// The backward pass of samples `samples`, adding parameter gradients into `grads` (the
    /// worker's own buffer); `arena` holds the activation gradients.
    func backward(
        _ context: PolicyContext, plan: Plan, samples: Range<Int>, worker: Int,
        arena: FloatBuffer, into grads: FloatBuffer)
}

extension PlannedForward {
    func prepareForward(_ context: PolicyContext, plan: Plan) {}

    // MARK: ReducibleModel, through the matrices the network exposes

    public var reducibleMatrices: [WeightMatrixInfo] { reducible.infos }
    public func weightMatrix(named name: String) throws -> Tensor {
        try reducible.matrix(named: name, in: parameters)
    }
    public func setWeightMatrix(named name: String, to value: WeightValue) throws {
        try reducible.setMatrix(named: name, to: value, in: parameters)
    }
    /// Names of the matrices currently held in factored form.
    public var reducedMatrixNames: [String] { reducible.reducedNames }
    public func factors(ofMatrix name: String) -> FactoredMatrix? {
        reducible.factors(named: name)
    }

    // MARK: PolicyNetwork's passes, split over the workers

    public func makeContext(batchCapacity: Int) -> PolicyContext {
        plannedContext(batchCapacity: batchCapacity)
    }
    public func forward(_ context: PolicyContext, batch: Int) {
        forwardBatch(context, batch: batch)
    }
    public func backward(_ context: PolicyContext, gradients: ParameterGradients) {
        backwardBatch(context, gradients: gradients)
    }

    /// out = inp · Wᵀ + b for `layer` over `rows` rows, through the factors when LASER reduced W.
    func linear(
        _ out: FloatPointer, _ inp: ConstFloatPointer, _ layer: LayerOffsets, rows: Int, ic: Int,
        oc: Int, scratch: FloatPointer
    ) {
        let values = parameters.values
        LinearKernels.forward(
            out, inp, values.at(layer.weight), values.at(layer.bias), n: rows, ic: ic, oc: oc,
            reduced: layer.matrix.flatMap { reducible.reduced[$0] }, scratch: scratch)
    }

    /// A context whose buffers hold a batch of `batchCapacity` samples.
    func plannedContext(batchCapacity: Int) -> PolicyContext {
        precondition(batchCapacity >= 1, "batch capacity must be positive")
        let plan = makePlan(capacity: batchCapacity)
        return PolicyContext(
            owner: self, batchCapacity: batchCapacity, planeCount: planeCount,
            activationCount: plan.activationCount, gradientCount: plan.gradientCount, plan: plan)
    }

    /// Backpropagates the context's last batch: slices over its workers, each adding into its
    /// own gradient buffer, then the buffers summed into `gradients`.
    func backwardBatch(_ context: PolicyContext, gradients: ParameterGradients) {
        precondition(context.owner == ObjectIdentifier(self), "context belongs to another model")
        precondition(gradients.store === parameters, "gradients belong to another model")
        let plan = context.plan as! Plan
        let arena = context.gradients()
        let targets = context.workerGradients(batch: context.batch, main: gradients.buffer)
        Parallel.split(context.batch, limit: context.maximumWorkers) { samples, worker in
            for chunk in Parallel.chunks(samples) {
                backward(
                    context, plan: plan, samples: chunk, worker: worker, arena: arena,
                    into: targets[worker])
            }
        }
        context.reduceWorkerGradients(targets)
    }

    /// Runs the whole batch: slices over the context's workers, each in cache-sized chunks.
    func forwardBatch(_ context: PolicyContext, batch: Int) {
        precondition(context.owner == ObjectIdentifier(self), "context belongs to another model")
        precondition(batch >= 1 && batch <= context.batchCapacity, "batch outside the context")
        let plan = context.plan as! Plan
        context.batch = batch
        prepareForward(context, plan: plan)
        Parallel.split(batch, limit: context.maximumWorkers) { samples, _ in
            for chunk in Parallel.chunks(samples) { forward(context, plan: plan, samples: chunk) }
        }
    }
}

/// The sizes of an architecture as checkpoint metadata (`hp.KEY` strings, snake_case keys), through
/// the config's Codable form, so a config's fields are listed once.
enum Hyperparameters {
    static func strings(_ config: some Encodable) -> [String: String] {
        guard let data = try? JSONEncoding.data(config, style: .snakeCaseKeys),
            let fields = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [:] }
        return fields.mapValues { "\($0)" }
    }

    /// The config `strings` gave (then validated by the caller); every field must be present and
    /// an integer.
    static func config<Config: Decodable>(
        _ type: Config.Type, from strings: [String: String], architecture: String
    ) throws -> Config {
        var fields: [String: Int] = [:]
        for (key, text) in strings {
            guard let value = Int(text) else {
                throw PolicyError.invalidCheckpoint(
                    "\(architecture) hyperparameter '\(key)' is not an integer ('\(text)')")
            }
            fields[key] = value
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(
                Config.self, from: JSONSerialization.data(withJSONObject: fields))
        } catch DecodingError.keyNotFound(let key, _) {
            let snake = key.stringValue.reduce(into: "") { out, c in
                out += c.isUppercase ? "_" + c.lowercased() : String(c)
            }
            throw PolicyError.invalidCheckpoint(
                "\(architecture) hyperparameter '\(snake)' is missing")
        }
    }
}
