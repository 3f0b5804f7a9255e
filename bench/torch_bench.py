#!/usr/bin/python3
"""PyTorch baseline for the GateScope benchmark (driven by bench/torch.ts).

Reads ONE JSON job from stdin:
  {"configs": [BenchConfig...], "threads": 1|2, "minSeconds": float, "infer": bool,
   "inferMinSeconds"?: float}
and prints ONE JSON line to stdout:
  {"train": [TrainRow...], "infer": [InferRow...], "info": {...}}

Model: nn.Embedding(V, E) -> nn.LSTM / nn.GRU (num_layers=L, time-major [T, B]) -> nn.Linear(H, V);
loss = cross entropy averaged over the T*B targets; clip_grad_norm_(params, 5); Adam(lr=2e-3).
Training: 2 warm-up steps, then repeat until at least minSeconds and at least 2 steps.
Inference (batch 1, torch.no_grad, eval mode):
  msPerToken   = one token from a cached (h[, c]) state -> softmax over V;
  msContext256 = 256 tokens from a zero state -> softmax after the last token.
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 1234
CONTEXT = 256


class BenchModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        rnn_cls = {"lstm": nn.LSTM, "gru": nn.GRU}[cfg["cell"]]
        self.embedding = nn.Embedding(cfg["vocab"], cfg["embed"])
        self.rnn = rnn_cls(cfg["embed"], cfg["hidden"], num_layers=cfg["layers"])  # time-major
        self.decoder = nn.Linear(cfg["hidden"], cfg["vocab"])

    def forward(self, x, state=None):
        out, state = self.rnn(self.embedding(x), state)
        return self.decoder(out), state


def time_loop(fn, min_seconds, min_reps, warmup):
    for _ in range(warmup):
        fn()
    reps = 0
    t0 = time.perf_counter()
    elapsed = 0.0
    while reps < min_reps or elapsed < min_seconds:
        fn()
        reps += 1
        elapsed = time.perf_counter() - t0
    return reps, elapsed


def bench_train(cfg, min_seconds):
    torch.manual_seed(SEED)
    model = BenchModel(cfg)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    T, B, V = cfg["seq"], cfg["batch"], cfg["vocab"]
    g = torch.Generator().manual_seed(SEED + 1)
    toks = torch.randint(0, V, ((T + 1) * B,), generator=g)
    x = toks[: T * B].view(T, B)
    y = toks[B:].reshape(T, B)
    params = list(model.parameters())

    def step():
        opt.zero_grad(set_to_none=True)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.view(-1, V), y.view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        return loss.item()

    reps, seconds = time_loop(step, min_seconds, 2, 2)
    return B * T * reps / seconds


def bench_infer(cfg, min_seconds):
    torch.manual_seed(SEED)
    model = BenchModel(cfg)
    model.eval()
    V = cfg["vocab"]
    g = torch.Generator().manual_seed(SEED + 2)
    ctx = torch.randint(0, V, (CONTEXT, 1), generator=g)
    res = {}
    with torch.no_grad():
        state = [None]
        pos = [0]

        def feed_one():
            tok = ctx[pos[0] % CONTEXT].view(1, 1)
            pos[0] += 1
            logits, state[0] = model(tok, state[0])
            return F.softmax(logits[-1, 0], dim=-1)

        for _ in range(8):  # build a cached state first
            feed_one()
        reps, seconds = time_loop(feed_one, min_seconds, 20, 2)
        res["msPerToken"] = seconds / reps * 1000

        def run_context():
            # Zero state; only the last output is decoded (the other 255 distributions are unused).
            out, _ = model.rnn(model.embedding(ctx), None)
            return F.softmax(model.decoder(out[-1, 0]), dim=-1)

        reps, seconds = time_loop(run_context, min_seconds, 2, 1)
        res["msContext256"] = seconds / reps * 1000
    return res


def blas_libraries():
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 6 and ("blas" in parts[-1].lower() or "lapack" in parts[-1].lower()):
                    libs.add(parts[-1])
    except OSError:
        pass
    return sorted(libs)


def main():
    job = json.loads(sys.stdin.read())
    threads = int(job.get("threads", 1))
    torch.set_num_threads(threads)
    min_seconds = float(job.get("minSeconds", 3))
    infer_min_seconds = float(job.get("inferMinSeconds", min_seconds))
    system = "pytorch-%dt" % threads
    train_rows, infer_rows = [], []
    for cfg in job["configs"]:
        tps = bench_train(cfg, min_seconds)
        train_rows.append({
            "system": system, "cell": cfg["cell"], "hidden": cfg["hidden"], "layers": cfg["layers"],
            "seq": cfg["seq"], "batch": cfg["batch"], "tokensPerSecond": tps,
        })
        print("[torch_bench] %s %s h%d L%d T%d B%d: %.0f tok/s" % (
            system, cfg["cell"], cfg["hidden"], cfg["layers"], cfg["seq"], cfg["batch"], tps), file=sys.stderr, flush=True)
        if job.get("infer"):
            r = bench_infer(cfg, infer_min_seconds)
            infer_rows.append({
                "system": system, "cell": cfg["cell"], "hidden": cfg["hidden"], "layers": cfg["layers"],
                "msPerToken": r["msPerToken"], "msContext256": r["msContext256"],
            })
            print("[torch_bench] %s %s h%d L%d: %.3f ms/token, %.1f ms/ctx256" % (
                system, cfg["cell"], cfg["hidden"], cfg["layers"], r["msPerToken"], r["msContext256"]),
                file=sys.stderr, flush=True)
    info = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas": blas_libraries(),
    }
    print(json.dumps({"train": train_rows, "infer": infer_rows, "info": info}), flush=True)


if __name__ == "__main__":
    main()
