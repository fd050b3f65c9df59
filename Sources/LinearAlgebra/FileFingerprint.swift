// A cheap content fingerprint of a file, so a result log can name exactly which checkpoint or
// dataset it was made with (not a security hash: FNV-1a, 64 bits, over every byte).
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

    /// FNV-1a over `data`, eight bytes at a time folded byte by byte (no allocation).
    public static func fnv1a64(_ data: Data) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        data.withUnsafeBytes { raw in
            for byte in raw.bindMemory(to: UInt8.self) {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
        }
        return hash
    }
}
