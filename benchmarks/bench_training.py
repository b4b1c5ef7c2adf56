"""Training speed: the tutorial-style loop against linreg_core, side by side in one process.

    python benchmarks/bench_training.py [--device cpu|cuda] [--quick]

The baseline is the tutorial's loop as usually written: every epoch it builds tensors from numpy,
runs nn.Linear + nn.MSELoss + SGD and reads the loss with .item(). Ours is linreg_core.train with its
defaults (full batch -> the sufficient-statistics engine; mini-batch -> device-resident autograd).
Each case prints seconds, the speed-up ratio, and how far the loss histories are apart.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import torch
from _common import best_of, line_data, machine, max_rel_diff
from torch import nn

from linreg_core import TrainConfig, build_design, train


def tutorial_full_batch(x: np.ndarray, y: np.ndarray, epochs: int, lr: float, device: str) -> list[float]:
    torch.manual_seed(0)
    model = nn.Linear(1, 1).to(device)
    criterion = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        inputs = torch.from_numpy(x.reshape(-1, 1)).float().to(device)  # rebuilt from numpy every epoch
        labels = torch.from_numpy(y.reshape(-1, 1)).float().to(device)
        loss = criterion(model(inputs), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())  # a host sync every epoch
    return losses


def tutorial_minibatch(x: np.ndarray, y: np.ndarray, epochs: int, lr: float, batch: int, device: str) -> float:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = nn.Linear(1, 1).to(device)
    criterion = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    last = float("nan")
    for _ in range(epochs):
        order = rng.permutation(len(x))
        total = 0.0
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            inputs = torch.from_numpy(x[idx].reshape(-1, 1)).float().to(device)
            labels = torch.from_numpy(y[idx].reshape(-1, 1)).float().to(device)
            loss = criterion(model(inputs), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        last = total / len(x)
    return last


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--quick", action="store_true", help="fewer baseline epochs at N=1e6 (per-epoch ratio unchanged)")
    args = ap.parse_args()
    print(f"machine: {machine()}; device {args.device}\n")
    print(f"{'case':<34} {'baseline s':>11} {'ours s':>9} {'speed-up':>9} {'loss agreement':>16}")

    epochs = 1000
    for n in (4, 10_000, 1_000_000):
        x, y = (np.array([1.0, 2.0, 3.0, 3.5]), np.array([2.0, 4.0, 6.0, 7.0])) if n == 4 else line_data(n)
        design = build_design(pd.DataFrame({"x": x, "y": y}), "y")
        base_epochs = 100 if (args.quick and n >= 1_000_000) else epochs
        repeat = 5 if n < 1_000_000 else 1
        t_base, base = best_of(lambda x=x, y=y, e=base_epochs: tutorial_full_batch(x, y, e, 0.01, args.device), repeat)
        cfg = TrainConfig(device=args.device, epochs=epochs, lr=0.01)
        t_ours, ours = best_of(lambda d=design, c=cfg: train(d, c), repeat)
        # per-epoch comparison when the baseline ran fewer epochs
        t_base_scaled = t_base * epochs / base_epochs
        agree = max_rel_diff(ours.loss_history[:base_epochs], base)
        print(f"{f'full batch N={n:,}, {epochs} epochs':<34} {t_base_scaled:>11.3f} {ours.train_seconds:>9.3f} "
              f"{t_base_scaled / ours.train_seconds:>8.1f}x {agree:>16.2e}")
        if n == 1_000_000:
            setup = t_ours - ours.train_seconds
            print(f"{'  (ours: one-off statistics pass)':<34} {'':>11} {setup:>9.3f}")

    x, y = line_data(1_000_000)
    design = build_design(pd.DataFrame({"x": x, "y": y}), "y")
    t_base, base_last = best_of(lambda: tutorial_minibatch(x, y, 1, 0.01, 1024, args.device), 1)
    t_ours, ours = best_of(lambda: train(design, TrainConfig(device=args.device, epochs=1, lr=0.01, batch_size=1024)), 1)
    print(f"{'mini-batch N=1,000,000, batch 1024':<34} {t_base:>11.3f} {ours.train_seconds:>9.3f} "
          f"{t_base / ours.train_seconds:>8.1f}x   final loss {base_last:.4f} vs {ours.loss_history[-1]:.4f}")
    print(f"\nengine used by ours: full batch '{train(design, TrainConfig(device=args.device, epochs=1)).engine}', "
          f"mini-batch '{ours.engine}'. Timings: best of 5 (N < 1e6) or 1 run; ours is the loop alone.")


if __name__ == "__main__":
    main()
