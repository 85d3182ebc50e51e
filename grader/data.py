"""The course's offline data sets, checked against `datasets/SHA256SUMS` on first use.

    from grader.data import digits28, digits28_loader, breast_cancer_path, shapes10, counting

The files live in the course's `datasets/` folder (or in `$COURSE_DATA_DIR`). They are read with NumPy and
Pillow, not torchvision, so that a check which does not need torchvision does not pay for importing it;
students read the same files with `torchvision.datasets.MNIST(root, download=False)`, `np.loadtxt` and
`torchvision.datasets.ImageFolder`.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from grader.errors import DataError

if TYPE_CHECKING:  # torch is imported where it is used: the batch's parent reads the checksums without it
    import torch
    from torch.utils.data import DataLoader

DIGITS28_MEAN, DIGITS28_STD = 0.1307, 0.3081  # MNIST's, as the notes use them
SHAPES10_MEAN, SHAPES10_STD = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)


def data_dir() -> Path:
    if os.environ.get("COURSE_DATA_DIR"):
        return Path(os.environ["COURSE_DATA_DIR"])
    return Path(__file__).resolve().parent.parent / "datasets"


def checksums(folder: Path | None = None) -> dict[str, str]:
    """The data files `datasets/SHA256SUMS` lists (relative paths) and their SHA-256 digests."""
    return dict(_checksums(Path(folder) if folder is not None else data_dir()))


@functools.cache
def _checksums(folder: Path) -> dict[str, str]:
    sums = folder / "SHA256SUMS"
    if not sums.is_file():
        raise DataError(f"{sums} is missing: is COURSE_DATA_DIR set to the course's datasets/ folder?")
    pairs = (line.split("  ", 1) for line in sums.read_text(encoding="utf-8").splitlines() if line.strip())
    return {name: digest for digest, name in pairs}


def verified(name: str) -> Path:
    """The path of data file `name` (relative to datasets/) once its SHA-256 matches SHA256SUMS."""
    return _verified(data_dir(), name)


@functools.cache
def _verified(folder: Path, name: str) -> Path:
    path = folder / name
    expected = _checksums(folder).get(name)
    if expected is None:
        raise DataError(f"{name} is not listed in {folder / 'SHA256SUMS'}")
    if not path.is_file():
        raise DataError(f"{path} is missing; regenerate it with `python datasets/make_datasets.py`")
    if hashlib.sha256(path.read_bytes()).hexdigest() != expected:
        raise DataError(f"{path} is corrupt (checksum mismatch); regenerate it with `python datasets/make_datasets.py`")
    return path


def verified_folder(prefix: str) -> Path:
    """Verify every listed file under `prefix` and return that folder."""
    names = [name for name in _checksums(data_dir()) if name.startswith(prefix + "/")]
    if not names:
        raise DataError(f"no files under {prefix}/ are listed in SHA256SUMS")
    for name in names:
        verified(name)
    return data_dir() / prefix


def read_idx(path: Path) -> np.ndarray:
    data = path.read_bytes()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


# --- digits28: 1,797 real handwritten digits at 28x28, in MNIST's files ---------------------------------

def digits28_root() -> Path:
    """The `root` to give `torchvision.datasets.MNIST(root, download=False)`."""
    verified_folder("digits28")
    return data_dir() / "digits28"


@functools.cache
def _digits28(folder: Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    import torch

    prefix = "digits28/MNIST/raw/" + ("train" if train else "t10k")
    images = read_idx(verified(f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(verified(f"{prefix}-labels-idx1-ubyte"))
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


def digits28(train: bool = True, normalize: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Images `(N, 1, 28, 28)` float32 (scaled to [0, 1], then normalised with MNIST's mean and std) and labels."""
    images, labels = _digits28(data_dir(), train)
    x = images.unsqueeze(1).float() / 255.0
    if normalize:
        x = (x - DIGITS28_MEAN) / DIGITS28_STD
    return x, labels.clone()


def digits28_loader(
    train: bool = True, batch_size: int = 64, flatten: bool = False, device: torch.device | str = "cpu", **kwargs
) -> DataLoader:
    """Batches of `digits28(train)`, shuffled when training; `device` puts the whole set there up front."""
    from torch.utils.data import DataLoader, TensorDataset

    x, y = digits28(train)
    if flatten:
        x = x.reshape(len(x), -1)
    dataset = TensorDataset(x.to(device), y.to(device))
    return DataLoader(dataset, batch_size=batch_size, shuffle=kwargs.pop("shuffle", train), **kwargs)


# --- breast_cancer.csv: 569 rows, 30 features, label last ----------------------------------------------

def breast_cancer_path() -> Path:
    return verified("breast_cancer.csv")


# --- shapes10: 3x32x32 colour images of 10 shapes, as ImageFolder PNGs ----------------------------------

def shapes10_root(train: bool = True) -> Path:
    """The folder to give `torchvision.datasets.ImageFolder`."""
    return verified_folder("shapes10/" + ("train" if train else "test"))


@functools.cache
def _shapes10(folder: Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    import torch
    from PIL import Image

    root = shapes10_root(train)
    classes = tuple(sorted(p.name for p in root.iterdir() if p.is_dir()))  # ImageFolder's order
    images, labels = [], []
    for label, name in enumerate(classes):
        for path in sorted((root / name).glob("*.png")):
            with Image.open(path) as image:
                images.append(np.asarray(image.convert("RGB")))
            labels.append(label)
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    return x, torch.tensor(labels)


def shapes10(train: bool = True, normalize: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Images `(N, 3, 32, 32)` float32 in [0, 1] (normalised when asked) and labels, in ImageFolder order."""
    import torch

    images, labels = _shapes10(data_dir(), train)
    x = images.float() / 255.0
    if normalize:
        x = (x - torch.tensor(SHAPES10_MEAN).view(1, 3, 1, 1)) / torch.tensor(SHAPES10_STD).view(1, 3, 1, 1)
    return x, labels.clone()


# --- counting: 0/1 sequences of length 10 and their count of ones ---------------------------------------

def counting(train: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """`X` of shape `(N, 10, 1)` float32 and `y` of shape `(N,)` float32, the number of ones in each row."""
    import torch

    table = np.loadtxt(verified("counting/" + ("train" if train else "test") + ".csv"), delimiter=",")
    return torch.from_numpy(table[:, :-1]).float().unsqueeze(-1), torch.from_numpy(table[:, -1]).float()
