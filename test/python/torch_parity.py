#!/usr/bin/python3
"""PyTorch side of GateScope's parity test (test/torch_parity.test.ts).

Usage: /usr/bin/python3 test/python/torch_parity.py JOB.json

The module is the one a GateScope checkpoint is the state dict of (GateScopeLM in reference_model.py):
    embedding = nn.Embedding(V, E); rnn = nn.LSTM/GRU/RNN(E, H, num_layers=L); decoder = nn.Linear(H, V)
with time-major input [T, B]; logits rows are t*B + b, as in GateScope.

JOB.json fields:
  mode      "check": load `weights` (a GateScope export) with load_state_dict(strict=True), then
                - forward + backward on window 0 from a zero state: logits, loss, gradients;
                - `steps` training steps (CrossEntropyLoss mean, backward, clip_grad_norm_(clip),
                  Adam(lr), default betas/eps) on windows 0..steps-1, the state carried (detached)
                  from one window to the next: the losses, the norms before clipping and the final
                  parameters. Exits non-zero unless clipping really happened at least once.
            "init": torch.manual_seed(seed), build the module with PyTorch's own init, write its
                state dict to `weights_out` (a .safetensors file with `metadata` as __metadata__,
                possibly none), and the logits of window 0 from a zero state.
  cell, vocab, embed, hidden, layers, T, B
  tokens    little-endian int32 file: `windows` windows, each x [T*B] then y [T*B], time-major
  out       results .safetensors path (F32 tensors)
  check:    weights, steps, lr, clip
  init:     seed, weights_out, metadata (object of strings or null)
"""
import json
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

from reference_model import GateScopeLM, detach, read_safetensors


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: array} as F32, in insertion order; `metadata` (strings) as __metadata__ if given."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, value in tensors.items():
        a = np.ascontiguousarray(np.asarray(value, dtype="<f4"))
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def numpy_of(t):
    return t.detach().cpu().numpy().astype(np.float32)


def main():
    if len(sys.argv) != 2:
        print("usage: torch_parity.py JOB.json", file=sys.stderr)
        sys.exit(2)
    with open(sys.argv[1]) as f:
        job = json.load(f)
    torch.set_num_threads(1)
    cell, V, E, H, L = job["cell"], job["vocab"], job["embed"], job["hidden"], job["layers"]
    T, B = job["T"], job["B"]
    toks = np.fromfile(job["tokens"], dtype="<i4").astype(np.int64)
    if toks.size % (2 * T * B) != 0:
        raise ValueError("token file holds %d ids, not a whole number of windows of 2*%d*%d" % (toks.size, T, B))
    if toks.min() < 0 or toks.max() >= V:
        raise ValueError("token ids outside [0, %d)" % V)
    wins = toks.reshape(-1, 2, T, B)
    windows = [(torch.from_numpy(w[0].copy()), torch.from_numpy(w[1].copy())) for w in wins]
    loss_fn = nn.CrossEntropyLoss()
    results = {}

    if job["mode"] == "check":
        sd = {k: torch.from_numpy(v) for k, v in read_safetensors(job["weights"], dtypes=("F32",)).items()}

        # Forward and gradients on window 0 from a zero state.
        model = GateScopeLM(cell, V, E, H, L)
        model.load_state_dict(sd, strict=True)
        x, y = windows[0]
        logits, _ = model(x)
        loss = loss_fn(logits.reshape(T * B, V), y.reshape(T * B))
        loss.backward()
        results["logits"] = numpy_of(logits.reshape(T * B, V))
        results["loss"] = np.array([loss.item()], dtype=np.float32)
        for name, p in model.named_parameters():
            if p.grad is None:
                raise RuntimeError("no gradient for " + name)
            results["grad." + name] = numpy_of(p.grad)

        # Training: state carried (detached) across consecutive windows, clipping, Adam.
        model = GateScopeLM(cell, V, E, H, L)
        model.load_state_dict(sd, strict=True)
        opt = torch.optim.Adam(model.parameters(), lr=job["lr"])
        clip = job["clip"]
        state = None
        losses, norms = [], []
        for s in range(job["steps"]):
            x, y = windows[s]
            logits, state = model(x, state)
            state = detach(state)
            loss = loss_fn(logits.reshape(T * B, V), y.reshape(T * B))
            opt.zero_grad()
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            losses.append(loss.item())
            norms.append(float(norm))
        if not any(n > clip for n in norms):
            print("gradient norms %s never exceeded clip %g: clipping was not exercised" % (norms, clip), file=sys.stderr)
            sys.exit(3)
        results["train_losses"] = np.array(losses, dtype=np.float32)
        results["train_norms"] = np.array(norms, dtype=np.float32)
        for name, p in model.state_dict().items():
            results["final." + name] = numpy_of(p)

    elif job["mode"] == "init":
        torch.manual_seed(job["seed"])
        model = GateScopeLM(cell, V, E, H, L)
        sd = model.state_dict()
        write_safetensors(job["weights_out"], {k: numpy_of(v) for k, v in sd.items()}, job.get("metadata"))
        with torch.no_grad():
            x, _ = windows[0]
            logits, _ = model(x)
        results["logits"] = numpy_of(logits.reshape(T * B, V))

    else:
        raise ValueError("unknown mode %r" % job["mode"])

    write_safetensors(job["out"], results)
    print(json.dumps({"ok": True, "tensors": len(results)}))


if __name__ == "__main__":
    main()
