"""Regenerate the course data sets, byte for byte, and their checksums (datasets/SHA256SUMS).

    python datasets/make_datasets.py [OUT]      # OUT defaults to this folder

digits28 and breast_cancer come from scikit-learn's bundled copies (no download); shapes10 and the
counting sequences are generated from fixed seeds. Everything is written with NumPy and Pillow only, so
the same versions give the same bytes.
"""

from __future__ import annotations

import hashlib
import struct
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHAPES10_CLASSES = (
    "circle", "square", "triangle", "cross", "ring",
    "hstripes", "vstripes", "diagonal", "checker", "dots",
)


def write_idx(path: Path, array: np.ndarray) -> None:
    """MNIST's IDX format: magic (0, 0, 0x08 = ubyte, ndim), big-endian dims, then the bytes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def upsample(image: np.ndarray, size: int) -> np.ndarray:
    """Separable bilinear resize of a 2-D float image to size x size (pixel centres aligned)."""
    n = image.shape[0]
    src = (np.arange(size) + 0.5) * n / size - 0.5
    lo = np.clip(np.floor(src).astype(int), 0, n - 1)
    hi = np.clip(lo + 1, 0, n - 1)
    frac = np.clip(src - lo, 0.0, 1.0)
    rows = image[lo] * (1 - frac)[:, None] + image[hi] * frac[:, None]
    return rows[:, lo] * (1 - frac)[None, :] + rows[:, hi] * frac[None, :]


def make_digits28(out: Path) -> None:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.zeros((len(digits.images), 28, 28), dtype=np.uint8)
    for i, image in enumerate(digits.images):
        # 8x8 values 0..16 -> a 20x20 digit centred in 28x28, as MNIST's digits are.
        big = upsample(image / 16.0, 20)
        images[i, 4:24, 4:24] = np.round(np.clip(big, 0, 1) * 255).astype(np.uint8)
    labels = digits.target.astype(np.uint8)
    order = np.random.default_rng(2024).permutation(len(labels))
    train, test = order[:1437], order[1437:]
    raw = out / "digits28" / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    write_idx(raw / "train-images-idx3-ubyte", images[train])
    write_idx(raw / "train-labels-idx1-ubyte", labels[train])
    write_idx(raw / "t10k-images-idx3-ubyte", images[test])
    write_idx(raw / "t10k-labels-idx1-ubyte", labels[test])


def make_breast_cancer(out: Path) -> None:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    table = np.column_stack([data.data, data.target])
    lines = [",".join(format(v, ".10g") for v in row) for row in table]
    (out / "breast_cancer.csv").write_text("\n".join(lines) + "\n")


def draw_shape(kind: str, rng: np.random.Generator) -> np.ndarray:
    """One 32x32 RGB uint8 image of `kind`: a coloured shape on a noisy, darker background."""
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float64)
    cy, cx = rng.uniform(12, 20, size=2)
    r = rng.uniform(7, 11)
    if kind == "circle":
        mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2
    elif kind == "square":
        mask = (np.abs(yy - cy) <= r * 0.8) & (np.abs(xx - cx) <= r * 0.8)
    elif kind == "triangle":
        mask = (yy - cy <= r * 0.8) & (yy - cy >= -r) & (np.abs(xx - cx) <= (yy - cy + r) * 0.6)
    elif kind == "cross":
        mask = ((np.abs(yy - cy) <= 2) & (np.abs(xx - cx) <= r)) | ((np.abs(xx - cx) <= 2) & (np.abs(yy - cy) <= r))
    elif kind == "ring":
        d = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
        mask = (d <= r) & (d >= r - 3)
    elif kind == "hstripes":
        mask = (yy.astype(int) + int(rng.integers(4))) % 6 < 3
    elif kind == "vstripes":
        mask = (xx.astype(int) + int(rng.integers(4))) % 6 < 3
    elif kind == "diagonal":
        mask = np.abs((yy - cy) - (xx - cx)) <= 2.5
    elif kind == "checker":
        mask = ((yy.astype(int) // 4 + xx.astype(int) // 4) % 2) == 0
    elif kind == "dots":
        mask = ((yy.astype(int) % 8 < 3) & (xx.astype(int) % 8 < 3))
    else:
        raise ValueError(kind)
    background = rng.uniform(0, 90, size=3) + rng.normal(0, 12, size=(32, 32, 3))
    colour = rng.uniform(120, 255, size=3)
    image = np.where(mask[..., None], colour + rng.normal(0, 12, size=(32, 32, 3)), background)
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def make_shapes10(out: Path, train_per_class: int = 60, test_per_class: int = 20) -> None:
    from PIL import Image

    rng = np.random.default_rng(10)
    for split, count in (("train", train_per_class), ("test", test_per_class)):
        for kind in SHAPES10_CLASSES:
            folder = out / "shapes10" / split / kind
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                Image.fromarray(draw_shape(kind, rng), "RGB").save(folder / f"{i:03d}.png", optimize=False)


def make_counting(out: Path, seq_length: int = 10) -> None:
    rng = np.random.default_rng(8)
    folder = out / "counting"
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", 1000), ("test", 200)):
        bits = rng.integers(0, 2, size=(n, seq_length))
        rows = [",".join(map(str, row)) + f",{row.sum()}" for row in bits]
        (folder / f"{split}.csv").write_text("\n".join(rows) + "\n")


def write_checksums(out: Path) -> None:
    files = sorted(
        p for p in out.rglob("*") if p.is_file() and p.suffix not in (".py", ".md") and p.name != "SHA256SUMS"
    )
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(out).as_posix()}" for p in files]
    (out / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def main(out: Path = HERE) -> None:
    out.mkdir(parents=True, exist_ok=True)
    make_digits28(out)
    make_breast_cancer(out)
    make_shapes10(out)
    make_counting(out)
    write_checksums(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
