// The one rule for $LASER_WORKERS that every module and command reads.
import Testing

@testable import Core

@Suite struct WorkersTests {
    @Test func theEnvironmentIsReadWithOneRule() throws {
        #expect(try Workers.fromEnvironment([:]) == nil)
        #expect(try Workers.fromEnvironment(["LASER_WORKERS": ""]) == nil)
        #expect(try Workers.fromEnvironment(["LASER_WORKERS": "3"]) == 3)
        #expect(try Workers.fromEnvironment(["LASER_WORKERS": "256"]) == 256)
        for bad in ["0", "257", "-1", "two", "2.5", " 2"] {
            #expect(throws: Workers.InvalidSetting.self, "\(bad)") {
                try Workers.fromEnvironment(["LASER_WORKERS": bad])
            }
        }
        #expect(
            "\(try #require(throws: Workers.InvalidSetting.self) { try Workers.fromEnvironment(["LASER_WORKERS": "lots"]) })"
                == "LASER_WORKERS='lots' is not a worker count in 1...256")
        #expect(Workers.range.contains(Workers.default))
    }
}
