"""Public checks of 09_gpu_training: run them with `pytest exercises/09_gpu_training`.

With a GPU, `grader run 09_gpu_training --device cuda` also runs the checks marked `cuda` on it.
"""

import pytest
import torch
from torch import nn
from torch.utils._pytree import tree_leaves
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data._utils.collate import default_collate

from grader.checks import expect, expect_equal, expect_number, expect_shape, expect_type, fail
from grader.i18n import _

# --- batches that remember whether they were moved to the device ----------------------------------------
#
# On a machine without a GPU every tensor is already on the CPU, so a forgotten `.to(device)` changes nothing
# there. These batches notice it anyway: each tensor a loader yields records `.to(...)`, `.cuda()`, `.cpu()`
# and every computation it takes part in before it was moved. Nothing is raised, so student code cannot
# swallow the evidence; the check reads the record afterwards.

_META = {
    torch.Tensor.size, torch.Tensor.dim, torch.Tensor.numel, torch.Tensor.nelement, torch.Tensor.__len__,
    torch.Tensor.__repr__, torch.Tensor.__format__, torch.Tensor.element_size, torch.Tensor.is_floating_point,
    torch.Tensor.get_device,
}
# Same data in another dtype or shape: still not moved, still watched.
_RESHAPE = {
    torch.Tensor.float, torch.Tensor.double, torch.Tensor.long, torch.Tensor.int, torch.Tensor.half,
    torch.Tensor.contiguous, torch.Tensor.view, torch.Tensor.reshape, torch.Tensor.flatten, torch.Tensor.squeeze,
    torch.Tensor.unsqueeze, torch.Tensor.permute, torch.Tensor.detach, torch.Tensor.clone, torch.Tensor.pin_memory,
    torch.Tensor.__getitem__,
}
_MOVES = {torch.Tensor.to, torch.Tensor.cuda, torch.Tensor.cpu, torch.as_tensor}


class MoveLog:
    """What happened to the batches one loader yielded."""

    def __init__(self):
        self.batches = []  # [(inputs, targets)] as yielded
        self.used = []  # (role, batch number, what used it) for data used before being moved
        self.moved_to = []  # (role, batch number, device type)


def _moves_somewhere(func, args, kwargs):
    if func is not torch.Tensor.to:
        return func is not torch.as_tensor or "device" in kwargs
    return "device" in kwargs or any(
        isinstance(a, (torch.device, str, int, torch.Tensor)) and not isinstance(a, bool) for a in args[1:]
    )


def _name(func):
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)


