#!/usr/bin/python3
"""PyTorch side of dltheory's Gram/NTK benchmark and of its test (bench/gram.ts and test/gram.test.ts run
it with /usr/bin/python3, Debian python3-torch).

The empirical NTK by per-sample gradients, independently of src/measures/gram.ts: dltheory's
mlp:IN-...-OUT[:ACTIVATION][:init=ntk] rebuilt as an nn.Module (Linear layers `layers.{i}`, the
activation between them, y = x W^T / sqrt(in) + b under init=ntk), float64, and the Jacobian of
every output with respect to every parameter for each point, by functorch's vmap(jacrev(...))
(torch 1.13 has functorch, not torch.func) in chunks of `--chunk` points. The Gram matrix of layer l
is the sum over its parameters of J J^T, J the [n, outputs x parameter size] Jacobian, which is the
trace over outputs; the NTK is the sum over layers. One warm-up on the first `--chunk` points, then
`--reps` timed runs; prints the median seconds as JSON and, with --out, saves the layers' Grams and
the NTK stacked as [layers + 1, n, n] float64.

Usage: /usr/bin/python3 bench/gram_torch.py --model M.safetensors --input X.npy --threads N
       [--reps R] [--chunk C] [--out G.npy]
"""
import argparse
import json
import math
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from functorch import jacrev, make_functional, vmap

from margins_torch import read_safetensors

ACTIVATIONS = {"relu": F.relu, "softplus": F.softplus, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


class MLP(nn.Module):
    def __init__(self, sizes, activation, ntk):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.activation = ACTIVATIONS[activation]
        self.scales = [1 / math.sqrt(a) if ntk else 1.0 for a in sizes[:-1]]

    def forward(self, x):
        for i, (layer, s) in enumerate(zip(self.layers, self.scales)):
            x = F.linear(x, layer.weight) * s + layer.bias
            if i < len(self.layers) - 1:
                x = self.activation(x)
        return x


def build(spec):
    kind, sizes, *opts = spec.split(":")
    assert kind == "mlp" and set(opts) <= {*ACTIVATIONS, "init=ntk", "init=he", "init=default"}, f"gram_torch.py builds plain mlp specs only, not {spec}"
    activation = next((o for o in opts if o in ACTIVATIONS), "relu")
    return MLP([int(s) for s in sizes.split("-")], activation, "init=ntk" in opts)


def grams(model, x, chunk):
    fmodel, params = make_functional(model)
    params = tuple(p.detach() for p in params)
    per_sample = vmap(jacrev(lambda p, xi: fmodel(p, xi.unsqueeze(0)).squeeze(0)), in_dims=(None, 0))
    n, outputs = x.shape[0], model(x[:1]).shape[1]
    jac = [torch.empty(n, p.numel() * outputs, dtype=torch.float64) for p in params]
    for start in range(0, n, chunk):
        for j, part in zip(jac, per_sample(params, x[start:start + chunk])):
            j[start:start + chunk] = part.reshape(part.shape[0], -1)
    per_param = [j @ j.T for j in jac]
    layers = [per_param[2 * i] + per_param[2 * i + 1] for i in range(len(model.layers))]
    return layers + [sum(layers)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--chunk", type=int, default=100)
    ap.add_argument("--out")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    state, spec = read_safetensors(args.model)
    model = build(spec).double()
    model.load_state_dict({k: v.double() for k, v in state.items()})
    model.eval()
    x = torch.from_numpy(np.load(args.input)).double()
    grams(model, x[:args.chunk], args.chunk)
    times = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        result = grams(model, x, args.chunk)
        times.append(time.perf_counter() - t0)
    if args.out:
        np.save(args.out, torch.stack(result).numpy())
    print(json.dumps({"torchVersion": torch.__version__, "threads": torch.get_num_threads(), "medianSeconds": statistics.median(times),
                      "layers": [f"layers.{i}" for i in range(len(model.layers))]}))


if __name__ == "__main__":
    main()
