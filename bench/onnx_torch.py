#!/usr/bin/python3
"""PyTorch side of dltheory's ONNX benchmark (bench/onnx.ts runs it with /usr/bin/python3).

Builds torchvision's resnet18(num_classes=10) as the ONNX tests do (test/fixtures/onnx_models.py:
seed 0, random BatchNorm statistics and affine maps) in eval mode, and writes to --out:
  model.onnx  the model exported with BatchNorm kept as nodes (TrainingMode.PRESERVE), opset 17,
              a dynamic batch axis, one output
  x.npy       a float32 batch [--batch, 3, 32, 32]
  y.npy       int64 labels in 0..9
Then it warms up, prints {"ready": true}, and answers each line "pass" on standard input with one
JSON line: the milliseconds of each of --iters steps timed on its own, and the loss (the same every
step: eval mode, no update). A step is what bench/onnx.ts times: zero grad (set to None), forward in eval mode, cross-entropy,
backward to every parameter.

Usage: printf 'pass\n' | /usr/bin/python3 bench/onnx_torch.py --out DIR --threads N [--batch B] [--iters I]
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures"))
from onnx_models import MODELS, randomise_statistics  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--iters", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=3)
    args = ap.parse_args()
    # onnx_models sets one thread for the test exports when it is imported.
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = MODELS["resnet18"][0]()
    with torch.no_grad():
        randomise_statistics(model)
    model.eval()
    torch.onnx.export(model, torch.randn(2, 3, 32, 32), os.path.join(args.out, "model.onnx"), opset_version=17, input_names=["x"],
                      output_names=["logits"], dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}},
                      training=torch.onnx.TrainingMode.PRESERVE)
    model.eval()
    x = torch.randn(args.batch, 3, 32, 32)
    y = torch.randint(0, 10, (args.batch,))
    np.save(os.path.join(args.out, "x.npy"), x.numpy())
    np.save(os.path.join(args.out, "y.npy"), y.numpy())

    def step():
        model.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        return loss.item()

    for _ in range(args.warmup):
        step()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip() != "pass":
            continue
        ms = []
        for _ in range(args.iters):
            t0 = time.perf_counter()
            loss = step()
            ms.append((time.perf_counter() - t0) * 1000.0)
        print(json.dumps({"torchVersion": torch.__version__, "threads": torch.get_num_threads(), "ms": ms, "loss": loss}), flush=True)


if __name__ == "__main__":
    main()
