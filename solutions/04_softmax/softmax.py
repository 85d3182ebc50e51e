"""04_softmax: softmax and cross-entropy by hand, input normalisation, and a fully connected digit classifier."""

import torch
import torch.nn.functional as F
from torch import nn


def softmax(z, dim=-1):
    """exp(z_i) / sum_j exp(z_j) along `dim`, computed after subtracting the largest logit."""
    exps = torch.exp(z - z.amax(dim=dim, keepdim=True))  # every exponent <= 0: nothing overflows
    return exps / exps.sum(dim=dim, keepdim=True)


def cross_entropy(logits, targets):
    """Mean over the batch of -log softmax(logits)[target], from logits (N, C) and class indices (N,)."""
    shifted = logits - logits.amax(dim=1, keepdim=True)
    log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    return -log_probs[torch.arange(len(targets)), targets].mean()


def normalize(x, mean, std):
    """(x - mean[c]) / std[c] for every channel c of x (..., C, H, W)."""
    mean = torch.as_tensor(mean, dtype=x.dtype, device=x.device).view(-1, 1, 1)
    std = torch.as_tensor(std, dtype=x.dtype, device=x.device).view(-1, 1, 1)
    return (x - mean) / std


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
        x = x.view(-1, 784)  # (N, 1, 28, 28) -> (N, 784)
        x = F.relu(self.l1(x))
        x = F.relu(self.l2(x))
        x = F.relu(self.l3(x))
        x = F.relu(self.l4(x))
        return self.l5(x)  # logits: CrossEntropyLoss applies the softmax itself


def evaluate(model, loader):
    """The fraction of samples in `loader` whose largest logit is at the true class."""
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for inputs, labels in loader:
            predicted = model(inputs).argmax(dim=1)
            correct += (predicted == labels).sum().item()
            total += len(labels)
    return correct / total
