// The one durable append-only writer and the one JSON encoder: lines appended whole and in order,
// a failed write reported with the path and the reason; JSON with sorted keys and non-finite
// numbers as strings.
import Core
import Foundation
import Testing

@Suite struct WritingTests {
    @Test func appendedLinesStayInOrder() throws {
        let path = NSTemporaryDirectory() + "core-append-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try AppendLog.append(Array("one\n".utf8), to: path)
        try AppendLog.append(Array("two\n".utf8), to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "one\ntwo\n")
    }

    @Test func aFullDiskIsAnErrorNamingThePath() {
        // /dev/full accepts the open and refuses every write with ENOSPC.
        #expect(throws: FileError.cannotWrite("/dev/full", reason: "No space left on device")) {
            try AppendLog.append(Array("line\n".utf8), to: "/dev/full")
        }
    }

    @Test func aFolderThatIsNotThereIsAnError() {
        let path = "/nonexistent-\(UUID().uuidString)/log.jsonl"
        #expect(throws: FileError.cannotWrite(path, reason: "No such file or directory")) {
            try AppendLog.append(Array("line\n".utf8), to: path)
        }
    }

    struct Sample: Encodable {
        let zebraCount: Int
        let alpha: Double
        let path: String
    }

    @Test func jsonHasSortedKeysAndNonFiniteNumbersAsStrings() throws {
        let sample = Sample(zebraCount: 2, alpha: .nan, path: "a/b")
        #expect(try JSONEncoding.string(sample) == #"{"alpha":"nan","path":"a\/b","zebraCount":2}"#)
        #expect(
            try JSONEncoding.string(sample, style: [.snakeCaseKeys, .plainSlashes])
                == #"{"alpha":"nan","path":"a/b","zebra_count":2}"#)
        let pretty = try JSONEncoding.string(
            Sample(zebraCount: 1, alpha: .infinity, path: ""), style: .pretty)
        #expect(pretty.contains("\n") && pretty.contains(#""alpha" : "inf""#))
    }

    @Test func secondsOfADuration() {
        #expect(Duration.milliseconds(1500).inSeconds == 1.5)
        #expect(ProcessUsage.cpuSeconds() > 0)
        #expect(ProcessUsage.peakResidentBytes() > 1 << 20)
    }
}
