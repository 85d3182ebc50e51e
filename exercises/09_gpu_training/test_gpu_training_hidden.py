"""Hidden checks of 09_gpu_training: graded by the instructor, never shipped to students."""

import contextlib
import copy
import itertools
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.data import DataLoader, TensorDataset

from grader.checks import (
    public_checks,
    Mistake, expect, expect_at_least, expect_at_most, expect_close, expect_equal, expect_tensor, expect_type,
    fail, parameter_count,
)
from grader.data import shapes10
from grader.i18n import _

# The batch watcher, the probe model, the device pretence and the history check are the public checks' own.
public = public_checks(__file__)

ACCURACY_BAR = 0.75  # fit(epochs=3, lr=0.01) on shapes10: the reference reaches 0.895 to 0.965 over seeds 0..5
EPOCHS = 3
SGD = "torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)"


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


def _recorded_accuracy(student, model, loader, device, true_accuracy, recorded):
    """The accuracy fit should have recorded: the true one, or what the student's own evaluate says for the same
    model and loader (a history that records it is right bookkeeping; a wrong evaluate costs evaluate's checks)."""
    try:
        own = float(student.evaluate(model, loader, nn.CrossEntropyLoss(), device)[1])
    except Exception:  # evaluate does not work: only the true accuracy counts
        return true_accuracy
    return own if abs(recorded - own) <= 1e-6 else true_accuracy


def _uneven_data(n=68):
    """Random images whose last 4 have a much larger loss, so that a mean of batch means (batches of 32, 32, 4)
    differs clearly from the mean per sample. Not 100 of them: a count of correct predictions would be a percentage."""
    x, y = public.random_images(n)
    x[-4:] *= 30.0
    return x, y


def _batch_losses(model, loader, device):
    """Each batch's mean cross-entropy and its size."""
    losses, sizes = [], []
    with torch.no_grad():
        for xb, yb in loader:
            losses.append(F.cross_entropy(model(xb.to(device)), yb.to(device)).item())
            sizes.append(len(yb))
    return losses, sizes


def _mean_loss_mistakes(losses, sizes):
    """What the common ways of averaging the batches' losses give."""
    total = sum(loss * size for loss, size in zip(losses, sizes))
    return [
        Mistake(_("a mean of the batch means over-weights the short last batch: add up `loss * len(targets)` over "
                  "the batches, divide by the number of samples"), sum(losses) / len(losses)),
        Mistake(_("that is the sum over the samples: divide it by the number of samples"), total),
        Mistake(_("that is the sum of the batch means: add up `loss * len(targets)`, divide by the number of "
                  "samples"), sum(losses)),
        Mistake(_("divide by the number of samples, not by the number of batches"), total / len(losses)),
        Mistake(_("that is the last batch's loss: add up the loss over all the batches"), losses[-1]),
    ]


MEAN_PER_SAMPLE = _("the mean per sample: add up `loss * len(targets)` over the batches, divide by the number of "
                    "samples")


class _HostReads(TorchDispatchMode):
    """Counts the reads of a tensor's value into Python: .item(), float(t), int(t), bool(t), `if t > 0:` (on a GPU
    each one waits for everything queued), except while `paused`."""

    @classmethod
    def _should_skip_dynamo(cls):
        return False  # nothing is compiled while reads are counted; saves importing torch._dynamo

    def __init__(self):
        super().__init__()
        self.count = 0
        self.paused = False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += func.overloadpacket.__name__ == "_local_scalar_dense" and not self.paused
        return func(*args, **(kwargs or {}))

    @contextlib.contextmanager
    def pause(self):
        self.paused = True
        try:
            yield
        finally:
            self.paused = False


class _UncountedLoader(DataLoader):
    """A DataLoader whose own reads (the seeds it draws for shuffling) are not counted as the student's."""

    def __init__(self, *args, reads, **kwargs):
        super().__init__(*args, **kwargs)
        self.reads = reads

    def __iter__(self):
        with self.reads.pause():
            batches = super().__iter__()
        while True:
            with self.reads.pause():
                batch = next(batches, None)
            if batch is None:
                return
            yield batch


