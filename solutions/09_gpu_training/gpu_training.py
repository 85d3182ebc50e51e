"""09_gpu_training: one training routine for CPU and GPU, with TensorBoard logs and checkpoints."""

import os

import torch
from torch import nn


def get_device():
    """The fastest device here: CUDA, then Apple's MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


class TinyCifarNet(nn.Module):
    """The notes' CIFAR-10 model: three conv 5x5 (padding 2) + max-pool 2 stages, then 1024 -> 64 -> 10."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(32, 32, kernel_size=5, padding=2)
        self.conv3 = nn.Conv2d(32, 64, kernel_size=5, padding=2)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(1024, 64)
        self.fc2 = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.pool(self.conv1(x))  # (N, 32, 16, 16): padding 2 keeps 32x32, the pool halves it
        x = self.pool(self.conv2(x))  # (N, 32, 8, 8)
        x = self.pool(self.conv3(x))  # (N, 64, 4, 4)
        return self.fc2(self.fc1(x.flatten(1)))  # 64 * 4 * 4 = 1024 features -> 64 -> 10 logits


def train_one_epoch(model, loader, loss_fn, optimizer, device):
    """One pass over `loader`; returns the mean loss per sample."""
    model.train()
    total_loss = torch.zeros((), device=device)  # stays on the device: no copy back per batch
    count = 0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        total_loss += loss.detach() * len(targets)  # the batch's mean times its size
        count += len(targets)
    return (total_loss / count).item()  # one copy to the host, at the end


def evaluate(model, loader, loss_fn, device):
    """Mean loss per sample and accuracy (correct / total) over `loader`, without training."""
    model.eval()
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device)
    count = 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            outputs = model(images)
            total_loss += loss_fn(outputs, labels) * len(labels)
            correct += (outputs.argmax(dim=1) == labels).sum()
            count += len(labels)
    return (total_loss / count).item(), (correct / count).item()


def fit(model, train_loader, test_loader, epochs, lr, device, log_dir=None, checkpoint_dir=None):
    """Train with SGD (momentum 0.9) and cross-entropy; log and checkpoint every epoch; return the history."""
    model.to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    writer = None
    if log_dir is not None:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(log_dir)
    if checkpoint_dir is not None:
        os.makedirs(checkpoint_dir, exist_ok=True)
    history = {"train_loss": [], "test_loss": [], "test_accuracy": []}
    for epoch in range(1, epochs + 1):
        train_loss = train_one_epoch(model, train_loader, loss_fn, optimizer, device)
        test_loss, test_accuracy = evaluate(model, test_loader, loss_fn, device)
        history["train_loss"].append(train_loss)
        history["test_loss"].append(test_loss)
        history["test_accuracy"].append(test_accuracy)
        if writer is not None:
            writer.add_scalar("train_loss", train_loss, epoch)
            writer.add_scalar("test_loss", test_loss, epoch)
            writer.add_scalar("test_accuracy", test_accuracy, epoch)
        if checkpoint_dir is not None:
            torch.save(model.state_dict(), os.path.join(checkpoint_dir, f"epoch_{epoch}.pt"))
    if writer is not None:
        writer.close()  # flushes the event file to disk
    return history
