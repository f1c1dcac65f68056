#!/usr/bin/python3
"""PyTorch side of test/ntk.test.ts (run with /usr/bin/python3, Debian python3-torch).

The empirical NTK by per-sample gradients, independently of src/measures/ntk.ts: dltheory's plain
cnn:CxSxS-K[:w=W] (margins_torch.py's module) or mlp:... (gram_torch.py's) in float64 and eval mode,
and for each point alone and each output c, torch.autograd.grad of f_c(x_i) with respect to every
parameter. The Gram of a parameter group (a state_dict name without its last part, conv1 for
conv1.weight and conv1.bias) is sum_c J_c J_c^T over the group's parameters; the NTK is the sum over
groups. Prints the group names as JSON and saves the groups' Grams and the NTK stacked as
[groups + 1, n, n] float64.

Usage: /usr/bin/python3 bench/ntk_torch.py --model M.safetensors --input X.npy --out G.npy
"""
import argparse
import json

import numpy as np
import torch

import gram_torch
import margins_torch


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    state, spec = margins_torch.read_safetensors(args.model)
    cnn = spec.startswith("cnn:")
    model = (margins_torch.build(spec) if cnn else gram_torch.build(spec)).double()
    model.load_state_dict({k: v.double() for k, v in state.items()})
    model.eval()
    x = torch.from_numpy(np.load(args.input)).double()
    names, params = zip(*model.named_parameters())
    groups = list(dict.fromkeys(name.rsplit(".", 1)[0] for name in names))
    rows = {g: [] for g in groups}  # per group: one [outputs * size] row per point
    for xi in x:
        out = model(xi.unsqueeze(0))
        u = (out[0] if cnn else out).flatten()
        per_output = [torch.autograd.grad(u[c], params, retain_graph=True) for c in range(u.numel())]
        for g in groups:
            rows[g].append(torch.cat([grads[i].flatten() for grads in per_output for i, name in enumerate(names) if name.rsplit(".", 1)[0] == g]))
    grams = [torch.stack(rows[g]) @ torch.stack(rows[g]).T for g in groups]
    np.save(args.out, torch.stack(grams + [sum(grams)]).numpy())
    print(json.dumps({"torchVersion": torch.__version__, "groups": groups}))


if __name__ == "__main__":
    main()
