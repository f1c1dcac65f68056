#!/usr/bin/python3
"""PyTorch twin of dltheory's shape autoencoder (src/nn/models/shape-ae.ts, docs/papers.md section 6).

The same layers under the same state_dict names, so a dltheory weights file loads as it is.

Usage: /usr/bin/python3 bench/shape_ae_torch.py --model M.safetensors --input X.npy --out DIR
  loads the weights (the size, latent length and width read from their shapes), runs X [N,1,S,S,S]
  through the model, takes the soft Dice loss against X and its gradients, and writes
  DIR/output.npy, DIR/codes.npy and DIR/grad.NAME.npy for every parameter; prints {"loss": ...}.
       /usr/bin/python3 bench/shape_ae_torch.py --model M.safetensors --input X.npy --steps K --threads T
  trains from those weights on X with Adam (lr 1e-3), one untimed warm-up step then K timed ones,
  and prints {"stepSeconds": [...], "losses": [...], "torchVersion": ...} (bench/shape-ae.ts).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from margins_torch import read_safetensors  # noqa: E402

SLOPE = 0.2


class ResBlock3d(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv3d(c, c, 3, padding=1)
        self.conv2 = nn.Conv3d(c, c, 3, padding=1)

    def forward(self, x):
        h = F.leaky_relu(F.instance_norm(self.conv1(x)), SLOPE)
        return x + F.instance_norm(self.conv2(h))


class ShapeAutoencoder(nn.Module):
    def __init__(self, size, latent, width=16):
        super().__init__()
        w = width
        ch = [w, 2 * w, 4 * w, 8 * w, 8 * w]
        back = ch[::-1]
        self.latent = latent
        self.stem = nn.Conv3d(1, w, 3, padding=1)
        self.encoder_blocks = nn.ModuleList(ResBlock3d(c) for c in ch[:4])
        self.down = nn.ModuleList(nn.Conv3d(c, ch[i + 1], 3, stride=2, padding=1) for i, c in enumerate(ch[:4]))
        self.to_latent = nn.Conv3d(8 * w, latent, size // 16)
        self.from_latent = nn.ConvTranspose3d(latent, 8 * w, size // 16)
        self.up = nn.ModuleList(nn.ConvTranspose3d(c, back[i + 1], 3, stride=2, padding=1, output_padding=1) for i, c in enumerate(back[:4]))
        self.decoder_blocks = nn.ModuleList(ResBlock3d(c) for c in back[1:])
        self.out = nn.Conv3d(w, 1, 3, padding=1)

    def encode(self, x):
        h = F.leaky_relu(self.stem(x), SLOPE)
        for block, down in zip(self.encoder_blocks, self.down):
            h = F.leaky_relu(down(block(h)), SLOPE)
        return self.to_latent(h).flatten(1)

    def decode(self, z):
        h = F.leaky_relu(self.from_latent(z.reshape(z.shape[0], self.latent, 1, 1, 1)), SLOPE)
        for up, block in zip(self.up, self.decoder_blocks):
            h = block(F.leaky_relu(up(h), SLOPE))
        return torch.sigmoid(self.out(h))

    def forward(self, x):
        return self.decode(self.encode(x))


def soft_dice_loss(p, t):
    p, t = p.flatten(1), t.flatten(1)
    return (1 - (2 * (p * t).sum(1) + 1) / ((p * p).sum(1) + (t * t).sum(1) + 1)).mean()


def load(path_model, path_input):
    state, _ = read_safetensors(path_model)
    latent, width, k = state["to_latent.weight"].shape[:3]
    model = ShapeAutoencoder(16 * k, latent, width // 8)
    model.load_state_dict(state)
    return model, torch.from_numpy(np.load(path_input))


def train(model, x, steps):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    times, losses = [], []
    for step in range(steps + 1):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = soft_dice_loss(model(x), x)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if step > 0:
            times.append(time.perf_counter() - t0)
    return {"stepSeconds": times, "losses": losses, "torchVersion": torch.__version__}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--out")
    ap.add_argument("--steps", type=int)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model, x = load(a.model, a.input)
    if a.steps:
        print(json.dumps(train(model, x, a.steps)))
        return
    codes = model.encode(x)
    output = model.decode(codes)
    loss = soft_dice_loss(output, x)
    loss.backward()
    np.save(os.path.join(a.out, "output.npy"), output.detach().numpy())
    np.save(os.path.join(a.out, "codes.npy"), codes.detach().numpy())
    for name, p in model.named_parameters():
        np.save(os.path.join(a.out, f"grad.{name}.npy"), p.grad.numpy())
    print(json.dumps({"loss": loss.item()}))


if __name__ == "__main__":
    main()
