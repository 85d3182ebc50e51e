"""04_softmax: softmax and cross-entropy by hand, input normalisation, and a fully connected digit classifier.

Fill in every function marked TODO; `pytest exercises/04_softmax` checks your work. See README.md.
"""

import torch  # noqa: F401
import torch.nn.functional as F  # noqa: F401
from torch import nn


def softmax(z, dim=-1):
    """softmax(z)_i = exp(z_i) / sum_j exp(z_j) along `dim`; every slice along `dim` sums to 1.

    Subtract the largest logit of each slice first (the result does not change, and exp no longer
    overflows at logits of 1000). Do not call torch.softmax, F.softmax or log_softmax.
    """
    # TODO: Implement for 04_softmax.
    raise NotImplementedError("04_softmax: implement softmax")


def cross_entropy(logits, targets):
    """The mean over the batch of -log softmax(logits_n)[targets_n], as a tensor (0-d), not a Python number.

    logits (N, C), targets (N,) class indices (int64). Compute log-softmax as
    z - max(z) - log(sum_j exp(z_j - max(z))), then pick each row's target entry (the NLL part).
    Do not call F.cross_entropy, F.nll_loss, log_softmax or torch.softmax.
    """
    # TODO: Implement for 04_softmax.
    raise NotImplementedError("04_softmax: implement cross_entropy")


def normalize(x, mean, std):
    """(x[..., c, :, :] - mean[c]) / std[c] for every channel c of x (..., C, H, W); x itself is left unchanged.

    mean and std are sequences with one number per channel, as for transforms.Normalize.
    """
    # TODO: Implement for 04_softmax.
    raise NotImplementedError("04_softmax: implement normalize")


class MLP(nn.Module):
    """784 -> 512 -> 256 -> 128 -> 64 -> 10, ReLU between the layers, logits out."""

    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(784, 512)
        self.l2 = nn.Linear(512, 256)
        self.l3 = nn.Linear(256, 128)
        self.l4 = nn.Linear(128, 64)
        self.l5 = nn.Linear(64, 10)

    def forward(self, x):
        """x (N, 1, 28, 28) or (N, 784) -> logits (N, 10).

        Flatten to (N, 784), ReLU after l1 to l4, nothing after l5: the loss applies the softmax.
        """
        # TODO: Implement for 04_softmax.
        raise NotImplementedError("04_softmax: implement MLP.forward")


def evaluate(model, loader):
    """The fraction (between 0 and 1) of all samples in `loader` whose largest logit is the true class.

    Put the model in eval mode and compute without gradients (torch.no_grad()).
    """
    # TODO: Implement for 04_softmax.
    raise NotImplementedError("04_softmax: implement evaluate")
