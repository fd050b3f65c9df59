// The append-only JSONL log of a search: every finished evaluation, so a killed run resumes.
import Core
import Foundation
import LinearAlgebra

#if canImport(Glibc)
    import Glibc
#endif

/// One finished evaluation.
public struct SweepRecord: Codable, Sendable, Equatable {
    /// What produced the record: `baseline`, `sweep` (a grid point), `greedy` (a composition step).
    public let phase: String
    /// Position within its phase (grid index, greedy step), for a canonical order.
    public let order: Int
    public let split: Split
    /// Interventions in `LAYER:TYPE:RHO` form, in application order (empty for the baseline).
    public let interventions: [String]
    public let metrics: Metrics
    /// Total parameters of the reduced matrices before and after (factored form).
    public let parametersBefore: Int
    public let parametersAfter: Int
    /// Wall-clock seconds the evaluation took (not part of the identity of a result).
    public let seconds: Double
    /// What was evaluated: the model file's fingerprint and the evaluation's data and settings
    /// (set by the store that writes the record; nil in logs written before it existed).
    public var setup: String?
    /// Per-item scores by metric, in item order (0/1 for a rate), so any two results on the same
    /// split can be compared item by item (nil in logs written before they were kept).
    public var items: [String: [Double]]?

    /// The identity of a result: what was evaluated, on which split.
    public var key: String { Self.key(interventions: interventions, split: split) }

    public static func key(interventions: [String], split: Split) -> String {
        (interventions.isEmpty ? "baseline" : interventions.joined(separator: "+")) + "@"
            + split.rawValue
    }

    /// Equal apart from timing.
    public func sameResult(as other: SweepRecord) -> Bool {
        phase == other.phase && order == other.order && split == other.split
            && interventions == other.interventions && metrics == other.metrics
            && parametersBefore == other.parametersBefore
            && parametersAfter == other.parametersAfter
            && setup == other.setup && items == other.items
    }
}

/// A JSONL file of `SweepRecord`s, appended one whole line per write and re-read on resume.
public final class ResultStore {
    public let path: String
    /// The setup every record of this log belongs to (nil: not checked).
    public let setup: String?
    public private(set) var records: [SweepRecord] = []
    private var byKey: [String: Int] = [:]

    /// Opens (or creates) the log. A torn final line, left by a kill mid-write, is dropped and the
    /// file truncated to the last whole line; any other unreadable line is an error. With `setup`,
    /// a log holding results of another setup (another checkpoint, other levels) is refused rather
    /// than silently resumed, and records appended are stamped with it.
    public init(path: String, setup: String? = nil) throws {
        self.path = path
        self.setup = setup
        if FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw LaserError.io("cannot read results file \(path)")
            }
            var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            let complete = data.last == UInt8(ascii: "\n") || data.isEmpty
            if !complete {
                lines.removeLast()
                let keep = lines.reduce(0) { $0 + $1.count + 1 }
                truncate(path, off_t(keep))
            }
            let decoder = JSONDecoder()
            for (i, line) in lines.enumerated() where !line.isEmpty {
                do {
                    let record = try decoder.decode(SweepRecord.self, from: Data(line))
                    remember(record)
                } catch {
                    throw LaserError.corruptResults(
                        path: path, line: i + 1, reason: "not a sweep record")
                }
            }
            if let setup, let other = records.first(where: { $0.setup != setup }) {
                throw LaserError.io(
                    "\(path) holds results of another setup (\(other.setup ?? "unrecorded")); this run is \(setup): give another --out-dir or --results, or delete the log"
                )
            }
        }
    }

    private func remember(_ record: SweepRecord) {
        if let i = byKey[record.key] {
            records[i] = record
        } else {
            byKey[record.key] = records.count
            records.append(record)
        }
    }

    /// The stored result for a key, if any.
    public func record(for key: String) -> SweepRecord? { byKey[key].map { records[$0] } }

    /// Appends a record as one line and flushes it to disk before returning.
    public func append(_ record: SweepRecord) throws {
        var record = record
        if let setup { record.setup = setup }
        var line = try JSONEncoding.data(record)
        line.append(UInt8(ascii: "\n"))
        do { try AppendLog.append(line, to: path) } catch FileError.cannotWrite(_, let reason) {
            throw LaserError.io("cannot write results file \(path): \(reason)")
        }
        remember(record)
    }

    /// Joins shard logs into one, in canonical order (phase, order, split); the same key with
    /// different results in two inputs is an error.
    public static func merge(_ inputs: [String], into output: String) throws -> Int {
        var merged: [String: SweepRecord] = [:]
        for input in inputs {
            guard FileManager.default.fileExists(atPath: input) else {
                throw LaserError.io("no results file \(input)")
            }
            for r in try ResultStore(path: input).records {
                if let first = merged.values.first, first.setup != r.setup {
                    throw LaserError.io(
                        "\(input): results of another setup (\(r.setup ?? "unrecorded") vs \(first.setup ?? "unrecorded"))"
                    )
                }
                if let existing = merged[r.key], !existing.sameResult(as: r) {
                    throw LaserError.io(
                        "\(input): result for \(r.key) differs from another shard's")
                }
                merged[r.key] = merged[r.key] ?? r
            }
        }
        let phaseRank = ["baseline": 0, "sweep": 1, "greedy": 2]
        let sorted = merged.values.sorted {
            (phaseRank[$0.phase] ?? 3, $0.order, $0.split.rawValue, $0.key) < (
                phaseRank[$1.phase] ?? 3, $1.order, $1.split.rawValue, $1.key
            )
        }
        var text = ""
        for r in sorted { text += try JSONEncoding.string(r) + "\n" }
        try AtomicFile.write(string: text, to: output)
        return sorted.count
    }
}
