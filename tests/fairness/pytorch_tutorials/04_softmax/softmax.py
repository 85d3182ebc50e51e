"""PyTorch tutorials style ("Build the Neural Network", "Optimizing Model Parameters", torchvision's transforms).

Idioms reproduced: log-space arithmetic with `torch.logsumexp` (stable without an explicit max),
`exp(z - logsumexp(z))` for the softmax, `log_probs.gather(1, targets.unsqueeze(1))` to pick the
targets' log-probabilities, `torch.as_tensor(mean, dtype=x.dtype, device=x.device)` with
`[:, None, None]` indexing and `x.sub(mean).div(std)` as torchvision's Normalize writes it, an
`nn.Flatten()` module added in `__init__` and a `logits` variable, and the tutorial's `test_loop`:
`size = len(dataloader.dataset)`, `model.eval()`, `with torch.no_grad()`,
`correct += (pred.argmax(1) == y).type(torch.float).sum().item()`, `correct /= size`.
"""

import torch
import torch.nn.functional as F
from torch import nn


def softmax(z, dim=-1):
    return torch.exp(z - torch.logsumexp(z, dim=dim, keepdim=True))


def cross_entropy(logits, targets):
    log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    return -log_probs.gather(1, targets.unsqueeze(1)).mean()


def normalize(x, mean, std):
    mean = torch.as_tensor(mean, dtype=x.dtype, device=x.device)[:, None, None]
    std = torch.as_tensor(std, dtype=x.dtype, device=x.device)[:, None, None]
    return x.sub(mean).div(std)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.l1 = nn.Linear(784, 512)
        self.l2 = nn.Linear(512, 256)
        self.l3 = nn.Linear(256, 128)
        self.l4 = nn.Linear(128, 64)
        self.l5 = nn.Linear(64, 10)

    def forward(self, x):
        x = self.flatten(x)
        x = F.relu(self.l1(x))
        x = F.relu(self.l2(x))
        x = F.relu(self.l3(x))
        x = F.relu(self.l4(x))
        logits = self.l5(x)
        return logits


def evaluate(model, loader):
    dataloader = loader
    size = len(dataloader.dataset)
    model.eval()
    correct = 0
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    correct /= size
    print(f"Test Error: \n Accuracy: {(100 * correct):>0.1f}%")
    return correct
