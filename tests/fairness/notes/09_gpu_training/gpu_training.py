"""Course-notes style (the notes' "完整的模型训练套路(以CIFAR10为例)" and "使用显卡训练" code).

Idioms reproduced: the notes' model exactly as they write it, one `self.model = nn.Sequential(...)` of the
layers with `nn.Flatten()` (the same layers and parameters as the given `conv1` ... `fc2`, under other
names), and `x = self.model(x); return x`; `torch.device("cuda:0")` and an `if/elif/else` device choice;
`model = model.to(device)` and `loss_fn = loss_fn.to(device)`; `learning_rate = lr`; the training loop with
`for batch_idx, data in enumerate(train_loader, 0)`, `inputs, target = data`,
`inputs, target = inputs.to(device), target.to(device)` and `target.size(0)`, the running loss kept as a
tensor (the README asks for no `.item()` per batch) and printed every 300 batches; the test loop's `correct`, `total`, `total_test_loss`,
`_, predicted = torch.max(outputs.data, dim=1)`; the notes' Chinese progress prints and timing; a
`SummaryWriter` created only `if log_dir is not None` and closed at the end; `os.path.exists` /
`os.makedirs`; `"epoch_{}.pt".format(i + 1)` and `print("模型已保存")`.
"""

import os
import time

import torch
from torch import nn


def get_device():
    if torch.cuda.is_available():
        device = torch.device("cuda:0")
    elif torch.backends.mps.is_available():
        device = torch.device("mps")
    else:
        device = torch.device("cpu")
    return device


class TinyCifarNet(nn.Module):
    def __init__(self, num_classes=10):
        super(TinyCifarNet, self).__init__()
        self.model = nn.Sequential(
            nn.Conv2d(3, 32, 5, padding=2),
            nn.MaxPool2d(kernel_size=2),
            nn.Conv2d(32, 32, 5, padding=2),
            nn.MaxPool2d(kernel_size=2),
            nn.Conv2d(32, 64, 5, padding=2),
            nn.MaxPool2d(kernel_size=2),
            nn.Flatten(),
            nn.Linear(1024, 64),
            nn.Linear(64, num_classes),
        )

    def forward(self, x):
        x = self.model(x)
        return x


def train_one_epoch(model, train_loader, loss_fn, optimizer, device):
    model.train()
    running_loss = 0.0
    total = 0
    for batch_idx, data in enumerate(train_loader, 0):
        inputs, target = data
        inputs, target = inputs.to(device), target.to(device)
        optimizer.zero_grad()

        outputs = model(inputs)
        loss = loss_fn(outputs, target)
        loss.backward()
        optimizer.step()

        running_loss += loss.detach() * target.size(0)  # stays on the device
        total += target.size(0)
        if batch_idx % 300 == 299:
            print('[%5d] loss: %.3f' % (batch_idx + 1, running_loss / total))
    return (running_loss / total).item()


def evaluate(model, test_loader, loss_fn, device):
    model.eval()
    total_test_loss = 0.0
    correct = 0
    total = 0
    with torch.no_grad():
        for data in test_loader:
            images, labels = data
            images, labels = images.to(device), labels.to(device)
            outputs = model(images)
            loss = loss_fn(outputs, labels)
            total_test_loss += loss * labels.size(0)
            _, predicted = torch.max(outputs.data, dim=1)
            total += labels.size(0)
            correct += (predicted == labels).sum()
    return (total_test_loss / total).item(), (correct / total).item()


def fit(model, train_loader, test_loader, epochs, lr, device, log_dir=None, checkpoint_dir=None):
    model = model.to(device)
    loss_fn = nn.CrossEntropyLoss()
    loss_fn = loss_fn.to(device)
    learning_rate = lr
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=0.9)

    if log_dir is not None:
        from torch.utils.tensorboard import SummaryWriter
        writer = SummaryWriter(log_dir)
    if checkpoint_dir is not None and not os.path.exists(checkpoint_dir):
        os.makedirs(checkpoint_dir)

    history = {"train_loss": [], "test_loss": [], "test_accuracy": []}
    start_time = time.time()
    for i in range(epochs):
        print(f"-----第{i + 1}轮训练开始-----")
        train_loss = train_one_epoch(model, train_loader, loss_fn, optimizer, device)
        end_time = time.time()
        print(f"训练时间{end_time - start_time}")

        test_loss, test_accuracy = evaluate(model, test_loader, loss_fn, device)
        print(f"整体测试集上的loss:{test_loss}")
        print(f"整体测试集上的正确率:{test_accuracy}")
        history["train_loss"].append(train_loss)
        history["test_loss"].append(test_loss)
        history["test_accuracy"].append(test_accuracy)

        if log_dir is not None:
            writer.add_scalar("train_loss", train_loss, i + 1)
            writer.add_scalar("test_loss", test_loss, i + 1)
            writer.add_scalar("test_accuracy", test_accuracy, i + 1)
        if checkpoint_dir is not None:
            torch.save(model.state_dict(), os.path.join(checkpoint_dir, "epoch_{}.pt".format(i + 1)))
            print("模型已保存")

    if log_dir is not None:
        writer.close()
    return history
