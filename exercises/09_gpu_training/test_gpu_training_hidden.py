"""Hidden checks of 09_gpu_training: graded by the instructor, never shipped to students."""

import copy
import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.data import DataLoader, TensorDataset

from grader.checks import (
    expect, expect_at_least, expect_at_most, expect_close, expect_equal, expect_tensor, expect_type,
    fail, parameter_count,
)
from grader.data import shapes10

# The batch watcher, the probe model and the history check are the public checks' own.
_spec = importlib.util.spec_from_file_location("_gpu_training_public_checks",
                                               Path(__file__).with_name("test_gpu_training.py"))
public = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(public)

ACCURACY_BAR = 0.75  # fit(epochs=3, lr=0.01) on shapes10: the reference reaches 0.895 to 0.965 over seeds 0..5
EPOCHS = 3


@pytest.fixture(autouse=True)
def _restore_grad_mode():
    # A student's evaluate() that switches autograd off for good must not break the checks after it.
    yield
    torch.set_grad_enabled(True)


def _shapes10_loaders(n_train=None, n_test=None, batch_size=32):
    x, y = shapes10(train=True)
    xt, yt = shapes10(train=False)
    train = DataLoader(TensorDataset(x[:n_train], y[:n_train]), batch_size=batch_size, shuffle=True)
    test = DataLoader(TensorDataset(xt[:n_test], yt[:n_test]), batch_size=100)
    return train, test, (xt[:n_test], yt[:n_test])


def _accuracy(model, x, y, device):
    model.eval()
    with torch.no_grad():
        logits = model(x.to(device))
    return (logits.argmax(1).cpu() == y).double().mean().item()


def _uneven_data(n=100):
    """Random images whose last 4 have a much larger loss, so that a mean of batch means (batches of 32)
    differs clearly from the mean per sample."""
    x, y = public.random_images(n)
    x[-4:] *= 30.0
    return x, y


# --- get_device ------------------------------------------------------------------------------------------


