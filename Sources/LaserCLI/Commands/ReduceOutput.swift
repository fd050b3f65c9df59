// What `laser reduce` prints: each reduced matrix's rank and error, and the file written.
import Laser

extension Reduce {
    func printResult(_ reports: [ReductionReport], gguf: Bool) throws {
        let before = fileSize(file)
        let after = fileSize(out)
        if json {
            struct Output: Encodable {
                let input: String, output: String, bytesBefore: Int, bytesAfter: Int
                let factored: Bool?, storage: String?
                let reductions: [ReductionReport]
            }
            print(
                try jsonText(
                    Output(
                        input: file, output: out, bytesBefore: before, bytesAfter: after,
                        factored: gguf ? nil : factored, storage: gguf ? storage : nil,
                        reductions: reports)))
            return
        }
        // A GGUF's matrices are written back dense, so its table has no parameter counts.
        print(
            table(
                ["matrix", "shape", "rank kept"] + (gguf ? [] : ["params dense → factored"])
                    + ["rel. error", "energy kept"],
                reports.map {
                    ["\($0.name)", "\($0.rows)×\($0.columns)", "\($0.rankKept)/\($0.fullRank)"]
                        + (gguf ? [] : ["\($0.parametersBefore) → \($0.parametersAfter)"])
                        + [
                            String(format: "%.4f", $0.relativeError),
                            String(format: "%.4f", $0.energyKept),
                        ]
                }))
        if gguf {
            print(
                "wrote \(out) (\(formatBytes(after)); reduced matrices as \(storage.uppercased()), everything else as in \(file))"
            )
        } else {
            let change = before > 0 ? 100 * Double(before - after) / Double(before) : 0
            print(
                "wrote \(out): \(formatBytes(after)) (input \(formatBytes(before)); \(factored ? String(format: "%.1f%% smaller", change) : "dense, same layout"))"
            )
        }
    }
}