@contextlib.contextmanager
def _recording_optimizers():
    """[(optimizer, its class, the settings it was made with)] for every torch.optim optimizer made meanwhile."""
    made = []
    original = torch.optim.Optimizer.__init__

    def init(self, params, defaults, *args, **kwargs):
        original(self, params, defaults, *args, **kwargs)
        made.append((self, type(self), dict(defaults)))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch.optim.Optimizer, "__init__", init)
        yield made


def _training(made, model):
    """The (class, settings) of the optimizers in `made` that train `model`'s parameters."""
    own = {id(p) for p in model.parameters()}
    return [(kind, settings) for optimizer, kind, settings in made
            if any(id(p) in own for group in optimizer.param_groups for p in group["params"])]


# --- get_device ------------------------------------------------------------------------------------------


@pytest.mark.points(1)
@pytest.mark.parametrize("cuda, mps, expected", [
    (True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu"),
], ids=["cuda+mps", "cuda", "mps", "none"])
def test_get_device_order(student, monkeypatch, cuda, mps, expected):
    public.pretend_devices(monkeypatch, cuda, mps)
    available = ", ".join(name for name, on in (("CUDA", cuda), ("MPS", mps)) if on) or _("no accelerator")
    got = student.get_device()
    expect_type(got, torch.device, _("get_device() with {available}").format(available=available),
                hint=_('return a torch.device: torch.device("{expected}")').format(expected=expected))
    mistakes = []
    if expected == "cuda":
        mistakes.append(Mistake(_("MPS was chosen over CUDA: ask torch.cuda.is_available() first"), "mps"))
    if expected == "mps":
        mistakes.append(Mistake(_("when CUDA is not available, ask torch.backends.mps.is_available() before "
                                  "falling back to the CPU"), "cpu"))
    expect_equal(got.type, expected, _("get_device().type with {available}").format(available=available),
                 mistakes=mistakes,
                 hint=_("CUDA first, then MPS (torch.backends.mps.is_available()), then the CPU"))


# --- TinyCifarNet ----------------------------------------------------------------------------------------


@pytest.mark.points(2)
def test_tiny_cifar_net_is_the_notes_model(student):
    model = student.TinyCifarNet()
    expect_type(model, nn.Module, "TinyCifarNet()")
    layers = _("conv 3→32, 32→32, 32→64 (5x5, padding 2), then Linear 1024→64 and 64→10")
    expect_equal(parameter_count(model), 145_578, _("TinyCifarNet's parameter count"),
                 hint=_("conv1 2,432 + conv2 25,632 + conv3 51,264 + fc1 65,600 + fc2 650"))
    # The layers are found by type, in the order they were created: names and nn.Sequential do not matter.
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    expect_equal([(m.in_channels, m.out_channels, tuple(m.kernel_size),
                   (2, 2) if m.padding == "same" else tuple(m.padding)) for m in convs],
                 [(3, 32, (5, 5), (2, 2)), (32, 32, (5, 5), (2, 2)), (32, 64, (5, 5), (2, 2))],
                 _("TinyCifarNet's convolutions (in, out, kernel, padding)"), hint=layers)
    expect_equal([(m.in_features, m.out_features) for m in linears], [(1024, 64), (64, 10)],
                 _("TinyCifarNet's Linear layers (in, out)"), hint=layers)
    x = torch.randn(5, 3, 32, 32)
    with torch.no_grad():
        got = model(x.clone())

        def chain(relus=()):
            """The notes' chain, with a ReLU after the stages named in `relus` (0-2: a conv stage, 3: fc1)."""
            h = x
            for stage, conv in enumerate(convs):
                h = F.max_pool2d(conv(h), 2)
                h = F.relu(h) if stage in relus else h  # ReLU and max-pooling commute
            h = linears[0](h.flatten(1))
            return linears[1](F.relu(h) if 3 in relus else h)

        expected = chain()
        no_activation = _("the notes' model has no activation function: max-pooling is its only non-linearity")
        mistakes = [Mistake(no_activation, chain(relus)) for n in range(1, 5)
                    for relus in itertools.combinations(range(4), n)]
    expect_tensor(got, expected, "TinyCifarNet()(x of shape (5, 3, 32, 32))", rtol=1e-5, atol=1e-6, mistakes=mistakes,
                  hint=_("conv1, pool, conv2, pool, conv3, pool, flatten, fc1, fc2: the notes use no activation"))


# --- train_one_epoch -------------------------------------------------------------------------------------


@pytest.mark.points(2)
def test_train_one_epoch_returns_mean_loss_per_sample(student, device):
    x, y = _uneven_data()
    model = public.Probe().to(device)
    reference = copy.deepcopy(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # lr 0: the model stays as it is
    got = student.train_one_epoch(model, DataLoader(TensorDataset(x.clone(), y.clone()), batch_size=32),
                                  nn.CrossEntropyLoss(), optimizer, device)
    losses, sizes = _batch_losses(reference, DataLoader(TensorDataset(x, y), batch_size=32), device)
    expect_close(got, sum(loss * size for loss, size in zip(losses, sizes)) / sum(sizes),
                 _("train_one_epoch(...) with lr=0 on 68 samples in batches of 32, 32, 4"), rtol=1e-4, atol=1e-5,
                 hint=MEAN_PER_SAMPLE, mistakes=_mean_loss_mistakes(losses, sizes))


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
    student.train_one_epoch(model, DataLoader(TensorDataset(x.clone(), y.clone()), batch_size=16),
                            nn.CrossEntropyLoss(), optimizer, device)
    expect_equal(len(optimizer.applied), 4, _("optimizer.step() calls in one epoch of 4 batches"),
                 hint=_("one optimizer.step() per batch"))
    order = _("optimizer.zero_grad(), then loss.backward(), then optimizer.step(), every batch")
    sums = None
    for i, (xb, yb) in enumerate(DataLoader(TensorDataset(x, y), batch_size=16)):  # 16, 16, 16, 8
        reference.zero_grad()
        F.cross_entropy(reference(xb.to(device)), yb.to(device)).backward()
        grads = [p.grad.detach().clone() for p in reference.parameters()]
        sums = grads if sums is None else [s + g for s, g in zip(sums, grads)]
        for want, total, got, name in zip(grads, sums, optimizer.applied[i], ("weight", "bias")):
            expect(got is not None, _("at optimizer.step() of batch {i} the {name} has no gradient").format(
                i=i + 1, name=name), hint=order)
            mistakes = [Mistake(_("zero_grad() between backward() and step() wipes the gradient: zero it before "
                                  "loss.backward()"), torch.zeros_like(want))]
            if i > 0:
                mistakes.insert(0, Mistake(_("optimizer.zero_grad() every batch, or the gradients of earlier batches "
                                             "add up"), total))
            expect_tensor(got, want, _("the {name} gradient applied at step {i}").format(name=name, i=i + 1),
                          rtol=1e-4, atol=1e-6, hint=order, mistakes=mistakes)


@pytest.mark.points(1)
def test_train_one_epoch_sets_train_mode(student, device):
    x, y = public.random_images(32)
    model = public.Probe().to(device).eval()  # as evaluate() leaves it
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    student.train_one_epoch(model, DataLoader(TensorDataset(x, y), batch_size=16), nn.CrossEntropyLoss(),
                            optimizer, device)
    expect(len(model.calls) > 0, _("train_one_epoch never called the model"))
    expect(all(training for training, _grad in model.calls),
           _("train_one_epoch ran a model left in evaluation mode without switching it back to training"),
           hint=_("call model.train() at the start of train_one_epoch (evaluate() switched it to eval)"))
    expect(all(grad for _training, grad in model.calls), _("train_one_epoch ran the model with gradients disabled"))


HOST_READS = _("every .item(), float(tensor) or `if tensor ...` in the loop makes the CPU wait for the GPU: add "
               "`loss.detach() * len(targets)` to a tensor on the device, and call .item() once, at the end")


@pytest.mark.points(1)
def test_train_one_epoch_keeps_the_running_loss_on_the_device(student, device):
    x, y = public.random_images(600)
    reads = _HostReads()
    loader = _UncountedLoader(TensorDataset(x, y), batch_size=30, shuffle=True, reads=reads)  # 20 batches
    model = public.Probe().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    with reads:
        student.train_one_epoch(model, loader, nn.CrossEntropyLoss(), optimizer, device)
    expect(reads.count <= 3, _("train_one_epoch over 20 batches read a tensor's value into Python {n} times "
                               "(.item(), float(t), `if t ...`), expected at most 3").format(n=reads.count),
           hint=HOST_READS)


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
    reference = copy.deepcopy(model)
    result = student.evaluate(model, DataLoader(TensorDataset(x.clone(), y.clone()), batch_size=32),
                              nn.CrossEntropyLoss(), device)
    public.expect_evaluate_pair(result)
    loader = DataLoader(TensorDataset(x, y), batch_size=32)
    losses, sizes = _batch_losses(reference, loader, device)
    with torch.no_grad():
        hits = [(reference(xb.to(device)).argmax(1).cpu() == yb).sum().item() for xb, yb in loader]
    accuracy = sum(hits) / len(y)
    what = _("evaluate(...) on 68 samples in batches of 32, 32, 4")
    expect_close(result[1], accuracy, _("{what}: the accuracy").format(what=what), rtol=0, atol=1e-6,
                 hint=_("correct predictions (argmax of the logits) over all samples, a fraction in [0, 1]"),
                 mistakes=[
                     Mistake(_("that is the number of correct predictions: divide it by the number of samples"),
                             sum(hits)),
                     Mistake(_("a fraction in [0, 1], not a percentage"), 100 * accuracy),
                     Mistake(_("a mean of the batch accuracies over-weights the short last batch: count the correct "
                               "predictions over all the samples, divide by the number of samples"),
                             sum(h / s for h, s in zip(hits, sizes)) / len(sizes)),
                 ])
    expect_close(result[0], sum(loss * size for loss, size in zip(losses, sizes)) / sum(sizes),
                 _("{what}: the mean loss").format(what=what), rtol=1e-4, atol=1e-5, hint=MEAN_PER_SAMPLE,
                 mistakes=_mean_loss_mistakes(losses, sizes))


@pytest.mark.points(1)
def test_evaluate_leaves_grad_mode_and_parameters_alone(student, device):
    x, y = public.random_images(32)
    model = public.Probe().to(device)
    before = copy.deepcopy(model.state_dict())
    student.evaluate(model, DataLoader(TensorDataset(x, y), batch_size=16), nn.CrossEntropyLoss(), device)
    expect(torch.is_grad_enabled(), _("after evaluate() autograd is still switched off for everything that follows"),
           hint=_("use `with torch.no_grad():` around the loop, not torch.set_grad_enabled(False)"))
    for name, p in model.named_parameters():
        expect(p.requires_grad, _("after evaluate() the parameter {name} no longer requires grad").format(name=name),
               hint=_("torch.no_grad() is enough; do not change requires_grad of the parameters"))
        expect_tensor(p.detach(), before[name], _("the parameter {name} after evaluate()").format(name=name),
                      rtol=0, atol=0, hint=_("evaluate only measures: no backward(), no optimizer step, no change to "
                                             "the weights"))


@pytest.mark.points(1)
def test_evaluate_keeps_the_running_sums_on_the_device(student, device):
    x, y = public.random_images(200)
    reads = _HostReads()
    loader = _UncountedLoader(TensorDataset(x, y), batch_size=10, reads=reads)  # 20 batches
    model = public.Probe().to(device)
    with reads:
        student.evaluate(model, loader, nn.CrossEntropyLoss(), device)
    expect(reads.count <= 4, _("evaluate over 20 batches read a tensor's value into Python {n} times "
                               "(.item(), float(t), `if t ...`), expected at most 4").format(n=reads.count),
           hint=_("count the correct predictions and add up `loss * len(targets)` in tensors on the device; call "
                  ".item() once, at the end"))


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


def _small_loaders():
    x, y = public.random_images(48)
    return (DataLoader(TensorDataset(x[:32], y[:32]), batch_size=16),
            DataLoader(TensorDataset(x[32:], y[32:]), batch_size=16))


@pytest.mark.points(1)
def test_fit_moves_model_to_device(student, device):
    model = _MoveProbe()
    student.fit(model, *_small_loaders(), epochs=1, lr=0.01, device=device)
    expect(any(d is not None and d.type == device.type for d in model.moves),
           _("fit(..., device={device}) never moved the model with model.to(device)").format(device=device.type),
           hint=_("model.to(device) at the start of fit, before creating the optimizer"))


@pytest.mark.points(1)
def test_fit_trains_the_model_it_is_given(student, device):
    model = public.Probe()
    before = copy.deepcopy(model.state_dict())
    at_first_forward = {}

    def note(module, args):
        if not at_first_forward:
            at_first_forward.update({k: v.detach().cpu().clone() for k, v in module.state_dict().items()})

    handle = model.register_forward_pre_hook(note)
    with _recording_optimizers() as made:
        student.fit(model, *_small_loaders(), epochs=1, lr=0.0, device=device)
    handle.remove()
    rates = [settings.get("lr") for _kind, settings in _training(made, model)]
    for name, value in model.state_dict().items():
        expect_tensor(value.detach().cpu(), before[name],
            _("the model's {name} after fit(..., epochs=1, lr=0.0)").format(name=name), rtol=0, atol=0,
            hint=_("with lr=0, SGD leaves the weights where they are: fit goes on from the weights the model has"),
            mistakes=[
                Mistake(_("fit trains the model it is given: do not re-initialise its weights"),
                        lambda _v, name=name: name in at_first_forward and not torch.equal(at_first_forward[name],
                                                                                         before[name])),
                Mistake(_("pass fit's lr to the optimizer: {sgd}").format(sgd=SGD),
                        lambda _v: any(rate != 0.0 for rate in rates)),
            ])


@pytest.mark.points(1)
def test_fit_uses_sgd_with_momentum(student, device):
    model = public.Probe()
    with _recording_optimizers() as made:
        student.fit(model, *_small_loaders(), epochs=1, lr=0.05, device=device)
    own = _training(made, model)
    expect(bool(own), _("fit(...) made no torch.optim optimizer for the model's parameters"), hint=SGD)
    kind, settings = own[-1]
    expect(issubclass(kind, torch.optim.SGD),
           _("fit(...) trains with {kind}, expected torch.optim.SGD").format(kind=kind.__name__), hint=SGD)
    expect_close(settings.get("lr"), 0.05, _("the lr of the SGD that fit(..., lr=0.05) made"), hint=SGD)
    expect_close(settings.get("momentum"), 0.9, _("the momentum of fit's SGD"), hint=SGD)


@pytest.mark.points(4)
@pytest.mark.timeout(120)
def test_fit_reaches_accuracy_on_shapes10(student, device):
    train, test, (xt, yt) = _shapes10_loaders()
    model = student.TinyCifarNet()
    history = student.fit(model, train, test, epochs=EPOCHS, lr=0.01, device=device)
    numbers = public.expect_history(history, EPOCHS, f"fit(..., epochs={EPOCHS})")
    accuracy = _accuracy(model, xt, yt, device)
    recorded = numbers["test_accuracy"][-1]
    expect_close(recorded, _recorded_accuracy(student, model, test, device, accuracy, recorded),
                 _("fit's last history['test_accuracy']"), rtol=0, atol=1.01 / len(yt),
                 hint=_("evaluate the trained model on test_loader after every epoch"))
    expect_at_least(accuracy, ACCURACY_BAR, _("shapes10 test accuracy after fit(epochs={epochs}, lr=0.01)").format(
        epochs=EPOCHS), hint=_("SGD with momentum 0.9 and CrossEntropyLoss; zero_grad, backward and step every batch"))


def _event_scalars(log_dir):
    """{tag: [(step, value)]} from every TensorBoard event file under log_dir, read with TensorBoard itself."""
    from tensorboard.backend.event_processing.event_accumulator import (
        SCALARS,
        EventAccumulator,
    )

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
    train, test, _data = _shapes10_loaders(n_train=64, n_test=50)
    log_dir = tmp_path / "runs"
    history = student.fit(student.TinyCifarNet(), train, test, epochs=2, lr=0.01, device=device,
                          log_dir=str(log_dir))
    numbers = public.expect_history(history, 2, "fit(..., epochs=2, log_dir=...)")
    files, scalars = _event_scalars(log_dir)
    expect(bool(files), _("fit(..., log_dir=...) wrote no TensorBoard event file under log_dir"),
           hint=_("writer = SummaryWriter(log_dir), then writer.add_scalar(tag, value, epoch)"))
    for tag in ("train_loss", "test_loss", "test_accuracy"):
        expect(tag in scalars, _("the TensorBoard log has no scalar {tag!r}; it has {tags}").format(
            tag=tag, tags=sorted(scalars) or _("none")),
            hint=_("writer.add_scalar(tag, value, epoch) every epoch, and writer.close() at the end of fit "
                   "(until then the events may sit in memory)"))
        points = scalars[tag]
        expect_equal(len(points), 2, _("the number of {tag!r} values logged in 2 epochs").format(tag=tag),
                     hint=_("one value per epoch, at step = epoch"))
        steps = [step for step, _value in points]
        expect(len(set(steps)) == len(steps),
               _("the {tag!r} values share a step: {steps}").format(tag=tag, steps=steps),
               hint=_("use the epoch as the step"))
        for (step, value), want in zip(points, numbers[tag]):
            expect_close(value, want, _("the {tag!r} value logged at step {step}").format(tag=tag, step=step),
                         rtol=1e-5, atol=1e-6, hint=_("log the same numbers fit returns in its history"))


def _whole_object(path):
    """What a checkpoint that torch.load(weights_only=True) refused holds, when it is a pickled nn.Module (the
    student's own code wrote it), else None."""
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=False)
    except Exception:  # not a torch file at all
        return None
    return type(loaded).__name__ if isinstance(loaded, nn.Module) else None


def _expect_loads(fresh, state, name):
    """`state` is a state_dict of TinyCifarNet: the keys it must have, and tensors of the right shapes."""
    __tracebackhide__ = True
    wanted, keys = set(fresh.state_dict()), set(map(str, state))
    wrapper = next((key for key in ("model_state_dict", "state_dict", "model", "net")
                    if isinstance(state.get(key), dict) and wanted <= set(map(str, state[key]))), None)
    if wrapper is not None:
        fail(_("{file} holds a dict with the keys {keys}, not the state_dict itself").format(file=name,
                                                                                        keys=sorted(keys)),
             hint=_("save model.state_dict() itself, not a dict that holds it under {key!r}").format(key=wrapper))
    if keys != wanted:
        fail(_("{file} does not hold TinyCifarNet's state_dict: missing keys {missing}, unexpected keys "
               "{unexpected}").format(file=name, missing=sorted(wanted - keys)[:6],
                                      unexpected=sorted(keys - wanted)[:6]),
             hint=_("save model.state_dict() of the TinyCifarNet being trained"))
    try:
        fresh.load_state_dict(state)
    except Exception as error:  # the right keys, tensors of other shapes
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        fail(_("TinyCifarNet().load_state_dict({file}) fails: {cause}").format(
            file=name, cause=" ".join(lines[1:] or lines)[:240]),
            hint=_("save model.state_dict() of the TinyCifarNet being trained"))


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
        expect(path.is_file(), _("no checkpoint {file} after fit(..., epochs=2); checkpoint_dir holds {found}").format(
            file=path.name, found=found),
            hint=_('torch.save(model.state_dict(), os.path.join(checkpoint_dir, f"epoch_{epoch}.pt")) every epoch'))
        try:
            state = torch.load(path, map_location=device, weights_only=True)
        except Exception as error:  # the whole pickled model, or not a torch file
            whole = _whole_object(path)
            if whole is not None:
                fail(_("{file} holds a pickled {kind} object, which torch.load(..., weights_only=True) refuses").format(
                    file=path.name, kind=whole), hint=_("save model.state_dict() (tensors only), not the model object"))
            fail(_("{file} cannot be loaded with torch.load(..., weights_only=True): {error}").format(
                file=path.name, error=type(error).__name__),
                hint=_("torch.save(model.state_dict(), path): a dict of tensors"))
        expect(isinstance(state, dict), _("{file} holds a {kind}, not a state_dict").format(
            file=path.name, kind=type(state).__name__), hint=_("torch.save(model.state_dict(), path)"))
        fresh = student.TinyCifarNet().to(device)
        _expect_loads(fresh, state, path.name)
        states.append(fresh)
    x = xt[:16].to(device)
    model.eval()
    with torch.no_grad():
        want = model(x)
        got = states[1].eval()(x)
        first = states[0].eval()(x)
    expect_tensor(got, want, _("the outputs of TinyCifarNet loaded from epoch_2.pt (the last epoch)"), rtol=1e-6,
                  atol=1e-6, hint=_("save the state_dict after the epoch's training step, every epoch"))
    expect(not torch.equal(first, got), _("epoch_1.pt and epoch_2.pt hold the same weights"),
           hint=_("save inside the epoch loop, after training that epoch"))
    recorded = numbers["test_accuracy"][0]
    expect_close(recorded, _recorded_accuracy(student, states[0], test, device, _accuracy(states[0], xt, yt, device),
                                              recorded),
                 _("history['test_accuracy'][0], against the model loaded from epoch_1.pt"), rtol=0,
                 atol=1.01 / len(yt),
                 hint=_("epoch_1.pt must hold the weights after epoch 1, the ones history['test_accuracy'][0] "
                        "measured"))


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
    train, test, _data = _shapes10_loaders(batch_size=30)  # 20 training batches, 2 test batches
    model = student.TinyCifarNet().to(device)
    activations = set()
    for m in model.modules():
        m.register_forward_hook(lambda m, i, out: activations.update(public._devices(out)))
    loss_fn = _RecordingLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    copies = _HostCopies(device.type)
    with copies:
        student.train_one_epoch(model, train, loss_fn, optimizer, device)
    expect(activations == {"cuda"}, _("train_one_epoch on CUDA computed activations on {devices}").format(
        devices=sorted(activations)), hint=_("the model and the inputs must both be on the device"))
    expect(loss_fn.devices == {"cuda"}, _("train_one_epoch on CUDA computed the loss on {devices}").format(
        devices=sorted(loss_fn.devices)), hint=_("move the targets to the device too"))
    expect_at_most(copies.count, 3, _("GPU-to-CPU copies in train_one_epoch over 20 batches"),
                   hint=_("every .item(), .cpu() or float(loss) in the loop makes the CPU wait for the GPU: "
                          "add `loss.detach() * len(targets)` to a tensor on the device, .item() once at the end"))
    copies = _HostCopies(device.type)
    with copies:
        student.evaluate(model, DataLoader(test.dataset, batch_size=10), loss_fn, device)
    expect_at_most(copies.count, 4, _("GPU-to-CPU copies in evaluate over 20 batches"),
                   hint=_("count correct predictions and add up the loss on the device; .item() once at the end"))


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
        expect(p.device.type == "cuda", _("after fit(..., device=cuda) the parameter {name} is on {device}").format(
            name=name, device=p.device.type), hint=_("model.to(device) at the start of fit"))
    accuracy = expect_at_least(_accuracy(model, xt, yt, device), ACCURACY_BAR,
                               _("shapes10 test accuracy after fit(epochs={epochs}, lr=0.01) on CUDA").format(
                                   epochs=EPOCHS))
    # A checkpoint written on the GPU loads on a machine without one, with the same weights.
    path = tmp_path / "checkpoints" / f"epoch_{EPOCHS}.pt"
    expect(path.is_file(), _("fit(..., checkpoint_dir=...) on CUDA wrote no {file}").format(file=path.name))
    cpu_model = student.TinyCifarNet()
    cpu_model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    trained = model.state_dict()
    for name, tensor in cpu_model.state_dict().items():
        expect_tensor(tensor, trained[name].cpu(), _("{name} in {file} (written on CUDA, loaded on the CPU)").format(
            name=name, file=path.name), rtol=0, atol=0, hint=_("save model.state_dict() after the last epoch"))
    # cuDNN may compute convolutions in TF32, so the CPU's outputs differ a little: compare predictions.
    expect_close(_accuracy(cpu_model, xt, yt, torch.device("cpu")), accuracy,
                 _("the CPU test accuracy of {file} written on CUDA").format(file=path.name), rtol=0,
                 atol=3.01 / len(yt))
