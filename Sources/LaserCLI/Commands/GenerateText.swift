// `laser generate-text`: greedy continuation of a prompt by the language model, streamed.
import ArgumentParser
import Core
import Foundation
import Sokoban
import TextModel

struct GenerateText: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-text",
        abstract: "Continue a text prompt greedily with the language model (SmolLM2 by default).",
        discussion: """
            Example: laser generate-text "The capital of France is"  →  " Paris.\\n\\nThe United ..." With --chat the prompt is wrapped in the model's chat format (<|im_start|>user ...).
            """)

    @Argument(help: "The prompt.")
    var prompt: String

    @Option(help: "Most new tokens to generate.")
    var maxNewTokens: Int = 20

    @Flag(help: "Wrap the prompt as a user turn of the ChatML template the model was tuned on.")
    var chat = false

    @OptionGroup var modelOptions: TextModelOptions

    func validate() throws {
        guard maxNewTokens >= 1 && maxNewTokens <= 4096 else {
            throw ValidationError("--max-new-tokens must be in 1...4096")
        }
        guard !prompt.isEmpty else { throw ValidationError("the prompt is empty") }
    }

    func run() throws {
        modelOptions.threading.apply()
        let (model, _) = try modelOptions.load()
        let text =
            chat
            ? "<|im_start|>user\n\(prompt)<|im_end|>\n<|im_start|>assistant\n" : prompt
        let ids = model.tokenizer.encode(text, parseSpecial: chat)
        let start = Date()
        var generated: [Int] = []
        var printed = 0
        let out = FileHandle.standardOutput
        // The model's tokens are the GGUF file's bytes: escaped like any text from a file.
        if !chat { out.write(Data(TerminalText.escaped(prompt, keepNewlines: true).utf8)) }
        _ = try model.generate(prompt: ids, maxNewTokens: maxNewTokens) { token in
            generated.append(token)
            // Print only whole characters: a token may end inside a UTF-8 sequence.
            let bytes = generated.flatMap { model.tokenizer.bytes(of: $0) }
            let valid = String(validatingUTF8Prefix: bytes)
            if valid.utf8.count > printed {
                let piece = String(decoding: valid.utf8.dropFirst(printed), as: UTF8.self)
                out.write(Data(TerminalText.escaped(piece, keepNewlines: true).utf8))
                printed = valid.utf8.count
            }
        }
        out.write(Data("\n".utf8))
        let seconds = Date().timeIntervalSince(start)
        stderrLine(
            String(
                format: "%d prompt + %d new tokens in %.2fs", ids.count, generated.count, seconds))
    }
}

extension String {
    /// The longest prefix of `bytes` that is complete UTF-8 (a trailing partial character is left out).
    init(validatingUTF8Prefix bytes: [UInt8]) {
        var end = bytes.count
        // Back off at most 3 bytes of an unfinished multi-byte sequence.
        var back = 0
        while back < 3, end - back - 1 >= 0, bytes[end - back - 1] & 0xC0 == 0x80 { back += 1 }
        if end - back - 1 >= 0 {
            let lead = bytes[end - back - 1]
            let needed = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
            if needed > back + 1 { end = end - back - 1 }
        }
        self = String(decoding: bytes[..<end], as: UTF8.self)
    }
}
