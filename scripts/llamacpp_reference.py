#!/usr/bin/env python3
"""Prints the llama.cpp values the TextModel tests record (Tests/TextModelTests/LlamaCppReference.swift):
token ids of a set of strings, and the top next-token logits after a set of prompts.

Usage: .venv/bin/python scripts/llamacpp_reference.py MODEL.gguf
"""
import json, sys

import numpy as np
import llama_cpp
from llama_cpp import Llama


def last_logits(llm):
    """The logits of the last evaluated position (llm.scores is only filled with logits_all)."""
    ptr = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
    return np.ctypeslib.as_array(ptr, shape=(llm.n_vocab(),)).astype(np.float64)

STRINGS = [
    "Hello world 12345 café!",
    "The capital of France is",
    "  leading and trailing spaces  ",
    "I'm sure they'll say we've done it, didn't they?",
    "Numbers: 3.14159, 1,000,000 and 2024-11-22.",
    "naïve résumé — “quotes” and emoji 😀🎉",
    "日本語のテキストと中文",
    "tabs\tand\nnewlines\r\n\n  indented",
    "<|im_start|>user",
    "x = f(y) + 2*z; // C++ comment",
]

PROMPTS = [
    "The capital of France is",
    "Vinson Massif is located in the continent of",
    "Beats Music is owned by",
    "The Eiffel Tower is in the city of",
    "1, 2, 3, 4,",
]


def main():
    llm = Llama(model_path=sys.argv[1], n_threads=2, n_ctx=256, logits_all=False, verbose=False)
    print("tokenizations:")
    for s in STRINGS:
        print(f"    ({json.dumps(s, ensure_ascii=False)}, {llm.tokenize(s.encode(), add_bos=False, special=False)}),")
    print("next tokens:")
    for p in PROMPTS:
        llm.reset()
        toks = llm.tokenize(p.encode(), add_bos=False, special=False)
        llm.eval(toks)
        row = last_logits(llm)
        top = np.argsort(-row)[:5]
        pairs = ", ".join(f"({int(t)}, {row[t]:.4f})" for t in top)
        print(f"    NextToken(prompt: {json.dumps(p)}, top: [{pairs}], tolerance: 0.5),")
    llm.reset()
    out = llm.create_completion("The capital of France is", max_tokens=10, temperature=0.0, top_k=1)
    print("greedy:", json.dumps(out["choices"][0]["text"]))


if __name__ == "__main__":
    main()
