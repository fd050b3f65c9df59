// What a training run leaves behind besides its weights: a JSON-lines log, and the run's state as
// one JSON object in its checkpoint's metadata, which is what a resumed run reads back.
import Core
import Foundation
import LinearAlgebra
import Policy

/// An append-only JSON-lines log (one object per line, keys sorted). With no path it does nothing.
/// A line that cannot be written is an error: a run whose record is silently lost is worse than one
/// that stops.
public struct RunLog: Sendable {
    public let path: String?

    public init(path: String?) { self.path = path }

    public func append(_ entry: some Encodable) throws {
        guard let path else { return }
        let line = try JSONEncoding.data(entry, style: .snakeCaseKeys) + Data("\n".utf8)
        do { try AppendLog.append(line, to: path) } catch FileError.cannotWrite(_, let reason) {
            throw AgentError.cannotWrite(path: path, reason: reason)
        }
    }
}

extension RunLog {
    /// Drops the lines a resumed run will write again: everything after the last line whose
    /// `key` (the step or update number) is at most `last`, the checkpoint's. Lines without the
    /// key (a DAgger round) belong to the evaluation that follows them. A kill between a
    /// checkpoint and the next one leaves lines the checkpoint does not hold; after this the log
    /// and the checkpoint agree again. The file is rewritten atomically, only when it changes.
    public func dropLines(after last: Int, key: String) throws {
        guard let path, FileManager.default.fileExists(atPath: path) else { return }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AgentError.cannotWrite(path: path, reason: "cannot read the log")
        }
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        var keep = 0
        var firstLater: Int?
        for (i, line) in lines.enumerated() where !line.isEmpty {
            guard case .object(let fields)? = try? JSONValue.parse(Data(line)) else { continue }
            let value: Int
            switch fields[key] {
            case .integer(let n)?: value = n
            case .number(let x)?: value = Int(x)
            default: continue
            }
            if value <= last {
                keep = i + 1
            } else if firstLater == nil {
                firstLater = i
            }
        }
        // No line at or before the checkpoint: keep what precedes the first later line.
        if keep == 0, let firstLater { keep = firstLater }
        if keep == 0 && firstLater == nil { return }
        let kept = lines[..<keep]
        guard kept.count < lines.count - (lines.last?.isEmpty == true ? 1 : 0) else { return }
        var out = Data()
        for line in kept {
            out.append(contentsOf: line)
            out.append(UInt8(ascii: "\n"))
        }
        do { try AtomicFile.write(out, to: path) } catch {
            throw AgentError.cannotWrite(path: path, reason: "\(error)")
        }
    }
}

/// A run's state in its checkpoint: the metadata key `run` holds it as JSON, `trained_by` names the
/// kind of run.
public enum RunRecord {
    public static let stateKey = "run"
    public static let kindKey = "trained_by"
    /// The keys saying what a LASER-reduced network was reduced from and how (`laser reduce`,
    /// `laser shrink`): a run that trains such a network (at its ranks) carries them on.
    public static let lineageKeys = ["reduced_from", "interventions", "laser.shrink"]

    /// The lineage keys `metadata` holds.
    public static func lineage(in metadata: [String: String]) -> [String: String] {
        metadata.filter { lineageKeys.contains($0.key) }
    }

    /// The metadata entries recording `state` for a run of `kind`.
    public static func metadata(kind: String, state: some Encodable) throws -> [String: String] {
        let json = try JSONEncoding.string(state, style: .snakeCaseKeys)
        return [kindKey: kind, stateKey: json]
    }

    /// The state a checkpoint's metadata records, nil when it records none.
    public static func state<State: Decodable>(
        _ type: State.Type, in metadata: [String: String], path: String
    ) throws -> State? {
        guard let json = metadata[stateKey] else { return nil }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(State.self, from: Data(json.utf8))
        } catch {
            throw AgentError.cannotResume(
                path: path, reason: "its run state is not readable (\(error))")
        }
    }
}
