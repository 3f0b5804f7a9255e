"""The PyTorch reference of a GateScope model, shared by the parity test (test/python/torch_parity.py)
and the learning benchmark (bench/torch_learn.py, which puts this folder on sys.path).

A GateScope checkpoint is the state dict of GateScopeLM:
    embedding = nn.Embedding(V, E); rnn = nn.LSTM/GRU/RNN(E, H, num_layers=L); decoder = nn.Linear(H, V)
with time-major input [T, B]. Importing this module imports torch: a caller that sets thread counts
through the environment (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS) sets them first.
"""
import json
import struct

import numpy as np
import torch.nn as nn

SAFETENSORS_DTYPES = {
    "F32": np.float32, "F64": np.float64, "F16": np.float16,
    "I32": np.int32, "I64": np.int64, "I16": np.int16, "I8": np.int8, "U8": np.uint8,
}


def read_safetensors(path, dtypes=None):
    """{name: ndarray} of a safetensors file, skipping __metadata__. `dtypes` (default: all of
    SAFETENSORS_DTYPES) names the dtypes accepted; any other is an error."""
    dtypes = SAFETENSORS_DTYPES if dtypes is None else dtypes
    with open(path, "rb") as f:
        raw = f.read()
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + header_len].decode("utf-8"))
    data_start = 8 + header_len
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        if meta["dtype"] not in dtypes:
            raise ValueError("%s: tensor %s has dtype %s, expected one of %s" % (path, name, meta["dtype"], ", ".join(dtypes)))
        dtype = np.dtype(SAFETENSORS_DTYPES[meta["dtype"]]).newbyteorder("<")
        begin, end = meta["data_offsets"]
        shape = tuple(meta["shape"])
        count = int(np.prod(shape)) if shape else 1
        if end - begin != dtype.itemsize * count:
            raise ValueError("%s: tensor %s has %d bytes, shape %s needs %d" % (path, name, end - begin, shape, dtype.itemsize * count))
        arr = np.frombuffer(raw, dtype=dtype, count=count, offset=data_start + begin)
        out[name] = arr.reshape(shape).astype(dtype.newbyteorder("="), copy=True)
    return out


class GateScopeLM(nn.Module):
    """Embedding, a stacked LSTM/GRU/RNN and a linear decoder; `dropout` (training only) between the
    stacked layers and before the decoder, as GateScope applies it."""

    def __init__(self, cell, V, E, H, L, dropout=0.0):
        super().__init__()
        self.embedding = nn.Embedding(V, E)
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell]
        # nn.* applies `dropout` between stacked layers only (and warns if L == 1).
        self.rnn = rnn(E, H, num_layers=L, dropout=dropout if L > 1 else 0.0)  # time-major
        self.dropout = nn.Dropout(dropout)
        self.decoder = nn.Linear(H, V)

    def forward(self, x, state=None):
        out, state = self.rnn(self.embedding(x), state)
        return self.decoder(self.dropout(out)), state


def detach(state):
    """The recurrent state (a tensor, a (h, c) tuple, or None) cut from the graph."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()
