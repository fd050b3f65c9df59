// All of a model's parameters in one contiguous allocation, with a named view for each tensor.
import LinearAlgebra

/// One named parameter tensor: where it lives in the flat allocation and its checkpoint shape.
public struct ParameterInfo: Sendable, Equatable {
    /// Stable name, the same in checkpoints and in LASER (`blocks.3.conv1.weight`).
    public let name: String
    /// Shape as exported to checkpoints (PyTorch's: a conv kernel is out × in × kh × kw).
    public let shape: [Int]
    /// Number of elements.
    public let count: Int
    /// Whether decoupled weight decay applies (weight matrices; not biases, norms or embeddings).
    public let decays: Bool
    /// Offset of the first element in the flat allocation.
    let offset: Int
    /// A conv kernel is stored out × kh × kw × in so im2col copies channels contiguously;
    /// it is exported (and reduced) in PyTorch's out × in × kh × kw order.
    let isConvKernel: Bool
}

/// Builds the flat layout: offsets are 16-float aligned so every view starts on a cache line.
struct ParameterLayout {
    private(set) var infos: [ParameterInfo] = []
    private(set) var total = 0

    /// Adds a tensor and returns its offset.
    @discardableResult
    mutating func add(
        _ name: String, _ shape: [Int], decays: Bool = false, convKernel: Bool = false
    )
        -> Int
    {
        precondition(!infos.contains { $0.name == name }, "duplicate parameter \(name)")
        let count = shape.reduce(1, *)
        let offset = total
        infos.append(
            ParameterInfo(
                name: name, shape: shape, count: count, decays: decays, offset: offset,
                isConvKernel: convKernel))
        total += (count + 15) / 16 * 16
        return offset
    }
}

/// A model's parameters: one allocation (`values`) and named views into it.
public final class ParameterStore: @unchecked Sendable {
    /// Every parameter in layout order.
    public let infos: [ParameterInfo]
    /// Floats in the allocation (including alignment padding).
    public let allocatedCount: Int
    let values: FloatBuffer
    private let indexByName: [String: Int]

    init(layout: ParameterLayout) {
        infos = layout.infos
        allocatedCount = layout.total
        values = FloatBuffer(count: layout.total)
        var index: [String: Int] = [:]
        for (i, info) in layout.infos.enumerated() { index[info.name] = i }
        indexByName = index
    }

    /// Number of trainable scalars (padding excluded).
    public var parameterCount: Int { infos.reduce(0) { $0 + $1.count } }

    /// The info for a name, or `PolicyError.unknownParameter`.
    public func info(named name: String) throws -> ParameterInfo {
        guard let i = indexByName[name] else { throw PolicyError.unknownParameter(name) }
        return infos[i]
    }

    /// Offset of a parameter the model itself declared (a programmer error if missing).
    func offset(of name: String) -> Int {
        guard let i = indexByName[name] else { preconditionFailure("no parameter \(name)") }
        return infos[i].offset
    }

    /// The parameter's values in its exported shape.
    public func tensor(named name: String) throws -> Tensor {
        let info = try info(named: name)
        return Tensor(shape: info.shape, scalars: ParameterStore.export(info, from: values))
    }

    /// Replaces a parameter; the shape must equal the exported shape.
    public func setTensor(named name: String, to tensor: Tensor) throws {
        let info = try info(named: name)
        guard tensor.shape == info.shape else {
            throw PolicyError.shapeMismatch(name: name, expected: info.shape, got: tensor.shape)
        }
        ParameterStore.import(info, tensor.scalars, into: values)
    }

    /// Copies a view of any buffer laid out like the parameters (gradients, Adam moments) out in
    /// exported order.
    static func export(_ info: ParameterInfo, from buffer: FloatBuffer) -> [Float] {
        let src = buffer.at(info.offset)
        guard info.isConvKernel else {
            return Array(UnsafeBufferPointer(start: src, count: info.count))
        }
        let (o, i, kh, kw) = (info.shape[0], info.shape[1], info.shape[2], info.shape[3])
        var out = [Float](repeating: 0, count: info.count)
        for a in 0..<o {
            for k in 0..<(kh * kw) {
                for c in 0..<i { out[(a * i + c) * kh * kw + k] = src[(a * kh * kw + k) * i + c] }
            }
        }
        return out
    }

    /// Writes exported-order scalars into a view of a buffer laid out like the parameters.
    static func `import`(_ info: ParameterInfo, _ scalars: [Float], into buffer: FloatBuffer) {
        precondition(scalars.count == info.count)
        let dst = buffer.at(info.offset)
        guard info.isConvKernel else {
            scalars.withUnsafeBufferPointer { dst.update(from: $0.baseAddress!, count: info.count) }
            return
        }
        let (o, i, kh, kw) = (info.shape[0], info.shape[1], info.shape[2], info.shape[3])
        for a in 0..<o {
            for k in 0..<(kh * kw) {
                for c in 0..<i {
                    dst[(a * kh * kw + k) * i + c] = scalars[(a * i + c) * kh * kw + k]
                }
            }
        }
    }

    /// Column permutation from exported conv order (c·kk + k) to stored order (k·in + c), for
    /// moving a LASER factor's right matrix into the stored layout.
    static func storedColumns(of info: ParameterInfo) -> [Int] {
        guard info.isConvKernel else { return Array(0..<(info.count / info.shape[0])) }
        let i = info.shape[1]
        let kk = info.shape[2] * info.shape[3]
        var map = [Int](repeating: 0, count: i * kk)
        for c in 0..<i { for k in 0..<kk { map[k * i + c] = c * kk + k } }
        return map  // stored column j holds exported column map[j]
    }
}
