#!/usr/bin/python3
"""PyTorch side of dltheory's margins benchmark (bench/margins.ts runs it with /usr/bin/python3).

The same algorithm as src/measures/margins.ts, written in PyTorch: per batch one forward pass that
keeps the probe activations (input, conv1, conv2, fc1 of the small CNN), j = the highest wrong
logit, ONE torch.autograd.grad of the logits with grad_outputs onehot(y) - onehot(j) to every probe
at once, d = (f_y - f_j) / sqrt(1e-6 + |grad|^2) per point, and per-unit sums of (h - c) and (h - c)^2
for the total variation (per batch in the model's dtype, added up in float64).

It serves timed passes: after loading and one warm-up batch it prints {"ready": true}, then each line
"pass" on standard input runs
one timed pass over every point and prints one JSON line (seconds, and the signatures so the caller
can check that both sides computed the same thing). bench/margins.ts alternates these passes with
its own, so each pair sees the same load.

Usage: printf 'pass\npass\n' | /usr/bin/python3 bench/margins_torch.py --model M.safetensors
       --input X.npy --labels Y.npy --threads N [--batch B] [--probes input,conv1,...]
"""
import argparse
import json
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_safetensors(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    kinds = {"F32": "<f4", "F64": "<f8"}
    tensors = {k: torch.from_numpy(np.frombuffer(data[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]],
               dtype=kinds[v["dtype"]]).reshape(v["shape"]).copy()) for k, v in header.items()}
    return tensors, meta["dltheory.model"]


class CNN(nn.Module):
    """dltheory's cnn:CxSxS-K[:w=W] without BatchNorm or dropout, returning the probe activations."""

    def __init__(self, c, side, classes, w):
        super().__init__()
        self.conv1 = nn.Conv2d(c, w, 3, padding=1)
        self.conv2 = nn.Conv2d(w, 2 * w, 3, padding=1)
        self.fc1 = nn.Linear(2 * w * (side // 4) ** 2, 128)
        self.fc2 = nn.Linear(128, classes)

    def forward(self, x):
        h1 = F.max_pool2d(F.relu(self.conv1(x)), 2)
        h2 = F.max_pool2d(F.relu(self.conv2(h1)), 2)
        z = self.fc1(h2.flatten(1))
        return self.fc2(F.relu(z)), {"input": x, "conv1": h1, "conv2": h2, "fc1": z}


def build(spec):
    parts = spec.split(":")
    assert parts[0] == "cnn" and not {"bn"} & set(parts), f"margins_torch.py builds plain cnn specs only, not {spec}"
    shape, classes = parts[1].split("-")
    c, side, _ = (int(s) for s in shape.split("x"))
    w = next((int(p[2:]) for p in parts if p.startswith("w=")), 32)
    return CNN(c, side, int(classes), w)


def margins(model, x, y, batch, names):
    n = x.shape[0]
    d = {p: np.empty(n) for p in names}
    diffs = np.empty(n)
    sums = {}
    for start in range(0, n, batch):
        xb = x[start:start + batch].clone().requires_grad_(True)
        yb = y[start:start + batch]
        out, probes = model(xb)
        f = out.detach()
        hot = F.one_hot(yb, f.shape[1])
        j = f.masked_fill(hot.bool(), float("-inf")).argmax(1)
        diff = (f.gather(1, yb[:, None]) - f.gather(1, j[:, None])).squeeze(1).double()
        hs = [probes[p] for p in names]
        grads = torch.autograd.grad(out, hs, grad_outputs=(hot - F.one_hot(j, f.shape[1])).to(out.dtype))
        diffs[start:start + len(yb)] = diff.numpy()
        for p, h, g in zip(names, hs, grads):
            sq = g.flatten(1).square().sum(1).double()
            d[p][start:start + len(yb)] = (diff / (sq + 1e-6).sqrt()).numpy()
            hd = h.detach().flatten(1)
            if p not in sums:
                sums[p] = [hd.mean(0), torch.zeros(hd.shape[1], dtype=torch.float64), torch.zeros(hd.shape[1], dtype=torch.float64)]
            shift, s1, s2 = sums[p]
            c = hd - shift
            s1 += c.sum(0).double()
            s2 += c.square().sum(0).double()
    kept = diffs > 0
    result = []
    for p in names:
        _, s1, s2 = sums[p]
        tv = float(max(0.0, float(s2.sum()) / n - float(s1.square().sum()) / n ** 2) ** 0.5)
        m = d[p][kept] / tv
        q1, q2, q3 = np.percentile(m, [25, 50, 75]) if len(m) else (float("nan"),) * 3
        result.append({"name": p, "totalVariation": tv, "droppedFraction": float(1 - kept.mean()),
                       "signature": {"q1": q1, "median": q2, "q3": q3, "lowerFence": q1 - 1.5 * (q3 - q1), "upperFence": q3 + 1.5 * (q3 - q1)}})
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--labels", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--probes", default="input,conv1,conv2,fc1")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    state, spec = read_safetensors(args.model)
    model = build(spec)
    model.load_state_dict(state)
    model.eval()
    x = torch.from_numpy(np.load(args.input))
    y = torch.from_numpy(np.load(args.labels))
    names = args.probes.split(",")
    margins(model, x[:args.batch], y[:args.batch], args.batch, names)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip() != "pass":
            continue
        t0 = time.perf_counter()
        result = margins(model, x, y, args.batch, names)
        seconds = time.perf_counter() - t0
        print(json.dumps({"torchVersion": torch.__version__, "threads": torch.get_num_threads(), "seconds": seconds, "probes": result}), flush=True)


if __name__ == "__main__":
    main()
