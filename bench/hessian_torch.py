#!/usr/bin/python3
"""PyTorch side of dltheory's Hessian test and benchmark (test/hessian.test.ts and bench/hessian.ts run it
with /usr/bin/python3, Debian python3-torch), independently of src/measures/hessian.ts.

dltheory's plain cnn:CxSxS-K[:w=W] (margins_torch.py's module) or mlp:... (gram_torch.py's), weights read
from the safetensors file dltheory wrote, in eval mode; the loss is the mean cross-entropy over the
points X.npy with int64 labels Y.npy.

exact  the whole Hessian over every parameter by torch.autograd.functional.hessian, in float64, of the
       loss as a function of the parameters flattened and concatenated in named_parameters order (a
       functional_call of the module); saves it to --out as [p, p] float64 and prints each model's
       parameter names and sizes as JSON. Several models, each with its --input, --labels and --out,
       share one start of torch.
serve  the benchmark: one Hessian-vector product H v by double backward, the model in its file's dtype
       (v from V.npy): torch.autograd.grad of the loss with create_graph=True, then torch.autograd.grad
       of the gradient with grad_outputs v. After one warm-up product it prints {"ready": true}, then
       answers each line "pass" on standard input with one JSON line: the milliseconds of each of
       --iters products timed on its own, and with the first pass H v saved to --out.

Usage: /usr/bin/python3 bench/hessian_torch.py exact --model M.safetensors --input X.npy --labels Y.npy --out H.npy [--model ...]
       printf 'pass\\n' | /usr/bin/python3 bench/hessian_torch.py serve --model M.safetensors --input X.npy
       --labels Y.npy --vector V.npy --threads N [--iters I] [--out HV.npy]
"""
import argparse
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.utils.stateless import functional_call

import gram_torch
import margins_torch


def load(path, dtype):
    state, spec = margins_torch.read_safetensors(path)
    cnn = spec.startswith("cnn:")
    model = (margins_torch.build(spec) if cnn else gram_torch.build(spec)).to(dtype)
    model.load_state_dict({k: v.to(dtype) for k, v in state.items()})
    model.eval()
    # margins_torch's CNN also returns its probe activations.
    return (lambda *a, **k: model(*a, **k)[0]) if cnn else model, model


def exact(model_path, input_path, labels_path, out_path):
    _, model = load(model_path, torch.float64)
    x = torch.from_numpy(np.load(input_path)).double()
    y = torch.from_numpy(np.load(labels_path))
    names, params = zip(*((n, p.detach()) for n, p in model.named_parameters()))
    sizes = [p.numel() for p in params]

    def loss(theta):
        pieces = {n: t.view(p.shape) for n, t, p in zip(names, theta.split(sizes), params)}
        out = functional_call(model, pieces, (x,))
        return F.cross_entropy(out[0] if isinstance(out, tuple) else out, y)

    h = torch.autograd.functional.hessian(loss, torch.cat([p.flatten() for p in params]), vectorize=True)
    np.save(out_path, h.numpy())
    return {"names": names, "sizes": sizes}


def serve(args):
    torch.set_num_threads(args.threads)
    [model_path], [input_path], [labels_path] = args.model, args.input, args.labels
    state, _ = margins_torch.read_safetensors(model_path)
    dtype = next(iter(state.values())).dtype
    forward, model = load(model_path, dtype)
    x = torch.from_numpy(np.load(input_path)).to(dtype)
    y = torch.from_numpy(np.load(labels_path))
    params = list(model.parameters())
    v = torch.from_numpy(np.load(args.vector)).to(dtype).split([p.numel() for p in params])
    v = [t.view(p.shape) for t, p in zip(v, params)]

    def hvp():
        g = torch.autograd.grad(F.cross_entropy(forward(x), y), params, create_graph=True)
        return torch.autograd.grad(g, params, grad_outputs=v)

    hvp()
    print(json.dumps({"ready": True}), flush=True)
    first = True
    for line in sys.stdin:
        if line.strip() != "pass":
            continue
        ms = []
        for _ in range(args.iters):
            t0 = time.perf_counter()
            hv = hvp()
            ms.append((time.perf_counter() - t0) * 1000.0)
        if first and args.out:
            np.save(args.out[0], torch.cat([t.flatten() for t in hv]).double().numpy())
        first = False
        print(json.dumps({"torchVersion": torch.__version__, "threads": torch.get_num_threads(), "ms": ms}), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["exact", "serve"])
    # exact takes several models, each with its own --input, --labels and --out, in one start of torch.
    ap.add_argument("--model", required=True, action="append")
    ap.add_argument("--input", required=True, action="append")
    ap.add_argument("--labels", required=True, action="append")
    ap.add_argument("--out", action="append")
    ap.add_argument("--vector")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--iters", type=int, default=1)
    args = ap.parse_args()
    if args.mode == "exact":
        torch.set_num_threads(1)
        models = [exact(*paths) for paths in zip(args.model, args.input, args.labels, args.out)]
        print(json.dumps({"torchVersion": torch.__version__, "models": models}))
    else:
        serve(args)


if __name__ == "__main__":
    main()
