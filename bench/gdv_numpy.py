#!/usr/bin/python3
"""numpy side of dltheory's GDV benchmark (bench/gdv.ts runs it with /usr/bin/python3, Debian numpy).

The same computation as src/measures/gdv.ts, in float64: z-score every dimension (population std,
times 1/2, a constant dimension gives 0), rows grouped by class, every distance from the Gram
identity |a-b|^2 = |a|^2 + |b|^2 - 2 a.b (the -2 applied to the block of rows) in blocks of rows (at most 2^22 elements per block),
intra-class pairs on class-centred rows, upper triangle only, each unordered pair once. In-place
numpy operations where they save a temporary. One warm-up run, then `--reps` timed runs; prints
the median seconds and the result as JSON.

Usage: /usr/bin/python3 bench/gdv_numpy.py --input X.npy --labels Y.npy [--reps R]
"""
import argparse
import json
import statistics
import time

import numpy as np

BUDGET = 2 ** 22


def rows_for(cols):
    return max(8, min(1024, BUDGET // max(1, cols)))


def sq(a):
    return np.einsum("ij,ij->i", a, a)


def gdv(x, y):
    order = np.argsort(y, kind="stable")
    x, y = x[order], y[order]
    _, starts = np.unique(y, return_index=True)
    offsets = list(starts) + [len(y)]
    const = x.max(0) == x.min(0)
    s = np.where(const, 0.0, 0.5 * (x - x.mean(0)) / np.where(const, 1.0, x.std(0)))
    norms = sq(s)
    L = len(offsets) - 1
    intra, inter = [], []
    for l in range(L):
        a, b = offsets[l], offsets[l + 1]
        c = s[a:b] - s[a:b].mean(0)
        nc = sq(c)
        total = 0.0
        B = rows_for(b - a)
        for r in range(0, b - a, B):
            g = (-2 * c[r:r + B]) @ c[r:].T
            g += nc[r:r + B, None]
            g += nc[None, r:]
            np.maximum(g, 0, out=g)
            np.sqrt(g, out=g)
            total += np.triu(g, 1).sum()
        intra.append(total / ((b - a) * (b - a - 1) / 2))
        if l == L - 1:
            continue
        cols, ncols = s[b:], norms[b:]
        acc = np.zeros(len(ncols))
        B = rows_for(len(ncols))
        for r in range(a, b, B):
            e = min(r + B, b)
            g = (-2 * s[r:e]) @ cols.T
            g += norms[r:e, None]
            g += ncols[None, :]
            np.maximum(g, 0, out=g)
            np.sqrt(g, out=g)
            acc += g.sum(0)
        for m in range(l + 1, L):
            inter.append(acc[offsets[m] - b:offsets[m + 1] - b].sum() / ((b - a) * (offsets[m + 1] - offsets[m])))
    root = np.sqrt(x.shape[1])
    return {"gdv": (np.mean(intra) - np.mean(inter)) / root, "intra": np.mean(intra) / root, "inter": np.mean(inter) / root}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--input", required=True)
    p.add_argument("--labels", required=True)
    p.add_argument("--reps", type=int, default=3)
    a = p.parse_args()
    x = np.load(a.input).astype(np.float64)
    y = np.load(a.labels)
    gdv(x[: len(x) // 10], y[: len(y) // 10])
    times, result = [], None
    for _ in range(a.reps):
        t0 = time.perf_counter()
        result = gdv(x, y)
        times.append(time.perf_counter() - t0)
    print(json.dumps({"numpyVersion": np.__version__, "medianSeconds": statistics.median(times), **result}))


if __name__ == "__main__":
    main()
