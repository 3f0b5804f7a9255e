#!/usr/bin/python3
"""PyTorch reference training run for the GateScope learning-parity comparison.

Usage: /usr/bin/python3 bench/torch_learn.py JOB.json

JOB.json:
  {"checkpoint": "init.safetensors", "trainTokens": "train.i32", "valTokens": "val.i32",
   "steps": int, "batch": B, "seq": T, "lr": float, "beta1": float, "beta2": float, "eps": float,
   "clip": float, "dropout": float, "cell": "lstm"|"gru"|"rnn", "vocab": V, "embed": E,
   "hidden": H, "layers": L, "threads": int, optional "logEvery" (default 100), "seed" (dropout RNG, 0),
   optional "seconds": a wall-clock budget instead of a step count (then "steps" is only an upper bound;
   the output's "steps" says how many ran)}

Token files are little-endian int32. The checkpoint holds the initial weights with PyTorch's
names (embedding.weight, rnn.weight_ih_l0, ..., decoder.weight, decoder.bias).

Batching (char-rnn contiguous streams, truncated BPTT): N train tokens, B streams,
Ls = floor((N-1)/B); stream b starts at tokens[b*Ls]; W = floor(Ls/T) windows per epoch;
step s uses window w = s mod W: x[t][b] = tok[b*Ls + w*T + t], y[t][b] = tok[b*Ls + w*T + t + 1].
The recurrent state is carried (detached) from window to window and reset to zeros when w == 0.
Loss = mean cross entropy over the T*B targets; clip_grad_norm_(clip) if clip > 0; Adam.
Evaluation: same layout on the val tokens (B streams of floor((Nv-1)/B)), windows of T including
the last partial one, state carried from zeros, eval mode (no dropout).

Prints ONE JSON line on stdout:
  {"steps", "trainLossLast" (mean of the last 50 step losses), "valNats" (sum of CE in nats),
   "valTargets", "seconds" (training loop wall time), "evalSeconds"}
and logs the loss every 100 steps on stderr.
"""
import json
import os
import sys
import time

import numpy as np

def read_tokens(path):
    return np.fromfile(path, dtype="<i4").astype(np.int64)


def main():
    if len(sys.argv) != 2:
        print("usage: torch_learn.py JOB.json", file=sys.stderr)
        sys.exit(2)
    with open(sys.argv[1]) as f:
        job = json.load(f)
    threads = int(job.get("threads", 1))
    # OpenBLAS reads its thread count when it is loaded (by `import torch`): set it first.
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    if threads > 1:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # shared machine: idle threads must sleep

    import torch
    import torch.nn.functional as F
    # The model and checkpoint reader shared with the parity test (imports torch: after the settings above).
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "python"))
    from reference_model import GateScopeLM, detach, read_safetensors

    torch.set_num_threads(threads)
    torch.manual_seed(int(job.get("seed", 0)))

    cell = job["cell"]
    V, E, H, L = int(job["vocab"]), int(job["embed"]), int(job["hidden"]), int(job["layers"])
    B, T = int(job["batch"]), int(job["seq"])
    steps = int(job["steps"])
    budget = float(job["seconds"]) if job.get("seconds") is not None else None
    log_every = int(job.get("logEvery", 100))
    dropout = float(job.get("dropout", 0.0))
    clip = float(job.get("clip", 0.0))

    model = GateScopeLM(cell, V, E, H, L, dropout)
    weights = read_safetensors(job["checkpoint"])
    state_dict = {k: torch.from_numpy(v) for k, v in weights.items()}
    model.load_state_dict(state_dict, strict=True)

    params = list(model.parameters())
    opt = torch.optim.Adam(params, lr=float(job["lr"]), betas=(float(job["beta1"]), float(job["beta2"])),
                           eps=float(job["eps"]))

    # ---- training -------------------------------------------------------------------------
    tok = torch.from_numpy(read_tokens(job["trainTokens"]))
    N = tok.numel()
    Ls = (N - 1) // B
    W = Ls // T
    if W < 1:
        raise SystemExit("train tokens too short: N=%d gives stream length %d < seq %d" % (N, Ls, T))
    stream_base = torch.arange(B, dtype=torch.int64) * Ls  # [B]
    t_offsets = torch.arange(T, dtype=torch.int64)  # [T]

    model.train()
    losses = []
    state = None
    t0 = time.perf_counter()
    done = 0
    for s in range(steps):
        if budget is not None and time.perf_counter() - t0 >= budget:
            break
        w = s % W
        if w == 0:
            state = None
        idx = stream_base[None, :] + (w * T + t_offsets)[:, None]  # [T, B]
        x = tok[idx]
        y = tok[idx + 1]
        opt.zero_grad(set_to_none=True)
        logits, state = model(x, detach(state))
        loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
        loss.backward()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()
        state = detach(state)
        lv = loss.item()
        losses.append(lv)
        done = s + 1
        if (s + 1) % log_every == 0 or (budget is None and s + 1 == steps):
            recent = losses[-log_every:]
            print("[torch_learn] step %d/%d loss %.6f (mean of last %d: %.6f) %.1fs" % (
                s + 1, steps, lv, len(recent), sum(recent) / len(recent), time.perf_counter() - t0),
                file=sys.stderr, flush=True)
    seconds = time.perf_counter() - t0
    last = losses[-50:]
    train_loss_last = sum(last) / len(last) if last else None

    # ---- evaluation -----------------------------------------------------------------------
    vtok = torch.from_numpy(read_tokens(job["valTokens"]))
    Nv = vtok.numel()
    Lv = (Nv - 1) // B
    val_nats = 0.0
    val_targets = 0
    e0 = time.perf_counter()
    model.eval()
    vbase = torch.arange(B, dtype=torch.int64) * Lv
    with torch.no_grad():
        state = None
        pos = 0
        while pos < Lv:
            tw = min(T, Lv - pos)
            idx = vbase[None, :] + (pos + torch.arange(tw, dtype=torch.int64))[:, None]  # [tw, B]
            logits, state = model(vtok[idx], state)
            nats = F.cross_entropy(logits.reshape(-1, V).double(), vtok[idx + 1].reshape(-1), reduction="sum")
            val_nats += float(nats.item())
            val_targets += tw * B
            pos += tw
    eval_seconds = time.perf_counter() - e0

    print(json.dumps({
        "steps": done,
        "trainLossLast": train_loss_last,
        "valNats": val_nats,
        "valTargets": val_targets,
        "seconds": seconds,
        "evalSeconds": eval_seconds,
    }), flush=True)


if __name__ == "__main__":
    main()
