// Factual-QA datasets: ROME's known facts, CounterFact (expanded as the LASER code does) and JSONL.
import Core
import Foundation
import LinearAlgebra

/// One question and the answer expected to follow it.
public struct QAItem: Sendable, Equatable, Codable {
    public let question: String
    public let answer: String

    public init(question: String, answer: String) {
        self.question = question
        self.answer = answer
    }
}

/// Why a dataset could not be read.
public enum QADatasetError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case badItem(path: String, item: Int, reason: String)
    case unknownFormat(path: String)
    case empty(path: String)
    /// The built-in set was not found from the current or the executable's directory.
    case noDefault(String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "cannot read dataset \(path): \(reason)"
        case .badItem(let path, let item, let reason): return "\(path): item \(item): \(reason)"
        case .unknownFormat(let path):
            return "\(path): unrecognised dataset: expected a JSON array of known facts "
                + "({prompt, attribute}) or CounterFact records ({requested_rewrite, paraphrase_prompts}), "
                + "or JSONL lines {\"question\", \"answer\"}"
        case .empty(let path): return "\(path): the dataset has no items"
        case .noDefault(let path):
            return "cannot find \(path) (run from the repository, or pass --dataset FILE)"
        }
    }
}

/// Loads the dataset formats the QA benchmark accepts.
public enum QADataset {
    /// Reads a file, recognising its format from its content.
    /// The largest dataset file read, in bytes (CounterFact's full JSON is about 40 MB).
    public static let maxFileBytes = 512 << 20

    public static func load(path: String) throws -> [QAItem] {
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int,
            size > maxFileBytes
        {
            throw QADatasetError.unreadable(
                path: path, reason: "\(size) bytes, over the limit of \(maxFileBytes)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw QADatasetError.unreadable(path: path, reason: "no such file or not readable")
        }
        return try parse(data, path: path)
    }

    /// Parses a dataset's bytes (`path` only names it in errors).
    public static func parse(_ data: Data, path: String) throws -> [QAItem] {
        let firstByte = data.first(where: { ![9, 10, 13, 32].contains($0) })
        let items: [QAItem]
        if firstByte == UInt8(ascii: "[") {
            let json: JSONValue
            do { json = try JSONValue.parse(data) } catch {
                throw QADatasetError.unreadable(path: path, reason: "invalid JSON: \(error)")
            }
            guard let array = json.arrayValue else {
                throw QADatasetError.unknownFormat(path: path)
            }
            items = try parseArray(array, path: path)
        } else if firstByte == UInt8(ascii: "{") {
            items = try parseJSONL(data, path: path)
        } else {
            throw QADatasetError.unknownFormat(path: path)
        }
        guard !items.isEmpty else { throw QADatasetError.empty(path: path) }
        return items
    }

    static func parseArray(_ array: [JSONValue], path: String) throws -> [QAItem] {
        var items: [QAItem] = []
        for (i, element) in array.enumerated() {
            guard let object = element.objectValue else {
                throw QADatasetError.badItem(path: path, item: i, reason: "not a JSON object")
            }
            if let rewrite = object["requested_rewrite"]?.objectValue {
                // CounterFact: the rewrite prompt filled with its subject, then each paraphrase,
                // all with the true target (LASER's counterfact loader).
                guard let template = rewrite["prompt"]?.stringValue,
                    let subject = rewrite["subject"]?.stringValue,
                    let answer = rewrite["target_true"]?.objectValue?["str"]?.stringValue
                else {
                    throw QADatasetError.badItem(
                        path: path, item: i,
                        reason:
                            "CounterFact record needs requested_rewrite.prompt, .subject and .target_true.str"
                    )
                }
                items.append(
                    QAItem(
                        question: template.replacingOccurrences(of: "{}", with: subject),
                        answer: answer))
                for p in object["paraphrase_prompts"]?.arrayValue ?? [] {
                    if let text = p.stringValue {
                        items.append(QAItem(question: text, answer: answer))
                    }
                }
            } else if let prompt = object["prompt"]?.stringValue,
                let attribute = object["attribute"]?.stringValue
            {
                items.append(QAItem(question: prompt, answer: attribute))
            } else if let q = object["question"]?.stringValue, let a = object["answer"]?.stringValue
            {
                items.append(QAItem(question: q, answer: a))
            } else {
                throw QADatasetError.badItem(
                    path: path, item: i,
                    reason:
                        "needs prompt+attribute (known facts), requested_rewrite (CounterFact) or question+answer"
                )
            }
        }
        return items
    }

    static func parseJSONL(_ data: Data, path: String) throws -> [QAItem] {
        var items: [QAItem] = []
        for (n, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() {
            let trimmed = line.drop(while: { $0 == 32 || $0 == 9 || $0 == 13 })
            if trimmed.isEmpty { continue }
            guard let json = try? JSONValue.parse(Data(trimmed)), let object = json.objectValue
            else {
                throw QADatasetError.badItem(
                    path: path, item: n + 1, reason: "line \(n + 1) is not a JSON object")
            }
            guard let q = object["question"]?.stringValue, let a = object["answer"]?.stringValue,
                !q.isEmpty, !a.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            else {
                throw QADatasetError.badItem(
                    path: path, item: n + 1,
                    reason:
                        "line \(n + 1) needs non-empty string fields \"question\" and \"answer\"")
            }
            items.append(QAItem(question: q, answer: a))
        }
        return items
    }

    /// The paper's protocol: the first `validationFraction` of the items (in file order) for
    /// choosing, the rest for reporting.
    public static func split(_ items: [QAItem], validationFraction: Double = 0.2)
        -> (validation: [QAItem], test: [QAItem])
    {
        let cut = min(
            items.count, max(0, Int((Double(items.count) * validationFraction).rounded(.down))))
        return (Array(items[..<cut]), Array(items[cut...]))
    }
}
