#!/usr/bin/env python3
"""Records llama.cpp's tokenizations and logits for a GGUF as JSON, for the TextModel tests of a
second model (Tests/TextModelTests/Gemma3Reference.json): token ids of hard strings and of every
question and answer of a QA file, the top-5 logits at every position of a few prompts, and a greedy
continuation.

Usage: .venv/bin/python scripts/llamacpp_reference_json.py MODEL.gguf QA.json OUT.json
(.venv from scripts/llamacpp-venv.sh)
"""
import json, sys

import numpy as np
from llama_cpp import Llama

HARD_STRINGS = [
    "Hello world 12345 café!",
    "  leading and trailing spaces  ",
    "double  space and   triple",
    "Numbers: 3.14159, 1,000,000 and 2024-11-22.",
    "naïve résumé — “quotes” and emoji 😀🎉",
    "日本語のテキストと中文",
    "tabs\tand\nnewlines\r\n\n  indented\n\n\n",
    "<start_of_turn>user <table><tr> not parsed",
    "bytes \u0001\u0002 and \u00ad soft hyphen \U0001f9ec \U000e0041",
    "x = f(y) + 2*z; // C++ comment",
    "I'm sure they'll say we've done it, didn't they?",
    "▁already escaped ▁▁",
    " ",
    "a",
]

PROMPTS = [
    "The capital of France is",
    "Vinson Massif is located in the continent of",
    "The Eiffel Tower is in the city of",
    "1, 2, 3, 4,",
]


def main():
    model, qa_path, out_path = sys.argv[1:4]
    llm = Llama(model_path=model, n_threads=2, n_ctx=512, logits_all=True, verbose=False)
    items = json.load(open(qa_path))
    tok = lambda s, bos: llm.tokenize(s.encode(), add_bos=bos, special=False)
    out = {
        "model": model.rsplit("/", 1)[-1],
        "strings": [{"text": s, "ids": tok(s, False)} for s in HARD_STRINGS],
        # The QA protocol: the prompt as the model's tokenizer adds BOS, the answer with one
        # leading space and no BOS.
        "questions": [{"text": it["prompt"], "ids": tok(it["prompt"], True)} for it in items],
        "answers": [
            {"text": " " + it["attribute"].strip(), "ids": tok(" " + it["attribute"].strip(), False)}
            for it in items
        ],
        "prompts": [],
    }
    for p in PROMPTS:
        llm.reset()
        ids = tok(p, True)
        llm.eval(ids)
        positions = []
        for i in range(len(ids)):
            row = np.asarray(llm.scores[i], dtype=np.float64)
            top = np.argsort(-row)[:5]
            positions.append([[int(t), round(float(row[t]), 4)] for t in top])
        out["prompts"].append({"text": p, "ids": ids, "top": positions})
    llm.reset()
    done = llm.create_completion("The capital of France is", max_tokens=10, temperature=0.0, top_k=1)
    out["greedy"] = {"prompt": "The capital of France is", "text": done["choices"][0]["text"]}
    with open(out_path, "w") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
