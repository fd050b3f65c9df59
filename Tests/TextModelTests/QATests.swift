// QA datasets in their three formats (good and broken), the metrics' definitions, and SHA-256.
import Foundation
import LinearAlgebra
import Testing

@testable import TextModel

@Suite struct QADatasetTests {
    func parse(_ text: String) throws -> [QAItem] {
        try QADataset.parse(Data(text.utf8), path: "t.json")
    }

    @Test func knownFacts() throws {
        let items = try parse(
            """
            [{"known_id": 0, "subject": "Vinson Massif", "attribute": "Antarctica",
              "prompt": "Vinson Massif is located in the continent of"},
             {"prompt": "Beats Music is owned by", "attribute": "Apple"}]
            """)
        #expect(
            items == [
                QAItem(
                    question: "Vinson Massif is located in the continent of", answer: "Antarctica"),
                QAItem(question: "Beats Music is owned by", answer: "Apple"),
            ])
    }

    @Test func counterFactExpandsParaphrases() throws {
        let items = try parse(
            """
            [{"case_id": 0, "requested_rewrite": {"prompt": "The mother tongue of {} is",
              "subject": "Danielle Darrieux", "target_new": {"str": "English"},
              "target_true": {"str": "French"}},
              "paraphrase_prompts": ["Shayna does this. Danielle Darrieux spoke the language", "Her tongue:"]}]
            """)
        #expect(
            items.map(\.question) == [
                "The mother tongue of Danielle Darrieux is",
                "Shayna does this. Danielle Darrieux spoke the language", "Her tongue:",
            ])
        #expect(items.allSatisfy { $0.answer == "French" })
    }

    @Test func jsonLines() throws {
        let items = try parse(
            "{\"question\": \"The capital of France is\", \"answer\": \"Paris\"}\n\n"
                + "{\"question\": \"2+2=\", \"answer\": \"4\"}\n")
        #expect(items.count == 2 && items[1] == QAItem(question: "2+2=", answer: "4"))
    }

    @Test func brokenDatasetsAreNamedErrors() {
        #expect(throws: QADatasetError.unknownFormat(path: "t.json")) { try parse("hello") }
        #expect(throws: QADatasetError.empty(path: "t.json")) { try parse("[]") }
        #expect(
            throws: QADatasetError.unreadable(
                path: "t.json", reason: "invalid JSON: expected a string key at byte 2")
        ) {
            try parse("[{")
        }
        #expect(
            throws: QADatasetError.unreadable(
                path: "t.json",
                reason: "invalid JSON: key \"prompt\" appears twice in one object at byte 35")
        ) {
            try parse(#"[{"prompt": "a", "attribute": "b", "prompt": "c"}]"#)
        }
        #expect(
            throws: QADatasetError.badItem(path: "t.json", item: 0, reason: "not a JSON object")
        ) {
            try parse("[3]")
        }
        #expect(throws: QADatasetError.self) { try parse("[{\"prompt\": \"x\"}]") }
        #expect(throws: QADatasetError.self) {
            try parse("[{\"requested_rewrite\": {\"prompt\": \"{}\"}}]")
        }
        #expect(
            throws: QADatasetError.badItem(
                path: "t.json", item: 2,
                reason: "line 2 is not a JSON object")
        ) {
            try parse("{\"question\": \"a\", \"answer\": \"b\"}\n{nope\n")
        }
        #expect(throws: QADatasetError.self) {
            try parse("{\"question\": \"a\", \"answer\": \"  \"}")
        }
        #expect(throws: QADatasetError.self) { try QADataset.load(path: "/nonexistent/qa.json") }
    }

    @Test func splitTakesTheFirstFifthForValidation() {
        let items = (0..<10).map { QAItem(question: "q\($0)", answer: "a") }
        let (validation, test) = QADataset.split(items)
        #expect(validation.map(\.question) == ["q0", "q1"])
        #expect(test.count == 8 && test[0].question == "q2")
    }

    @Test func defaultSetIsWellFormed() throws {
        // The built-in set ships with the repository: at least 300 distinct questions.
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../data/qa/facts.jsonl").standardized.path
        let items = try QADataset.load(path: path)
        #expect(items.count >= 300)
        #expect(Set(items.map(\.question)).count == items.count)
    }
}

@Suite struct QAMetricTests {
    @Test func generationMatchIsCaseInsensitiveOnTheStrippedAnswer() {
        #expect(QAEvaluator.generationMatches(answer: " Paris ", continuation: " paris.\n\nThe"))
        #expect(
            QAEvaluator.generationMatches(answer: "New York", continuation: " in NEW YORK city"))
        #expect(!QAEvaluator.generationMatches(answer: "Rome", continuation: " Paris"))
        #expect(!QAEvaluator.generationMatches(answer: "  ", continuation: " anything"))
        #expect(QAEvaluator.scoredAnswer("  Paris\n") == " Paris")
    }

    @Test func summaryAverages() {
        func r(_ match: Bool?, _ rank: Int, _ lp: Double) -> QAItemResult {
            QAItemResult(
                question: "q", answer: "a", continuation: match.map { $0 ? "a" : "b" },
                generationMatch: match, firstTokenRank: rank, meanLogProb: lp, answerTokens: 1)
        }
        let s = QASummary(
            results: [r(true, 0, -1), r(false, 3, -2), r(true, 7, -3), r(false, 0, -6)], k: 5)
        #expect(s.items == 4)
        #expect(s.generationMatch == 0.5)
        #expect(s.top1 == 0.5)
        #expect(s.topK == 0.75)
        #expect(s.meanLogProb == -3)
        #expect(s.metrics["generation_match"] == 0.5 && s.metrics["topk"] == 0.75)
        #expect(QASummary(results: [r(nil, 0, -1)], k: 5).generationMatch == nil)
    }

    @Test func logitMath() {
        let logits = Tensor(shape: [2, 4], scalars: [0, 2, 1, 2, 5, 0, 0, 0])
        #expect(LogitMath.argmax(logits) == 1)
        #expect(LogitMath.argmax(logits, row: 1) == 0)
        #expect(LogitMath.rank(logits, token: 1) == 0)
        #expect(LogitMath.rank(logits, token: 3) == 1)  // ties rank after the earlier token
        #expect(LogitMath.rank(logits, token: 0) == 3)
        let expected = 2 - log(exp(0.0) + 2 * exp(2.0) + exp(1.0))
        #expect(abs(LogitMath.logProbability(logits, token: 1) - expected) < 1e-9)
    }
}

@Suite struct FileDigestTests {
    /// FIPS 180-2's vectors, read from files in chunks smaller than the input (so the digest
    /// spans many reads).
    @Test func standardVectorsFromFiles() throws {
        let cases: [(String, String)] = [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                String(repeating: "a", count: 1_000_000),
                "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
            ),
        ]
        for (text, digest) in cases {
            let path = NSTemporaryDirectory() + "laser-sha-\(UUID().uuidString)"
            _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
            defer { try? FileManager.default.removeItem(atPath: path) }
            #expect(try FileDigest.sha256Hex(ofFile: path, chunkSize: 4096) == digest)
        }
        #expect(throws: FileDigestError.self) {
            try FileDigest.sha256Hex(ofFile: "/nonexistent/model.gguf")
        }
    }
}
