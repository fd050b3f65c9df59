// libFuzzer harness: intervention specs LAYER:TYPE:RHO (Intervention(parsing:)).
// Checks the parsed fields against the type's invariants, then exercises description, format,
// keptRank, matches and a Codable round trip, and requires that the description parses back to
// the same intervention (FUZZ_ROUNDTRIP=0 turns that check off).
import Foundation
import FuzzSupport
import Laser
import LinearAlgebra


private func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    FuzzSupport.require(condition, "FuzzIntervention", message())
}

private let groups: [String: Set<String>] = ["mlp": ["fc_in", "fc_out"], "attn": ["q_proj", "k_proj"]]
private let shapes = [(1, 1), (1, 4096), (7, 3), (576, 2304), (4096, 11008)]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    let intervention: Intervention
    do { intervention = try Intervention(parsing: text) } catch {
        if fuzzDebug { print("error: \(error)") }
        return 0
    }
    if fuzzDebug { print("ok: \(intervention)") }
    let rho = intervention.rho
    require(rho > 0 && rho <= 1 && rho.isFinite, "rho \(rho) outside (0, 1]")
    require(!intervention.type.isEmpty && !intervention.type.contains(":"), "bad type")
    if case .index(let i) = intervention.layer { require(i >= 0, "negative layer \(i)") }
    let description = intervention.description
    _ = Intervention.format(rho)
    for (rows, columns) in shapes {
        let k = intervention.keptRank(rows: rows, columns: columns)
        require(k >= 1 && k <= min(rows, columns), "keptRank \(k) for \(rows)×\(columns)")
        let info = WeightMatrixInfo(
            name: "layers.0.\(intervention.type)", layer: 0, type: intervention.type,
            rows: rows, columns: columns)
        _ = intervention.matches(info, groups: groups)
    }
    if let data = try? JSONEncoder().encode(intervention) {
        let decoded = try? JSONDecoder().decode(Intervention.self, from: data)
        require(decoded == intervention, "Codable round trip changed \(description)")
    }
    if fuzzRoundTrip {
        let again = try? Intervention(parsing: description)
        require(again != nil, "description \(description.debugDescription) does not parse (input \(text.debugDescription))")
        require(
            again!.layer == intervention.layer && again!.type == intervention.type
                && abs(again!.rho - rho) <= 1e-6,
            "description \(description.debugDescription) parses to \(again!)")
    }
    return 0
}

// SwiftPM links executables with `--defsym main=FuzzIntervention_main`; this hands control to libFuzzer.
@_cdecl("FuzzIntervention_main")
public func harnessMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv) { fuzz($0, $1) }
}
