"""09_gpu_training: one training routine for CPU and GPU, with TensorBoard logs and checkpoints.

Fill in every function marked TODO; `pytest exercises/09_gpu_training` checks your work. See README.md.
"""

import os  # noqa: F401  (you may need it)

import torch  # noqa: F401
from torch import nn


def get_device():
    """A torch.device: "cuda" if torch.cuda.is_available(), else "mps" if torch.backends.mps.is_available(),
    else "cpu"."""
    # TODO: Implement for 09_gpu_training.
    raise NotImplementedError("09_gpu_training: implement get_device")


class TinyCifarNet(nn.Module):
    """The notes' CIFAR-10 model, in this order and with no activation function:

    conv1 3->32 k5 p2, pool, conv2 32->32 k5 p2, pool, conv3 32->64 k5 p2, pool, flatten, fc1 1024->64, fc2 64->10.
    """

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(32, 32, kernel_size=5, padding=2)
        self.conv3 = nn.Conv2d(32, 64, kernel_size=5, padding=2)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(1024, 64)
        self.fc2 = nn.Linear(64, num_classes)

    def forward(self, x):
        """x (N, 3, 32, 32) -> logits (N, 10)."""
        # TODO: Implement for 09_gpu_training.
        raise NotImplementedError("09_gpu_training: implement TinyCifarNet.forward")


def train_one_epoch(model, loader, loss_fn, optimizer, device):
    """One pass over `loader` in training mode; returns the mean loss per sample as a float.

    Move every batch's inputs AND targets to `device`; zero the gradients, backward() and step() every batch.
    Keep the running loss on the device and call .item() once, at the end.
    """
    # TODO: Implement for 09_gpu_training.
    raise NotImplementedError("09_gpu_training: implement train_one_epoch")


def evaluate(model, loader, loss_fn, device):
    """Returns (mean loss per sample, accuracy = correct / total) over `loader`, as floats.

    Evaluation mode (model.eval()) and no gradients (torch.no_grad()); inputs and targets moved to `device`.
    """
    # TODO: Implement for 09_gpu_training.
    raise NotImplementedError("09_gpu_training: implement evaluate")


def fit(model, train_loader, test_loader, epochs, lr, device, log_dir=None, checkpoint_dir=None):
    """Move the model to `device`, train it from its current weights `epochs` times with nn.CrossEntropyLoss() and
    torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9), evaluating on `test_loader` after every epoch.

    Returns {"train_loss": [...], "test_loss": [...], "test_accuracy": [...]}, one float per epoch.
    With `log_dir`: TensorBoard scalars "train_loss", "test_loss", "test_accuracy" at step = epoch (1, 2, ...).
    With `checkpoint_dir`: model.state_dict() saved to <checkpoint_dir>/epoch_<epoch>.pt after every epoch.
    """
    # TODO: Implement for 09_gpu_training.
    raise NotImplementedError("09_gpu_training: implement fit")
