"""The same ConvPolicy and TransformerPolicy as Sources/Policy, in PyTorch, timed like `laser bench policy`.

Prints JSON rows {architecture, mode, batch, samplesPerSecond, iterations, parameters}. Parameter names
match our safetensors checkpoints, so `--check DIR` loads ours and compares outputs.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, h):
        return F.relu(h + self.conv2(F.relu(self.conv1(h))))


class ConvPolicy(nn.Module):
    def __init__(self, planes=7, channels=32, blocks=4, policy_channels=2, value_channels=1, value_hidden=64):
        super().__init__()
        self.stem = nn.Conv2d(planes, channels, 3, padding=1)
        self.blocks = nn.ModuleList(Block(channels) for _ in range(blocks))
        self.policy_conv = nn.Conv2d(channels, policy_channels, 1)
        self.policy_head = nn.Linear(policy_channels * 100, 4)
        self.value_conv = nn.Conv2d(channels, value_channels, 1)
        self.value_fc = nn.Linear(value_channels * 100, value_hidden)
        self.value_head = nn.Linear(value_hidden, 1)

    def forward(self, x):
        h = F.relu(self.stem(x))
        for block in self.blocks:
            h = block(h)
        logits = self.policy_head(F.relu(self.policy_conv(h)).flatten(1))
        v = F.relu(self.value_fc(F.relu(self.value_conv(h)).flatten(1)))
        return logits, self.value_head(v).squeeze(-1)


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.q_proj, self.k_proj = nn.Linear(d, d), nn.Linear(d, d)
        self.v_proj, self.out_proj = nn.Linear(d, d), nn.Linear(d, d)

    def forward(self, x):
        b, t, d = x.shape
        split = lambda y: y.view(b, t, self.heads, d // self.heads).transpose(1, 2)
        o = F.scaled_dot_product_attention(split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x)))
        return self.out_proj(o.transpose(1, 2).reshape(b, t, d))


class MLP(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.fc_in, self.fc_out = nn.Linear(d, hidden), nn.Linear(hidden, d)

    def forward(self, x):
        return self.fc_out(F.gelu(self.fc_in(x), approximate="tanh"))


class Layer(nn.Module):
    def __init__(self, d, heads, hidden):
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(d), Attention(d, heads)
        self.ln2, self.mlp = nn.LayerNorm(d), MLP(d, hidden)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TransformerPolicy(nn.Module):
    def __init__(self, planes=7, dim=64, layers=4, heads=4, mlp_hidden=256):
        super().__init__()
        self.embed = nn.Linear(planes, dim)
        self.pos_row = nn.Parameter(torch.randn(10, dim) * 0.02)
        self.pos_col = nn.Parameter(torch.randn(10, dim) * 0.02)
        self.summary_token = nn.Parameter(torch.randn(dim) * 0.02)
        self.layers = nn.ModuleList(Layer(dim, heads, mlp_hidden) for _ in range(layers))
        self.ln_f = nn.LayerNorm(dim)
        self.policy_head, self.value_head = nn.Linear(dim, 4), nn.Linear(dim, 1)

    def forward(self, x):
        b, d = x.shape[0], self.summary_token.shape[0]
        cells = self.embed(x.flatten(2).transpose(1, 2))
        cells = cells + (self.pos_row[:, None, :] + self.pos_col[None, :, :]).reshape(100, d)
        h = torch.cat([self.summary_token.expand(b, 1, d), cells], dim=1)
        for layer in self.layers:
            h = layer(h)
        s = self.ln_f(h[:, 0])
        return self.policy_head(s), self.value_head(s).squeeze(-1)


def build(arch, cfg):
    if arch == "conv":
        return ConvPolicy(cfg["planes"], cfg["channels"], cfg["blocks"], cfg["policyChannels"],
                          cfg["valueChannels"], cfg["valueHidden"])
    return TransformerPolicy(cfg["planes"], cfg["dim"], cfg["layers"], cfg["heads"], cfg["mlpHidden"])


def measure(seconds, body):
    body()
    body()
    start, n = time.perf_counter(), 0
    while True:
        body()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and n >= 3:
            return elapsed / n, n


def random_boards(batch, planes, gen):
    idx = torch.randint(0, planes, (batch, 100), generator=gen)
    return F.one_hot(idx, planes).permute(0, 2, 1).reshape(batch, planes, 10, 10).float().contiguous()


def bench(arch, cfg, batches, seconds, infer_only):
    rows, gen = [], torch.Generator().manual_seed(1)
    model = build(arch, cfg)
    params = sum(p.numel() for p in model.parameters())
    for batch in batches:
        x = random_boards(batch, cfg["planes"], gen)
        model.eval()
        with torch.inference_mode():
            t, n = measure(seconds, lambda: model(x))
        rows.append(dict(architecture=arch, mode="infer", batch=batch, samplesPerSecond=batch / t,
                         iterations=n, parameters=params))
        if infer_only:
            continue
        model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
        actions = torch.randint(0, 4, (batch,), generator=gen)
        targets = torch.rand(batch, generator=gen)

        def step():
            logits, values = model(x)
            loss = F.cross_entropy(logits, actions) + 0.5 * F.mse_loss(values, targets)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()

        t, n = measure(seconds, step)
        rows.append(dict(architecture=arch, mode="train", batch=batch, samplesPerSecond=batch / t,
                         iterations=n, parameters=params))
    return rows


def check(directory, arch):
    """Loads our checkpoint DIR/ARCH.safetensors into the PyTorch model (strict names and shapes),
    runs it on DIR/ARCH.input.f32 and returns the largest difference from our DIR/ARCH.output.json."""
    checkpoint, input_path = f"{directory}/{arch}.safetensors", f"{directory}/{arch}.input.f32"
    from safetensors import safe_open
    with safe_open(checkpoint, "pt") as f:
        meta = f.metadata()
        state = {k: f.get_tensor(k) for k in f.keys() if not k.startswith("optimizer.")}
    hp = {k[3:]: int(v) for k, v in meta.items() if k.startswith("hp.")}
    keys = dict(planes="planes", channels="channels", blocks="blocks", policyChannels="policy_channels",
                valueChannels="value_channels", valueHidden="value_hidden", dim="dim", layers="layers",
                heads="heads", mlpHidden="mlp_hidden")
    cfg = {k: hp[v] for k, v in keys.items() if v in hp}
    model = build(meta["architecture"], cfg)
    model.load_state_dict(state, strict=True)
    raw = torch.frombuffer(bytearray(open(input_path, "rb").read()), dtype=torch.float32)
    x = raw.reshape(-1, cfg["planes"], 10, 10)
    with torch.inference_mode():
        logits, values = model(x)
    ours = json.load(open(f"{directory}/{arch}.output.json"))
    return max((logits.flatten() - torch.tensor(ours["logits"])).abs().max().item(),
               (values - torch.tensor(ours["values"])).abs().max().item())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--config", help="JSON printed by `laser bench policy --json` (sizes, threads)")
    p.add_argument("--arch", nargs="+", default=["conv", "transformer"])
    p.add_argument("--batches", nargs="+", type=int, default=[1, 32, 256])
    p.add_argument("--seconds", type=float, default=1.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--infer-only", action="store_true")
    p.add_argument("--check", help="directory written by `laser bench policy --export-check`")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.check:
        worst = {arch: check(a.check, arch) for arch in a.arch}
        print(json.dumps(worst))
        if max(worst.values()) > 1e-4:
            raise SystemExit(f"our outputs differ from PyTorch's on the same weights: {worst}")
        return
    ours = json.load(open(a.config))
    rows = []
    for arch in a.arch:
        rows += bench(arch, ours[arch], a.batches, a.seconds, a.infer_only)
    print(json.dumps(dict(threads=torch.get_num_threads(), torch=torch.__version__, rows=rows), indent=1))


if __name__ == "__main__":
    main()
