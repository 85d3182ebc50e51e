"""PyTorch tutorials style (the quickstart's `train` / `test` loops, examples/mnist's `train` / `test`, the
"Training a classifier" CIFAR-10 tutorial, the TensorBoard tutorial and "Saving and loading models").

Idioms reproduced: the quickstart's device expression, one chained conditional
`"cuda" if ... else "mps" if ... else "cpu"` wrapped in `torch.device`; `torch.flatten(x, 1)  # all
dimensions except batch`; `size = len(dataloader.dataset)` as the number of samples;
`for batch, (X, y) in enumerate(dataloader)`; `X, y = X.to(device), y.to(device)`; `optimizer.zero_grad()`
first, as in examples/mnist; the quickstart's `loss: ... [current/size]` print every 100 batches (one
`.item()` at batch 0, within the README's allowance of 3 copies per epoch); the test loop under `torch.inference_mode()` (what torchvision's reference
scripts evaluate with) and examples/mnist's `pred = output.argmax(dim=1, keepdim=True)` /
`pred.eq(y.view_as(pred)).sum()`, the sums kept as device tensors; `model = model.to(device)`;
`SummaryWriter(log_dir=...)` with `add_scalar(..., global_step=epoch)` and `writer.flush()` every epoch;
`pathlib.Path(...).mkdir(parents=True, exist_ok=True)` and `torch.save(model.state_dict(), path / ...)`;
the quickstart's progress prints; the history as a `collections.defaultdict(list)`.
"""

from collections import defaultdict
from pathlib import Path

import torch
from torch import nn


def get_device():
    return torch.device(
        "cuda"
        if torch.cuda.is_available()
        else "mps"
        if torch.backends.mps.is_available()
        else "cpu"
    )


class TinyCifarNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(32, 32, kernel_size=5, padding=2)
        self.conv3 = nn.Conv2d(32, 64, kernel_size=5, padding=2)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(1024, 64)
        self.fc2 = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.pool(self.conv1(x))
        x = self.pool(self.conv2(x))
        x = self.pool(self.conv3(x))
        x = torch.flatten(x, 1)  # flatten all dimensions except batch
        x = self.fc1(x)
        x = self.fc2(x)
        return x


def train_one_epoch(model, dataloader, loss_fn, optimizer, device):
    size = len(dataloader.dataset)
    model.train()
    train_loss = torch.zeros((), device=device)
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)
        optimizer.zero_grad()

        # Compute prediction error
        pred = model(X)
        loss = loss_fn(pred, y)

        # Backpropagation
        loss.backward()
        optimizer.step()

        train_loss += loss.detach() * len(X)
        if batch % 100 == 0:
            loss, current = loss.item(), batch * dataloader.batch_size + len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")
    return (train_loss / size).item()


def evaluate(model, dataloader, loss_fn, device):
    size = len(dataloader.dataset)
    model.eval()
    test_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device)
    with torch.inference_mode():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            output = model(X)
            test_loss += loss_fn(output, y) * len(y)
            pred = output.argmax(dim=1, keepdim=True)  # the index of the largest logit
            correct += pred.eq(y.view_as(pred)).sum()
    return (test_loss / size).item(), (correct / size).item()


def fit(model, train_loader, test_loader, epochs, lr, device, log_dir=None, checkpoint_dir=None):
    model = model.to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)

    writer = None
    if log_dir is not None:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(log_dir=log_dir)
    if checkpoint_dir is not None:
        checkpoint_path = Path(checkpoint_dir)
        checkpoint_path.mkdir(parents=True, exist_ok=True)

    history = defaultdict(list)
    for epoch in range(1, epochs + 1):
        print(f"Epoch {epoch}\n-------------------------------")
        train_loss = train_one_epoch(model, train_loader, loss_fn, optimizer, device)
        test_loss, test_accuracy = evaluate(model, test_loader, loss_fn, device)
        print(f"Test Error: \n Accuracy: {(100 * test_accuracy):>0.1f}%, Avg loss: {test_loss:>8f} \n")
        history["train_loss"].append(train_loss)
        history["test_loss"].append(test_loss)
        history["test_accuracy"].append(test_accuracy)
        if writer is not None:
            writer.add_scalar("train_loss", train_loss, global_step=epoch)
            writer.add_scalar("test_loss", test_loss, global_step=epoch)
            writer.add_scalar("test_accuracy", test_accuracy, global_step=epoch)
            writer.flush()
        if checkpoint_dir is not None:
            torch.save(model.state_dict(), checkpoint_path / f"epoch_{epoch}.pt")
    if writer is not None:
        writer.close()
    print("Done!")
    return history