class WatchedBatch(torch.Tensor):
    """A batch tensor that notes what is done with it before it is moved to the device."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        watched = [t for t in tree_leaves((args, kwargs)) if isinstance(t, WatchedBatch)]
        with torch._C.DisableTorchFunctionSubclass():
            result = func(*args, **kwargs)
            if func in _META or getattr(func, "__name__", "") == "__get__":
                return result
            if func in _MOVES and _moves_somewhere(func, args, kwargs) and isinstance(result, torch.Tensor):
                for t in watched:
                    t._log.moved_to.append((t._role, t._batch, result.device.type))
                return result.as_subclass(torch.Tensor)  # a plain tensor from here on
            if func in _RESHAPE or func is torch.Tensor.to:
                return _watch(result, watched[0]) if isinstance(result, torch.Tensor) and watched else result
        for t in watched:
            t._log.used.append((t._role, t._batch, _name(func)))
        return result


def _watch(tensor, like=None, role=None, batch=None, log=None):
    with torch._C.DisableTorchFunctionSubclass():
        watched = tensor.as_subclass(WatchedBatch)
    watched._role = role if like is None else like._role
    watched._batch = batch if like is None else like._batch
    watched._log = log if like is None else like._log
    return watched


def watched_loader(x, y, batch_size):
    """A real DataLoader (no shuffling) whose batches are WatchedBatch tensors; returns (loader, log)."""
    log = MoveLog()

    def collate(samples):
        inputs, targets = default_collate(samples)
        number = len(log.batches) + 1
        batch = (_watch(inputs, role="inputs", batch=number, log=log),
                 _watch(targets, role="targets", batch=number, log=log))
        log.batches.append(batch)
        return batch

    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False, collate_fn=collate), log


def expect_moved(log, device, what):
    """Every batch was iterated, and its inputs and targets moved to `device` before any computation used them."""
    __tracebackhide__ = True
    expect(len(log.batches) > 0, _("{what} never iterated over the loader").format(what=what),
           hint=_("for inputs, targets in loader: ..."))
    for role, batch, op in log.used:
        fail(_("{what}: the {role} of batch {batch} were used ({op}) before being moved to the device").format(
            what=what, role=role, batch=batch, op=op),
            hint=_("{role} = {role}.to(device), and use what .to() returns").format(role=role))
    for number in range(1, len(log.batches) + 1):
        for role in ("inputs", "targets"):
            devices = [d for r, b, d in log.moved_to if r == role and b == number]
            expect(bool(devices), _("{what}: the {role} of batch {batch} were never moved to the device").format(
                what=what, role=role, batch=number),
                hint=_("{role} = {role}.to(device) for every batch, the {role} as well as the {other}").format(
                    role=role, other="targets" if role == "inputs" else "inputs"))
            expect(devices[-1] == device.type,
                   _("{what}: the {role} of batch {batch} were moved to {moved}, not to {device}").format(
                       what=what, role=role, batch=number, moved=devices[-1], device=device.type),
                   hint=_("use the `device` argument, do not hard-code a device"))


class Probe(nn.Module):
    """A small linear classifier that records, at every forward, its mode and whether autograd is on."""

    def __init__(self, in_features=3 * 32 * 32, classes=10):
        super().__init__()
        self.linear = nn.Linear(in_features, classes)
        self.calls = []  # (self.training, torch.is_grad_enabled())

    def forward(self, x):
        self.calls.append((self.training, torch.is_grad_enabled()))
        return self.linear(x.flatten(1))


def _devices(output):
    return {t.device.type for t in tree_leaves(output) if isinstance(t, torch.Tensor)}


def random_images(n, classes=10):
    return torch.randn(n, 3, 32, 32), torch.randint(0, classes, (n,))


def pretend_devices(monkeypatch, cuda, mps):
    """Every way of asking which accelerator is there answers as if CUDA and MPS were (or were not) available:
    torch.cuda.is_available() and device_count(), torch.backends.mps.is_available() and is_built(), and
    torch.accelerator's is_available(), current_accelerator() and device_count()."""
    accelerator = torch.device("cuda") if cuda else torch.device("mps") if mps else None
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: int(cuda))
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    monkeypatch.setattr(torch.backends.mps, "is_built", lambda: mps)
    if hasattr(torch, "accelerator"):
        monkeypatch.setattr(torch.accelerator, "is_available", lambda: accelerator is not None)
        monkeypatch.setattr(torch.accelerator, "current_accelerator", lambda check_available=False: accelerator)
        monkeypatch.setattr(torch.accelerator, "device_count", lambda: int(accelerator is not None))


def expect_history(history, epochs, what):
    """fit's history: a dict of per-epoch lists of finite numbers; returns it as {key: [float]}."""
    __tracebackhide__ = True
    layout = _('return {"train_loss": [...], "test_loss": [...], "test_accuracy": [...]}, one value per epoch in each')
    expect(isinstance(history, dict), _("{what}: expected a dict, got {got}").format(what=what,
                                                                                    got=type(history).__name__),
           hint=layout)
    numbers = {}
    for key in ("train_loss", "test_loss", "test_accuracy"):
        expect(key in history, _("{what} has no {key!r} entry; its keys are {keys}").format(
            what=what, key=key, keys=sorted(map(str, history))), hint=layout)
        expect_type(history[key], (list, tuple), f"{what}[{key!r}]", hint=_("a list with one value per epoch"))
        expect_equal(len(history[key]), epochs, _("len({what}[{key!r}]) after {epochs} epochs").format(
            what=what, key=key, epochs=epochs), hint=_("append one value per epoch"))
        numbers[key] = [expect_number(v, f"{what}[{key!r}][{i}]") for i, v in enumerate(history[key])]
    return numbers  # what the accuracies must be is evaluate's business: its own checks grade it


# --- the checks -----------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _restore_grad_mode():
    # A student's evaluate() that switches autograd off for good must not break the checks after it.
    yield
    torch.set_grad_enabled(True)


@pytest.mark.points(1)
def test_get_device_prefers_cuda(student, monkeypatch):
    pretend_devices(monkeypatch, cuda=True, mps=False)
    got = student.get_device()
    expect_type(got, torch.device, _("get_device() with CUDA available"),
                hint=_('return a torch.device: torch.device("cuda")'))
    expect_equal(got.type, "cuda", _("get_device().type with CUDA available"),
                 hint=_("ask torch.cuda.is_available() first, each time get_device() is called"))
    pretend_devices(monkeypatch, cuda=False, mps=False)
    got = student.get_device()
    expect_type(got, torch.device, _("get_device() with no GPU"), hint=_('return a torch.device: torch.device("cpu")'))
    expect_equal(got.type, "cpu", _("get_device().type with neither CUDA nor MPS available"),
                 hint=_("the CPU when neither CUDA nor MPS is available"))


