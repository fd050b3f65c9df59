// Greedy generation: the prompt in one batched pass, then one token at a time through the KV cache.
import LinearAlgebra

extension LlamaModel {
    /// Greedily continues `prompt` (token ids) by at most `maxNewTokens` tokens, stopping after the
    /// end-of-sequence token when `stopAtEOS`. `onToken` sees each new token as it is chosen.
    public func generate(
        prompt: [Int], maxNewTokens: Int, stopAtEOS: Bool = true, state: LlamaState? = nil,
        onToken: ((Int) -> Void)? = nil
    ) throws -> [Int] {
        guard !prompt.isEmpty else { throw TextModelError.emptyInput }
        let s = state ?? makeState(capacity: prompt.count + maxNewTokens)
        if state != nil { s.reset() }
        let logits = try forward(prompt, state: s)
        return try continueGreedy(
            from: logits, maxNewTokens: maxNewTokens, stopAtEOS: stopAtEOS,
            state: s, onToken: onToken)
    }

    /// Greedy continuation given the logits of the last processed position.
    public func continueGreedy(
        from logits: Tensor, maxNewTokens: Int, stopAtEOS: Bool = true, state: LlamaState,
        onToken: ((Int) -> Void)? = nil
    ) throws -> [Int] {
        var out: [Int] = []
        var current = logits
        while out.count < maxNewTokens {
            let next = LogitMath.argmax(current, row: current.shape[0] - 1)
            out.append(next)
            onToken?(next)
            if stopAtEOS && next == tokenizer.eosID { break }
            if out.count == maxNewTokens || state.length >= state.capacity { break }
            current = try forward([next], state: state)
        }
        return out
    }

    /// Greedy continuation of a text prompt, decoded.
    public func generate(text: String, maxNewTokens: Int) throws -> String {
        let ids = try generate(prompt: tokenizer.encode(text), maxNewTokens: maxNewTokens)
        return tokenizer.decode(ids)
    }
}
