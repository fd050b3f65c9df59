// Short names for the raw float pointers every kernel takes (kernels only; never public API).

typealias FloatPointer = UnsafeMutablePointer<Float>
typealias ConstFloatPointer = UnsafePointer<Float>
