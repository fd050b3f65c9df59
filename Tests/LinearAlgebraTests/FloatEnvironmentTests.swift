// Flushing subnormals: after the call, this thread's arithmetic neither produces nor reads them;
// keeping them restores IEEE gradual underflow.
import Foundation
import Testing

@testable import LinearAlgebra

/// Opaque to the optimizer, so the products happen at run time.
@inline(never) func halve(_ x: Float) -> Float { x * 0.5 }
@inline(never) func double(_ x: Float) -> Float { x * 2 }

/// A result handed from a thread to the one waiting for it.
final class ThreadResult<T>: @unchecked Sendable { var value: T? }

/// Runs `body` on a new thread of its own (the mode is per thread) and returns its result.
func onNewThread<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
    let box = ThreadResult<T>()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        box.value = body()
        done.signal()
    }
    thread.start()
    done.wait()
    return box.value!
}

@Suite struct FloatEnvironmentTests {
    @Test(.enabled(if: FloatEnvironment.isSupported))
    func subnormalsBecomeZeroWhenFlushed() {
        let tiny = Float.leastNormalMagnitude
        let subnormal = Float(bitPattern: 1)  // the smallest subnormal
        let untouched = onNewThread {
            // A new thread inherits its creator's mode, which an earlier test may have set.
            FloatEnvironment.keepSubnormals()
            return (FloatEnvironment.flushesSubnormals, halve(tiny), double(subnormal))
        }
        #expect(!untouched.0)
        #expect(untouched.1.isSubnormal && untouched.2.isSubnormal)
        let flushed = onNewThread { () -> (Bool, Float, Float, Float) in
            FloatEnvironment.flushSubnormals()
            return (FloatEnvironment.flushesSubnormals, halve(tiny), double(subnormal), halve(3))
        }
        #expect(flushed.0)
        #expect(flushed.1 == 0, "a result below the normal range is flushed")
        #expect(flushed.2 == 0, "a subnormal input reads as zero")
        #expect(flushed.3 == 1.5)
        let scoped = onNewThread { () -> (Bool, Float, Bool) in
            FloatEnvironment.keepSubnormals()
            let inside = FloatEnvironment.withSubnormalsFlushed {
                (FloatEnvironment.flushesSubnormals, halve(tiny))
            }
            return (inside.0, inside.1, FloatEnvironment.flushesSubnormals)
        }
        #expect(scoped.0 && scoped.1 == 0)
        #expect(!scoped.2, "the thread's mode is restored after the scope")
    }
}
