#!/usr/bin/env python3
"""llama.cpp's figures (through llama-cpp-python) for the same measurements as `laser bench text`.

Prompt processing: one decode of N tokens from an empty cache, logits of the last position only.
Generation: greedy decode of G tokens after a 16-token prompt. QA: known-facts style items scored
as `laser qa` scores them (answer with a leading space; first-token rank and mean log-probability
teacher-forced; greedy continuation of at most 10 tokens). Prints one JSON object.
"""
import argparse, json, random, resource, statistics, sys, time

import numpy as np
import llama_cpp
from llama_cpp import Llama


def last_logits(llm):
    """The logits of the last evaluated position (llm.scores is only filled with logits_all)."""
    ptr = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
    return np.ctypeslib.as_array(ptr, shape=(llm.n_vocab(),)).astype(np.float64)


def load_items(path):
    text = open(path, encoding="utf-8").read()
    if text.lstrip().startswith("["):
        items = []
        for d in json.loads(text):
            if "requested_rewrite" in d:
                rw = d["requested_rewrite"]
                answer = rw["target_true"]["str"]
                items.append((rw["prompt"].replace("{}", rw["subject"]), answer))
                items += [(p, answer) for p in d.get("paraphrase_prompts", [])]
            elif "prompt" in d:
                items.append((d["prompt"], d["attribute"]))
            else:
                items.append((d["question"], d["answer"]))
        return items
    return [(d["question"], d["answer"]) for d in map(json.loads, filter(str.strip, text.splitlines()))]


def log_softmax(row):
    row = row.astype(np.float64)
    m = row.max()
    return row - m - np.log(np.exp(row - m).sum())


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt-sizes", type=int, nargs="+", default=[64, 512])
    ap.add_argument("--generate", type=int, default=64)
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--dataset")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--max-new-tokens", type=int, default=10)
    args = ap.parse_args()

    rng = random.Random(42)
    t0 = time.time()
    llm = Llama(model_path=args.model, n_threads=args.threads, n_threads_batch=args.threads,
                n_ctx=1024, n_batch=512, n_ubatch=512, verbose=False)
    load = time.time() - t0
    out = {"threads": args.threads, "loadSeconds": load, "promptTokensPerSecond": {},
           "promptTokensPerCPUSecond": {}}
    llm.reset(); llm.eval([rng.randrange(200, 20200) for _ in range(8)])  # warm-up
    for n in args.prompt_sizes:
        rates, cpu_rates = [], []
        for _ in range(args.repetitions):
            toks = [rng.randrange(200, 20200) for _ in range(n)]
            llm.reset()
            t, c = time.time(), cpu()
            llm.eval(toks)
            rates.append(n / (time.time() - t))
            cpu_rates.append(n / (cpu() - c))
        out["promptTokensPerSecond"][f"pp{n}"] = statistics.median(rates)
        out["promptTokensPerCPUSecond"][f"pp{n}"] = statistics.median(cpu_rates)
    llm.reset()
    llm.eval([rng.randrange(200, 20200) for _ in range(16)])
    tok = int(np.argmax(last_logits(llm)))
    t, c = time.time(), cpu()
    for _ in range(args.generate - 1):
        llm.eval([tok])
        tok = int(np.argmax(last_logits(llm)))
    out["generationTokensPerSecond"] = (args.generate - 1) / (time.time() - t)
    out["generationTokensPerCPUSecond"] = (args.generate - 1) / (cpu() - c)

    if args.dataset:
        items = load_items(args.dataset)
        if args.limit:
            items = items[: args.limit]
        qa = Llama(model_path=args.model, n_threads=args.threads, n_threads_batch=args.threads,
                   n_ctx=512, n_batch=512, logits_all=True, verbose=False)
        eos = qa.token_eos()
        matches = top1 = 0
        logprobs = []
        t = time.time()
        for question, answer in items:
            # BOS before the prompt as the model asks (add_bos_token), never before the answer.
            prompt = qa.tokenize(question.encode(), add_bos=True, special=False)
            ans = qa.tokenize((" " + answer.strip()).encode(), add_bos=False, special=False)
            qa.reset()
            qa.eval(prompt + ans[:-1])
            rows = [qa.scores[len(prompt) - 1 + i] for i in range(len(ans))]
            top1 += int(np.argmax(rows[0]) == ans[0])
            logprobs.append(sum(log_softmax(r)[a] for r, a in zip(rows, ans)) / len(ans))
            qa.n_tokens = len(prompt)  # rewind to the prompt; the next eval drops the rest
            generated = [int(np.argmax(rows[0]))]
            while len(generated) < args.max_new_tokens and generated[-1] != eos:
                qa.eval([generated[-1]])
                generated.append(int(np.argmax(qa.scores[qa.n_tokens - 1])))
            text = qa.detokenize(generated).decode("utf-8", errors="replace")
            matches += int(answer.strip().lower() in text.lower())
        seconds = time.time() - t
        out.update(qaItems=len(items), qaItemsPerSecond=len(items) / seconds,
                   qaGenerationMatch=matches / len(items), qaTop1=top1 / len(items),
                   qaMeanLogProb=float(np.mean(logprobs)))
    out["peakResidentMB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out, indent=2, sort_keys=True))


if __name__ == "__main__":
    sys.exit(main())
