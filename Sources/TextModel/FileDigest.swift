// The SHA-256 of a file (swift-crypto), streamed in chunks: how a downloaded model is verified.
import Crypto
import Foundation

public enum FileDigest {
    /// The lowercase hex SHA-256 of the file at `path`.
    public static func sha256Hex(ofFile path: String, chunkSize: Int = 1 << 20) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FileDigestError.cannotRead(path)
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: chunkSize), !chunk.isEmpty {
            hasher.update(data: chunk)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

public enum FileDigestError: Error, CustomStringConvertible {
    case cannotRead(String)
    public var description: String {
        switch self {
        case .cannotRead(let path): return "cannot read \(path) to check its SHA-256"
        }
    }
}
