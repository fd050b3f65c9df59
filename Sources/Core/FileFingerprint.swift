// A cheap content fingerprint of a file, so a result log can name exactly which checkpoint or
// dataset it was made with (the project's FNV-1a, 64 bits, over every byte).
import Foundation

public enum FileFingerprint {
    /// "fnv1a64:<16 hex digits>" of the file's bytes (memory-mapped, read once).
    public static func of(path: String) throws -> String {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch
        {
            throw FileError.cannotRead(path, reason: error.localizedDescription)
        }
        return "fnv1a64:" + String(format: "%016llx", fnv1a64(data))
    }

    /// FNV-1a over `data`, byte by byte (no allocation).
    public static func fnv1a64(_ data: Data) -> UInt64 {
        data.withUnsafeBytes { raw in FNV1a.hash(raw.bindMemory(to: UInt8.self)) }
    }
}