@pytest.mark.points(1)
def test_tiny_cifar_net_output_shape(student):
    model = student.TinyCifarNet()
    expect_type(model, nn.Module, "TinyCifarNet()")
    expect_shape(model(torch.randn(4, 3, 32, 32)), (4, 10), "TinyCifarNet()(x of shape (4, 3, 32, 32))",
                 hint=_("three conv+pool stages take 32x32 to 4x4: flatten (N, 64, 4, 4) to (N, 1024)"))


@pytest.mark.points(2)
def test_train_one_epoch_moves_inputs_and_targets(student, device):
    x, y = random_images(48)
    loader, log = watched_loader(x, y, batch_size=16)
    model = Probe().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss = student.train_one_epoch(model, loader, nn.CrossEntropyLoss(), optimizer, device)
    expect_moved(log, device, "train_one_epoch")
    expect_number(loss, _("train_one_epoch(...)'s return value (the mean loss)"),
                  hint=_("return the mean loss as a float: .item()"))


@pytest.mark.points(2)
def test_evaluate_uses_eval_mode_and_no_grad(student, device):
    x, y = random_images(40)
    model = Probe().to(device).train()
    result = student.evaluate(model, DataLoader(TensorDataset(x, y), batch_size=20), nn.CrossEntropyLoss(), device)
    expect(len(model.calls) > 0, _("evaluate never called the model"))
    expect(not any(training for training, _grad in model.calls), _("evaluate ran the model in training mode"),
           hint=_("call model.eval() before the loop (dropout and batch-norm behave differently in training)"))
    expect(not any(grad for _training, grad in model.calls), _("evaluate ran the model with gradients enabled"),
           hint=_("put the loop inside `with torch.no_grad():`"))
    expect_evaluate_pair(result)
    expect_number(result[0], _("evaluate(...)[0] (the mean loss)"))
    accuracy = expect_number(result[1], _("evaluate(...)[1] (the accuracy)"))
    expect(0.0 <= accuracy <= 1.0, _("evaluate(...)[1] (the accuracy) is {value}, not in [0, 1]").format(
        value=f"{accuracy:g}"), hint=_("correct / total: a fraction in [0, 1]"))


def expect_evaluate_pair(result):
    __tracebackhide__ = True
    expect_type(result, (tuple, list), "evaluate(...)", hint=_("return (mean_loss, accuracy)"))
    expect_equal(len(result), 2, "len(evaluate(...))", hint=_("return (mean_loss, accuracy)"))


@pytest.mark.points(1)
def test_fit_returns_history_per_epoch(student, device):
    x, y = random_images(64)
    train = DataLoader(TensorDataset(x[:48], y[:48]), batch_size=16, shuffle=True)
    test = DataLoader(TensorDataset(x[48:], y[48:]), batch_size=16)
    history = student.fit(student.TinyCifarNet(), train, test, epochs=2, lr=0.01, device=device)
    expect_history(history, 2, "fit(..., epochs=2)")


@pytest.mark.cuda
@pytest.mark.points(2)
def test_fit_trains_on_cuda(student, device):
    from grader.data import shapes10

    x, y = shapes10(train=True)
    model = student.TinyCifarNet()
    seen = set()
    hooks = [m.register_forward_hook(lambda m, i, out: seen.update(_devices(out))) for m in model.modules()]
    train = DataLoader(TensorDataset(x[:256], y[:256]), batch_size=32, shuffle=True)
    test = DataLoader(TensorDataset(x[256:384], y[256:384]), batch_size=64)
    history = student.fit(model, train, test, epochs=1, lr=0.01, device=device)
    for hook in hooks:
        hook.remove()
    expect_history(history, 1, _("fit(..., epochs=1) on CUDA"))
    for name, p in model.named_parameters():
        expect(p.device.type == "cuda", _("after fit(..., device=cuda) the parameter {name} is on {device}").format(
            name=name, device=p.device.type), hint=_("model.to(device) at the start of fit"))
    expect(seen == {"cuda"}, _("during fit on CUDA the layers produced tensors on {devices}").format(
        devices=sorted(seen)), hint=_("move the model and every batch (inputs and targets) to `device`"))