@pytest.mark.points(1)
@pytest.mark.parametrize("cuda, mps, expected", [
    (True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu"),
], ids=["cuda+mps", "cuda", "mps", "none"])
def test_get_device_order(student, monkeypatch, cuda, mps, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    monkeypatch.setattr(torch.backends.mps, "is_built", lambda: mps)
    available = ", ".join(name for name, on in (("CUDA", cuda), ("MPS", mps)) if on) or "no accelerator"
    got = student.get_device()
    expect_type(got, torch.device, f"get_device() with {available}", hint=f'return torch.device("{expected}")')
    expect_equal(got.type, expected, f"get_device().type with {available}",
                 hint="CUDA first, then MPS (torch.backends.mps.is_available()), then the CPU")


# --- TinyCifarNet ----------------------------------------------------------------------------------------


@pytest.mark.points(2)
def test_tiny_cifar_net_is_the_notes_model(student):
    model = student.TinyCifarNet()
    expect_equal(parameter_count(model), 145_578, "TinyCifarNet's parameter count",
                 hint="conv1 2,432 + conv2 25,632 + conv3 51,264 + fc1 65,600 + fc2 650")
    for name in ("conv1", "conv2", "conv3", "fc1", "fc2"):
        expect(isinstance(getattr(model, name, None), nn.Module), f"TinyCifarNet has no layer {name!r}",
               hint="keep the layers __init__ gives you")
    x = torch.randn(5, 3, 32, 32)
    with torch.no_grad():
        h = F.max_pool2d(model.conv1(x), 2)
        h = F.max_pool2d(model.conv2(h), 2)
        h = F.max_pool2d(model.conv3(h), 2)
        expected = model.fc2(model.fc1(h.flatten(1)))
        got = model(x)
    expect_tensor(got, expected, "TinyCifarNet()(x of shape (5, 3, 32, 32))", rtol=1e-5, atol=1e-6,
                  hint="conv1, pool, conv2, pool, conv3, pool, flatten, fc1, fc2: the notes use no activation")


# --- train_one_epoch -------------------------------------------------------------------------------------


@pytest.mark.points(2)
def test_train_one_epoch_returns_mean_loss_per_sample(student, device):
    x, y = _uneven_data()
    model = public.Probe().to(device)
    with torch.no_grad():
        expected = F.cross_entropy(model(x.to(device)), y.to(device)).item()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # lr 0: the model stays as it is
    loader = DataLoader(TensorDataset(x, y), batch_size=32)  # batches of 32, 32, 32 and 4
    got = student.train_one_epoch(model, loader, nn.CrossEntropyLoss(), optimizer, device)
    expect_close(got, expected, "train_one_epoch(...) with lr=0 on 100 samples in batches of 32, 32, 32, 4",
                 rtol=1e-4, atol=1e-5,
                 hint="the mean per sample: add up `loss * len(targets)` over the batches, divide by the number "
                      "of samples (a mean of the batch means over-weights the short last batch)")


class _RecordingSGD(torch.optim.SGD):
    """SGD that keeps a copy of every gradient it is asked to apply."""

    def __init__(self, params, lr):
        super().__init__(params, lr=lr)
        self.applied = []

    def step(self, closure=None):
        self.applied.append([None if p.grad is None else p.grad.detach().clone()
                             for group in self.param_groups for p in group["params"]])
        return super().step(closure)


@pytest.mark.points(2)
def test_train_one_epoch_zeroes_gradients_and_steps_every_batch(student, device):
    x, y = public.random_images(56)
    model = public.Probe().to(device)
    reference = copy.deepcopy(model)
    optimizer = _RecordingSGD(model.parameters(), lr=0.0)
    loader = DataLoader(TensorDataset(x, y), batch_size=16)  # 16, 16, 16, 8
    student.train_one_epoch(model, loader, nn.CrossEntropyLoss(), optimizer, device)
    expect_equal(len(optimizer.applied), 4, "optimizer.step() calls in one epoch of 4 batches",
                 hint="one optimizer.step() per batch")
    for i, (xb, yb) in enumerate(loader):
        reference.zero_grad()
        F.cross_entropy(reference(xb.to(device)), yb.to(device)).backward()
        for p, got, name in zip(reference.parameters(), optimizer.applied[i], ("weight", "bias")):
            expect(got is not None, f"at optimizer.step() of batch {i + 1} the {name} has no gradient",
                   hint="loss.backward() before optimizer.step()")
            expect_tensor(got, p.grad, f"the {name} gradient applied at step {i + 1}", rtol=1e-4, atol=1e-6,
                          hint="optimizer.zero_grad() every batch, or the gradients of earlier batches add up")


@pytest.mark.points(1)
def test_train_one_epoch_sets_train_mode(student, device):
    x, y = public.random_images(32)
    model = public.Probe().to(device).eval()  # as evaluate() leaves it
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    student.train_one_epoch(model, DataLoader(TensorDataset(x, y), batch_size=16), nn.CrossEntropyLoss(),
                            optimizer, device)
    expect(len(model.calls) > 0, "train_one_epoch never called the model")
    expect(all(training for training, _ in model.calls),
           "train_one_epoch ran a model left in evaluation mode without switching it back to training",
           hint="call model.train() at the start of train_one_epoch (evaluate() switched it to eval)")
    expect(all(grad for _, grad in model.calls), "train_one_epoch ran the model with gradients disabled")


# --- evaluate --------------------------------------------------------------------------------------------


@pytest.mark.points(1)
def test_evaluate_moves_inputs_and_targets(student, device):
    x, y = public.random_images(48)
    loader, log = public.watched_loader(x, y, batch_size=16)
    student.evaluate(public.Probe().to(device), loader, nn.CrossEntropyLoss(), device)
    public.expect_moved(log, device, "evaluate")


@pytest.mark.points(2)
def test_evaluate_returns_mean_loss_and_accuracy(student, device):
    x, y = _uneven_data()
    model = public.Probe().to(device)
    with torch.no_grad():
        logits = model(x.to(device)).cpu()
    expected_loss = F.cross_entropy(logits, y).item()
    expected_accuracy = (logits.argmax(1) == y).double().mean().item()
    result = student.evaluate(model, DataLoader(TensorDataset(x, y), batch_size=32), nn.CrossEntropyLoss(), device)
    expect_type(result, tuple, "evaluate(...)", hint="return (mean_loss, accuracy)")
    expect_equal(len(result), 2, "len(evaluate(...))", hint="return (mean_loss, accuracy)")
    what = "evaluate(...) on 100 samples in batches of 32, 32, 32, 4"
    expect_close(result[1], expected_accuracy, f"{what}: the accuracy", rtol=0, atol=1e-6,
                 hint="correct predictions (argmax of the logits) over all samples, a fraction in [0, 1]")
    expect_close(result[0], expected_loss, f"{what}: the mean loss", rtol=1e-4, atol=1e-5,
                 hint="the mean per sample: add `loss * len(targets)` per batch, divide by the number of samples")


@pytest.mark.points(1)
def test_evaluate_leaves_grad_mode_and_parameters_alone(student, device):
    x, y = public.random_images(32)
    model = public.Probe().to(device)
    before = copy.deepcopy(model.state_dict())
    student.evaluate(model, DataLoader(TensorDataset(x, y), batch_size=16), nn.CrossEntropyLoss(), device)
    expect(torch.is_grad_enabled(), "after evaluate() autograd is still switched off for everything that follows",
           hint="use `with torch.no_grad():` around the loop, not torch.set_grad_enabled(False)")
    for name, p in model.named_parameters():
        expect(p.requires_grad, f"after evaluate() the parameter {name} no longer requires grad",
               hint="torch.no_grad() is enough; do not change requires_grad of the parameters")
        expect_tensor(p.detach(), before[name], f"the parameter {name} after evaluate()", rtol=0, atol=0,
                      hint="evaluate must not train: no backward() or optimizer.step()")


# --- fit -------------------------------------------------------------------------------------------------


class _MoveProbe(public.Probe):
    """The probe model, noting the devices it is moved to."""

    def __init__(self):
        super().__init__()
        self.moves = []

    def to(self, *args, **kwargs):
        self.moves.append(torch._C._nn._parse_to(*args, **kwargs)[0])
        return super().to(*args, **kwargs)

    def cuda(self, device=None):
        self.moves.append(torch.device("cuda"))
        return super().cuda(device)


@pytest.mark.points(1)
def test_fit_moves_model_to_device(student, device):
    x, y = public.random_images(48)
    model = _MoveProbe()
    train = DataLoader(TensorDataset(x[:32], y[:32]), batch_size=16)
    test = DataLoader(TensorDataset(x[32:], y[32:]), batch_size=16)
    student.fit(model, train, test, epochs=1, lr=0.01, device=device)
    expect(any(d is not None and d.type == device.type for d in model.moves),
           f"fit(..., device={device.type}) never moved the model with model.to(device)",
           hint="model.to(device) at the start of fit, before creating the optimizer")


@pytest.mark.points(4)
@pytest.mark.timeout(120)
def test_fit_reaches_accuracy_on_shapes10(student, device):
    train, test, (xt, yt) = _shapes10_loaders()
    model = student.TinyCifarNet()
    history = student.fit(model, train, test, epochs=EPOCHS, lr=0.01, device=device)
    numbers = public.expect_history(history, EPOCHS, f"fit(..., epochs={EPOCHS})")
    accuracy = _accuracy(model, xt, yt, device)
    expect_close(numbers["test_accuracy"][-1], accuracy, "fit's last history['test_accuracy']", rtol=0,
                 atol=1.01 / len(yt), hint="evaluate the trained model on test_loader after every epoch")
    expect_at_least(accuracy, ACCURACY_BAR, f"shapes10 test accuracy after fit(epochs={EPOCHS}, lr=0.01)",
                    hint="SGD with momentum 0.9 and CrossEntropyLoss; zero_grad, backward and step every batch")


def _event_scalars(log_dir):
    """{tag: [(step, value)]} from every TensorBoard event file under log_dir, read with TensorBoard itself."""
    from tensorboard.backend.event_processing.event_accumulator import SCALARS, EventAccumulator

    files = sorted(p for p in Path(log_dir).rglob("*") if p.is_file() and "tfevents" in p.name)
    scalars = {}
    for path in files:
        events = EventAccumulator(str(path), size_guidance={SCALARS: 0})
        events.Reload()
        for tag in events.Tags()[SCALARS]:
            scalars.setdefault(tag, []).extend((e.step, e.value) for e in events.Scalars(tag))
    return files, {tag: sorted(points) for tag, points in scalars.items()}


@pytest.mark.points(2)
def test_fit_writes_tensorboard_scalars(student, device, tmp_path):
    train, test, _ = _shapes10_loaders(n_train=64, n_test=50)
    log_dir = tmp_path / "runs"
    history = student.fit(student.TinyCifarNet(), train, test, epochs=2, lr=0.01, device=device,
                          log_dir=str(log_dir))
    numbers = public.expect_history(history, 2, "fit(..., epochs=2, log_dir=...)")
    files, scalars = _event_scalars(log_dir)
    expect(bool(files), "fit(..., log_dir=...) wrote no TensorBoard event file under log_dir",
           hint="writer = SummaryWriter(log_dir), then writer.add_scalar(tag, value, epoch)")
    for tag in ("train_loss", "test_loss", "test_accuracy"):
        expect(tag in scalars, f"the TensorBoard log has no scalar {tag!r}; it has {sorted(scalars) or 'none'}",
               hint="writer.add_scalar(tag, value, epoch) every epoch, and writer.close() at the end of fit "
                    "(until then the events may sit in memory)")
        points = scalars[tag]
        expect_equal(len(points), 2, f"the number of {tag!r} values logged in 2 epochs",
                     hint="one value per epoch, at step = epoch")
        steps = [step for step, _ in points]
        expect(len(set(steps)) == len(steps), f"the {tag!r} values share a step: {steps}",
               hint="use the epoch as the step")
        for (step, value), want in zip(points, numbers[tag]):
            expect_close(value, want, f"the {tag!r} value logged at step {step}", rtol=1e-5, atol=1e-6,
                         hint="log the same numbers fit returns in its history")


@pytest.mark.points(3)
def test_fit_checkpoints_state_dict_every_epoch(student, device, tmp_path):
    train, test, (xt, yt) = _shapes10_loaders(n_train=64, n_test=50)
    folder = tmp_path / "checkpoints"
    model = student.TinyCifarNet()
    history = student.fit(model, train, test, epochs=2, lr=0.01, device=device, checkpoint_dir=str(folder))
    numbers = public.expect_history(history, 2, "fit(..., epochs=2, checkpoint_dir=...)")
    found = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    states = []
    for epoch in (1, 2):
        path = folder / f"epoch_{epoch}.pt"
        expect(path.is_file(), f"no checkpoint {path.name} after fit(..., epochs=2); checkpoint_dir holds {found}",
               hint='torch.save(model.state_dict(), os.path.join(checkpoint_dir, f"epoch_{epoch}.pt")) every epoch')
        try:
            state = torch.load(path, map_location=device, weights_only=True)
        except Exception as error:  # the whole pickled model, or not a torch file
            fail(f"{path.name} cannot be loaded with torch.load(..., weights_only=True): {type(error).__name__}",
                 hint="save model.state_dict() (tensors only), not the model object")
        expect(isinstance(state, dict), f"{path.name} holds a {type(state).__name__}, not a state_dict",
               hint="torch.save(model.state_dict(), path)")
        fresh = student.TinyCifarNet().to(device)
        try:
            fresh.load_state_dict(state)
        except Exception as error:
            fail(f"TinyCifarNet().load_state_dict({path.name}) fails: {str(error).splitlines()[0][:120]}",
                 hint="save model.state_dict() of the TinyCifarNet being trained")
        states.append(fresh)
    x = xt[:16].to(device)
    model.eval()
    with torch.no_grad():
        want = model(x)
        got = states[1].eval()(x)
        first = states[0].eval()(x)
    expect_tensor(got, want, "the outputs of TinyCifarNet loaded from epoch_2.pt (the last epoch)", rtol=1e-6,
                  atol=1e-6, hint="save the state_dict after the epoch's training step, every epoch")
    expect(not torch.equal(first, got), "epoch_1.pt and epoch_2.pt hold the same weights",
           hint="save inside the epoch loop, after training that epoch")
    expect_close(_accuracy(states[0], xt, yt, device), numbers["test_accuracy"][0],
                 "the test accuracy of the model loaded from epoch_1.pt", rtol=0, atol=1.01 / len(yt),
                 hint="epoch_1.pt must hold the weights after epoch 1, the ones history['test_accuracy'][0] measured")


# --- on a CUDA GPU, for real -----------------------------------------------------------------------------


class _HostCopies(TorchDispatchMode):
    """Counts the operations that copy from the accelerator to the host (each one waits for the GPU)."""

    def __init__(self, device_type="cuda"):
        super().__init__()
        self.device_type = device_type
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        name = func.overloadpacket.__name__
        if name == "_local_scalar_dense":  # .item(), float(t), int(t), bool(t), if t > 0:
            self.count += args[0].device.type == self.device_type
        elif name == "_to_copy":  # .cpu(), .to("cpu"), .tolist()
            self.count += args[0].device.type == self.device_type and out.device.type == "cpu"
        elif name == "copy_":  # cpu_tensor.copy_(gpu_tensor)
            self.count += args[1].device.type == self.device_type and args[0].device.type == "cpu"
        return out


class _RecordingLoss(nn.CrossEntropyLoss):
    def __init__(self):
        super().__init__()
        self.devices = set()

    def forward(self, input, target):
        out = super().forward(input, target)
        self.devices |= {input.device.type, target.device.type, out.device.type}
        return out


@pytest.mark.cuda
@pytest.mark.points(2)
def test_cuda_no_host_copies_in_the_inner_loop(student, device):
    train, test, _ = _shapes10_loaders(batch_size=30)  # 20 training batches, 2 test batches
    model = student.TinyCifarNet().to(device)
    activations = set()
    for m in model.modules():
        m.register_forward_hook(lambda m, i, out: activations.update(public._devices(out)))
    loss_fn = _RecordingLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    copies = _HostCopies(device.type)
    with copies:
        student.train_one_epoch(model, train, loss_fn, optimizer, device)
    expect(activations == {"cuda"}, f"train_one_epoch on CUDA computed activations on {sorted(activations)}",
           hint="the model and the inputs must both be on the device")
    expect(loss_fn.devices == {"cuda"}, f"train_one_epoch on CUDA computed the loss on {sorted(loss_fn.devices)}",
           hint="move the targets to the device too")
    expect_at_most(copies.count, 3, "GPU-to-CPU copies in train_one_epoch over 20 batches",
                   hint="every .item(), .cpu() or float(loss) in the loop makes the CPU wait for the GPU: "
                        "add `loss.detach() * len(targets)` to a tensor on the device, .item() once at the end")
    copies = _HostCopies(device.type)
    with copies:
        student.evaluate(model, DataLoader(test.dataset, batch_size=10), loss_fn, device)
    expect_at_most(copies.count, 4, "GPU-to-CPU copies in evaluate over 20 batches",
                   hint="count correct predictions and add up the loss on the device; .item() once at the end")


@pytest.mark.cuda
@pytest.mark.points(3)
@pytest.mark.timeout(120)
def test_cuda_fit_reaches_accuracy_on_gpu(student, device, tmp_path):
    train, test, (xt, yt) = _shapes10_loaders()
    model = student.TinyCifarNet()
    history = student.fit(model, train, test, epochs=EPOCHS, lr=0.01, device=device,
                          checkpoint_dir=str(tmp_path / "checkpoints"))
    public.expect_history(history, EPOCHS, f"fit(..., epochs={EPOCHS}) on CUDA")
    for name, p in model.named_parameters():
        expect(p.device.type == "cuda", f"after fit(..., device=cuda) the parameter {name} is on {p.device.type}",
               hint="model.to(device) at the start of fit")
    accuracy = expect_at_least(_accuracy(model, xt, yt, device), ACCURACY_BAR,
                               f"shapes10 test accuracy after fit(epochs={EPOCHS}, lr=0.01) on CUDA")
    # A checkpoint written on the GPU loads on a machine without one, with the same weights.
    path = tmp_path / "checkpoints" / f"epoch_{EPOCHS}.pt"
    expect(path.is_file(), f"fit(..., checkpoint_dir=...) on CUDA wrote no {path.name}")
    cpu_model = student.TinyCifarNet()
    cpu_model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    trained = model.state_dict()
    for name, tensor in cpu_model.state_dict().items():
        expect_tensor(tensor, trained[name].cpu(), f"{name} in {path.name} (written on CUDA, loaded on the CPU)",
                      rtol=0, atol=0, hint="save model.state_dict() after the last epoch")
    # cuDNN may compute convolutions in TF32, so the CPU's outputs differ a little: compare predictions.
    expect_close(_accuracy(cpu_model, xt, yt, torch.device("cpu")), accuracy,
                 f"the CPU test accuracy of {path.name} written on CUDA", rtol=0, atol=3.01 / len(yt))
