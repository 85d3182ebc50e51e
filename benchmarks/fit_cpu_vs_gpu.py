"""09_gpu_training: the reference `fit` on shapes10, on the CPU and on the GPU, same data and epochs, one run.

    python benchmarks/fit_cpu_vs_gpu.py [--epochs 3]

Prints both wall times, their ratio and the GPU's name; exits 1 with one line when there is no GPU.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, TensorDataset

from grader.data import shapes10

ROOT = Path(__file__).resolve().parents[1]


def reference():
    spec = importlib.util.spec_from_file_location("gpu_training", ROOT / "solutions/09_gpu_training/gpu_training.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed_fit(ref, device: torch.device, epochs: int) -> tuple[float, dict]:
    torch.manual_seed(0)
    train = DataLoader(TensorDataset(*shapes10(train=True)), batch_size=32, shuffle=True)
    test = DataLoader(TensorDataset(*shapes10(train=False)), batch_size=200)
    model = ref.TinyCifarNet()
    if device.type == "cuda":  # warm up CUDA and cuDNN outside the timing
        ref.fit(ref.TinyCifarNet(), train, test, epochs=1, lr=0.01, device=device)
        torch.cuda.synchronize()
    start = time.perf_counter()
    history = ref.fit(model, train, test, epochs=epochs, lr=0.01, device=device)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, history


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("fit_cpu_vs_gpu: no CUDA GPU is visible to torch; run this on a machine with one")
    ref = reference()
    cpu, _ = timed_fit(ref, torch.device("cpu"), args.epochs)
    gpu, _ = timed_fit(ref, torch.device("cuda"), args.epochs)
    print(f"GPU: {torch.cuda.get_device_name()}  torch {torch.__version__}  CPU threads {torch.get_num_threads()}")
    print(f"fit, shapes10 (600 train / 200 test images), {args.epochs} epochs, batch 32")
    print(f"CPU {cpu:.2f} s   GPU {gpu:.2f} s   CPU/GPU = {cpu / gpu:.1f}x")


if __name__ == "__main__":
    main()
