#!/usr/bin/python3
"""PyTorch side of dltheory's benchmark suite (bench/suite.ts runs it with /usr/bin/python3).

The same work as the dltheory side, case by case:
  mlp     MLP 784-1024-1024-10, one SGD training step at batch 128 (forward, cross-entropy,
          zero grad, backward, SGD step lr 0.01, no momentum);
  cnn     the small CNN (conv 1->32 3x3 pad 1, ReLU, maxpool 2, conv 32->64 3x3 pad 1, ReLU,
          maxpool 2, flatten, Linear 3136->128, ReLU, Linear 128->10), the same SGD step;
  matmul  a 2048x2048 float32 matmul.
Each case runs `--warmup` untimed iterations, then `--reps` iterations each timed on its own;
the reported figure is the median per-iteration time in milliseconds.

Usage: /usr/bin/python3 bench/torch_bench.py --threads N --json [--warmup W] [--reps R] [--only mlp,cnn]
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time


def timed(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return times


def summary(times):
    return {
        "medianMs": statistics.median(times),
        "minMs": min(times),
        "maxMs": max(times),
        "reps": len(times),
    }


def train_step_fn(torch, model, batch_shape, classes):
    x = torch.randn(*batch_shape)
    y = torch.randint(0, classes, (batch_shape[0],))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.0)
    loss_fn = torch.nn.functional.cross_entropy

    def step():
        out = model(x)
        loss = loss_fn(out, y)
        # set_to_none=True (PyTorch 2.x's default) drops the gradients, as dltheory's zeroGrad does.
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: core count)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--reps", type=int, default=20, help="timed iterations per case")
    ap.add_argument("--iters", type=int, default=None, help="alias of --reps")
    ap.add_argument("--only", default="", help="comma-separated case names (mlp, cnn, matmul)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    reps = args.iters if args.iters is not None else args.reps

    import torch

    threads = args.threads if args.threads else (os.cpu_count() or 1)
    torch.set_num_threads(threads)
    torch.manual_seed(args.seed)
    nn = torch.nn
    only = {s for s in args.only.split(",") if s}
    wanted = lambda name: not only or name in only  # noqa: E731

    cases = {}
    if wanted("mlp"):
        mlp = nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10))
        cases["mlp"] = summary(timed(train_step_fn(torch, mlp, (128, 784), 10), args.warmup, reps))
    if wanted("cnn"):
        cnn = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10),
        )
        cases["cnn"] = summary(timed(train_step_fn(torch, cnn, (128, 1, 28, 28), 10), args.warmup, reps))
    if wanted("matmul"):
        n = 2048
        a = torch.randn(n, n)
        b = torch.randn(n, n)
        s = summary(timed(lambda: torch.matmul(a, b), args.warmup, reps))
        s["gflops"] = 2.0 * n ** 3 / (s["medianMs"] / 1000.0) / 1e9
        cases["matmul"] = s

    report = {
        "torchVersion": torch.__version__,
        "pythonVersion": platform.python_version(),
        "threads": torch.get_num_threads(),
        "interopThreads": torch.get_num_interop_threads(),
        "parallelBackend": next(
            (l.split(":", 1)[1].strip() for l in torch.__config__.parallel_info().splitlines() if l.startswith("ATen parallel backend")),
            None,
        ),
        "warmup": args.warmup,
        "reps": reps,
        "cases": cases,
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(f"torch {report['torchVersion']}, {report['threads']} threads")
        for name, c in cases.items():
            extra = f"  {c['gflops']:.1f} GFLOP/s" if "gflops" in c else ""
            print(f"{name:8s} {c['medianMs']:9.2f} ms{extra}")


if __name__ == "__main__":
    sys.exit(main())
