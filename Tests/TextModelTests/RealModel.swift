// Finds the real SmolLM2 GGUF for tests that need it (fetched by scripts/fetch-model.sh).
import Testing
import TextModel

enum RealModel {
    /// The model path, or nil (the test is then skipped with `skipMessage`).
    static let path: String? = DefaultModel.locate()
    static let skipMessage: Comment =
        "SmolLM2 GGUF not found (set LASER_MODEL or run scripts/fetch-model.sh); real-model test skipped"
    static var isAvailable: Bool { path != nil }
}
