"""Public checks of 06_alexnet: run them with `pytest exercises/06_alexnet`.

The full AlexNet is built on PyTorch's `meta` device: its tensors have shapes but no values, so a forward
pass through 62 million parameters costs nothing and still checks every shape.
"""

import pytest
import torch
from torch import nn

from grader.checks import (
    TENSOR_TYPES,
    Mistake,
    expect,
    expect_close,
    expect_equal,
    expect_shape,
    expect_tensor,
    expect_type,
    fail,
    parameter_count,
)
from grader.i18n import _
from grader.student import innermost_student_frame

# AlexNet()'s parameter count with one known mistake each (README section 1's table, changed in one place).
COUNT = 62_378_344
COUNT_FC1_6400 = COUNT - (9216 - 6400) * 4096  # the d2l book's padding 1 in conv1: 256x5x5 features
COUNT_TORCHVISION = 61_100_840  # torchvision's alexnet: 64-192-384-256-256 channels
COUNT_GROUPED = COUNT - 256 * 48 * 25 - 384 * 192 * 9 - 256 * 192 * 9  # the paper's groups=2 in conv2, 4 and 5
INIT_STATS_SAMPLE = 1_000_000  # values per weight tensor used for the statistics
# (out_channels, kernel_size, stride, padding, ends with a max-pool) of AlexNet's five conv stages.
STAGES = [(96, 11, 4, 2, True), (256, 5, 1, 2, True), (384, 3, 1, 1, False), (384, 3, 1, 1, False),
          (256, 3, 1, 1, True)]


def _where(error, student):
    """' (alexnet.py line 12, in AlexNet.forward)' for the innermost frame of the student's code, or ''."""
    files = {getattr(student, "__file__", ""), *getattr(student, "__student_files__", ())}
    where = innermost_student_frame(error.__traceback__, files)
    return f" ({where})" if where else ""


def _linear_inputs(model):
    """Forward pre-hooks that record the shape of what enters each nn.Linear layer, in order."""
    seen = {}
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]

    def record(i):
        def hook(module, args):
            seen.setdefault(i, tuple(args[0].shape))  # returns nothing: the input goes on unchanged
        return hook

    handles = [linear.register_forward_pre_hook(record(i)) for i, linear in enumerate(linears)]
    return linears, seen, handles


def run(student, model, x, what, features, hint):
    """model(x); a RuntimeError in it fails the check with its first line, where it was raised and, when the first
    Linear layer got the wrong features, what it got. `features` is the (C, H, W) the conv stages end with."""
    linears, seen, handles = _linear_inputs(model)
    try:
        return model(x)
    except NotImplementedError:  # a RuntimeError too: the plugin says "not implemented yet"
        raise
    except RuntimeError as error:
        text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        got = seen.get(0)
        n, flat = x.shape[0], features[0] * features[1] * features[2]
        cause = None
        if got is not None and len(got) > 2:
            cause = _("the first Linear layer received a {rank}-d tensor {shape}: flatten the (N, {c}, {h}, {w}) "
                      "features to (N, {flat}) first (torch.flatten(x, 1))").format(
                rank=len(got), shape=got, c=features[0], h=features[1], w=features[2], flat=flat)
        elif got is not None and (len(got) == 1 or got[0] != n):
            cause = _("the first Linear layer received {shape}: keep the batch dim, torch.flatten(x, 1) gives "
                      "(N, {flat})").format(shape=got, flat=flat)
        elif got is not None and linears and got[-1] != linears[0].in_features:
            cause = _("the first Linear layer received {got} features per image and takes {takes}; the notes' "
                      "conv stages end at {c}x{h}x{w} = {flat} at this input size: compare each conv's padding and "
                      "stride with the table").format(got=got[-1], takes=linears[0].in_features, c=features[0],
                                                      h=features[1], w=features[2], flat=flat)
        fail(_("{what} raised RuntimeError: {text}{where}").format(what=what, text=text, where=_where(error, student)),
             cause or hint)
    finally:
        for handle in handles:
            handle.remove()


def _forward_on_meta(student, make, what, batch=2):
    """Build the model and run a batch of 224x224 images through it, all on the meta device."""
    with torch.device("meta"):
        model = make()
        expect_type(model, torch.nn.Module, what)
        x = torch.empty(batch, 3, 224, 224)
        return model, run(student, model, x, f"{what}(x of shape {tuple(x.shape)})", (256, 6, 6),
                          _("flatten the (N, 256, 6, 6) features to (N, 9216) before the classifier"))


@pytest.mark.points(1)
def test_alexnet_output_shape(student):
    out = _forward_on_meta(student, student.AlexNet, "AlexNet()")[1]
    expect_shape(out, (2, 1000), "AlexNet()(x of shape (2, 3, 224, 224))",
                 hint=_("logits (N, num_classes): flatten the (N, 256, 6, 6) features to (N, 9216), then the three "
                        "Linear layers; num_classes defaults to 1000"))
    out = _forward_on_meta(student, lambda: student.AlexNet(num_classes=10), "AlexNet(num_classes=10)")[1]
    expect_shape(out, (2, 10), "AlexNet(num_classes=10)(x of shape (2, 3, 224, 224))",
                 hint=_("the last Linear layer has num_classes outputs"),
                 mistakes=[Mistake(_("num_classes is ignored: use it as the last Linear layer's out_features"),
                                   (2, 1000))])


@pytest.mark.points(1)
def test_alexnet_parameter_count(student):
    with torch.device("meta"):
        model = student.AlexNet()
    expect_type(model, torch.nn.Module, "AlexNet()")
    expect_equal(parameter_count(model), COUNT, "AlexNet()'s parameter count",
                 hint=_("the convolutions hold 3,747,200 parameters and the Linear layers 58,631,144; "
                        "compare each layer's with the table in README.md"),
                 mistakes=[Mistake(_("conv1 has padding 2, so the features are 256x6x6 = 9216 for fc1; compare each "
                                     "layer with the table"), COUNT_FC1_6400),
                           Mistake(_("that is torchvision's alexnet (64-192-384-256-256 channels); the notes' has "
                                     "96-256-384-384-256"), COUNT_TORCHVISION),
                           Mistake(_("that is the 2012 paper's count with its convolutions split over two GPUs "
                                     "(groups=2); the notes use groups=1"), COUNT_GROUPED)])


def conv_hint():
    return _("nn.init.kaiming_normal_(weight, mode='fan_out', nonlinearity='relu'): N(0, 2 / (out_channels · "
             "kernel_height · kernel_width))")


def linear_hint():
    return _("nn.init.normal_(weight, mean=0, std=0.01): 0.01 is the standard deviation")


def expect_normal(weight, std, what, hint, mistakes=(), defaults=None):
    """Standard deviation `std`, mean 0, and a normal distribution's kurtosis (3; a uniform one has 1.8).

    `defaults`: the standard deviation of PyTorch's default (uniform) initialisation of this layer, where values
    that come from it mean that the initialisation was never called."""
    w = weight.detach().flatten()[:INIT_STATS_SAMPLE].double()
    mean, sd = float(w.mean()), float(w.std())
    kurtosis = float(((w - mean) ** 4).mean()) / sd**4 if sd > 0 else float("nan")
    uniform = 1.6 <= kurtosis <= 2.0
    if defaults is not None:
        mistakes = [Mistake(_("these are PyTorch's default weights (uniform, std 1 / sqrt(3 · fan_in)): call "
                              "self._initialize_weights() at the end of __init__"),
                            lambda got: uniform and abs(got - defaults) <= 0.03 * defaults), *mistakes]
    expect_close(sd, std, f"{what}: standard deviation", rtol=0.03, hint=hint, mistakes=mistakes)
    expect_close(mean, 0.0, f"{what}: mean", atol=0.05 * std, hint=hint)
    expect(2.7 <= kurtosis <= 3.3, _("{what}: the values are not normally distributed (kurtosis {kurtosis:.2f}; a "
                                     "normal distribution has 3, a uniform one 1.8)").format(what=what,
                                                                                             kurtosis=kurtosis),
           _("a uniform distribution: draw from a normal one (kaiming_normal_, normal_), not kaiming_uniform_ or "
             "uniform_") if uniform else hint)


def expect_zero_bias(layer, what):
    expect_type(layer.bias, TENSOR_TYPES, what, hint=_("the notes' layers have biases: keep bias=True"))
    expect_tensor(layer.bias, torch.zeros(layer.bias.shape), what, hint=_("every bias is 0 (nn.init.zeros_)"),
                  mistakes=[Mistake(_("the notes set every bias to 0, not to the paper's 1"),
                                    torch.ones(layer.bias.shape))])


def expect_initialised(model, what, defaults=False):
    """Every nn.Conv2d and nn.Linear of `model` as the notes initialise them, each judged by its own shape; with
    `defaults`, values that PyTorch's default initialisation gives are named as such."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    expect(bool(convs) and bool(linears), _("{what} has {convs} nn.Conv2d and {linears} nn.Linear layers").format(
        what=what, convs=len(convs), linears=len(linears)), hint=_("build the layers of README section 1 in __init__"))
    for i, conv in enumerate(convs, 1):
        kernel = conv.kernel_size[0] * conv.kernel_size[1]
        fan_in, fan_out = conv.in_channels // conv.groups * kernel, conv.out_channels * kernel
        expect_normal(conv.weight, (2 / fan_out) ** 0.5, _("{what}: conv layer {i}'s weight").format(what=what, i=i),
                      conv_hint(), defaults=(1 / (3 * fan_in)) ** 0.5 if defaults else None, mistakes=[
                          Mistake(_("mode='fan_out': the variance is 2 / (out_channels · kh · kw), not "
                                    "2 / (in_channels · kh · kw)"), (2 / fan_in) ** 0.5),
                          Mistake(_("He initialisation for ReLU has the gain sqrt(2): nonlinearity='relu'"),
                                  (1 / fan_out) ** 0.5),
                          Mistake(_("N(0, 0.01²) is for the Linear layers; the convolutions get He initialisation"),
                                  0.01)])
        expect_zero_bias(conv, _("{what}: conv layer {i}'s bias").format(what=what, i=i))
    for i, linear in enumerate(linears, 1):
        expect_normal(linear.weight, 0.01, _("{what}: Linear layer {i}'s weight").format(what=what, i=i),
                      linear_hint(), defaults=(1 / (3 * linear.in_features)) ** 0.5 if defaults else None, mistakes=[
                          Mistake(_("std=0.01 is the standard deviation, not the variance: "
                                    "nn.init.normal_(weight, 0, 0.01)"), 0.1),
                          Mistake(_("the Linear layers get N(0, 0.01²); He initialisation is for the convolutions"),
                                  (2 / linear.out_features) ** 0.5)])
        expect_zero_bias(linear, _("{what}: Linear layer {i}'s bias").format(what=what, i=i))


@pytest.mark.points(1)
def test_alexnet_initialize_weights(student):
    with torch.device("meta"):
        model = student.AlexNet()
    expect_type(model, torch.nn.Module, "AlexNet()")
    model.to_empty(device="cpu")  # memory with no particular values, which _initialize_weights must overwrite
    with torch.no_grad():
        model._initialize_weights()
    expect_initialised(model, "AlexNet()._initialize_weights()")


def sizes(size, plus_one=True, both_sides=True, pool=(3, 2), pooled=True, ceil=False):
    """The five stages' (C, H, W) from the formula, with a known mistake where a keyword says so."""
    def out(n, k, s=1, p=0):
        span = n + (2 if both_sides else 1) * p - k
        return (-(-span // s) if ceil else span // s) + (1 if plus_one else 0)

    shapes = []
    for c_out, k, s, p, pooled_here in STAGES:
        size = out(size, k, s, p)
        if pooled_here and pooled:
            size = out(size, *pool)
        shapes.append((c_out, size, size))
    return shapes


def feature_mistakes(size):
    return [
        Mistake(_("the formula ends with + 1: floor((size + 2·padding − kernel_size) / stride) + 1"),
                sizes(size, plus_one=False)),
        Mistake(_("the padding is added on both sides: size + 2·padding"), sizes(size, both_sides=False)),
        Mistake(_("AlexNet's max-pools have kernel 3 and stride 2 (they overlap)"), sizes(size, pool=(2, 2))),
        Mistake(_("a stage ends after its max-pool: stages 1, 2 and 5 pool (kernel 3, stride 2)"),
                sizes(size, pooled=False)),
        Mistake(_("floor, not ceil: PyTorch's convolutions and pools (ceil_mode=False) round down"),
                sizes(size, ceil=True)),
    ]


def expect_shapes(got, expected, what, hint, mistakes):
    """expect_equal on the list of shapes, with the hint of the mistake whose list `got` is."""
    cause = None
    if isinstance(got, (list, tuple)):
        shapes = [tuple(s) if isinstance(s, (list, tuple)) else s for s in got]
        cause = None if shapes == expected else next((m.hint for m in mistakes if shapes == m.result), None)
    expect_equal(got, expected, what, hint=cause or hint)


@pytest.mark.points(1)
def test_alexnet_feature_shapes_at_224(student):
    expect_shapes(student.alexnet_feature_shapes(224),
                  [(96, 27, 27), (256, 13, 13), (384, 13, 13), (384, 13, 13), (256, 6, 6)],
                  "alexnet_feature_shapes(224)",
                  _("conv1: floor((224 + 2·2 − 11) / 4) + 1 = 55, then the max-pool: floor((55 − 3) / 2) + 1 = 27"),
                  feature_mistakes(224))


@pytest.mark.points(1)
def test_small_alexnet_output_shape(student):
    model = student.SmallAlexNet()
    expect_type(model, torch.nn.Module, "SmallAlexNet()")
    x = torch.randn(2, 3, 224, 224)
    hint = _("flatten the (N, 128, 3, 3) features to (N, 1152) before the classifier")
    with torch.no_grad():
        out = run(student, model, x, "SmallAlexNet()(x of shape (2, 3, 224, 224))", (128, 3, 3), hint)
    expect_shape(out, (2, 10), "SmallAlexNet()(x of shape (2, 3, 224, 224))", hint=hint)


def expect_returns_the_model(returned, model, new_layer, what):
    """replace_classifier returns the model it was given (README section 4)."""
    if returned is model:
        return
    if returned is None:
        fail(_("{what} returned None").format(what=what), _("end with `return model`"))
    cause = (_("it returned the new layer: put it into the model and return the model") if returned is new_layer
             else _("change the model in place and return that same model, not a copy"))
    fail(_("{what} must return the model it was given, got {got}").format(what=what, got=type(returned).__name__),
         cause)


def last_linear(model):
    return [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear)][-1]


def expect_replaced(model, old, old_name, old_shape, num_classes, what):
    """The model's last nn.Linear is a new layer, and the old one (of weight shape `old_shape`) is gone from it."""
    new = last_linear(model)[1]
    if new is old:
        resized = old.out_features == num_classes and tuple(old.weight.shape) == old_shape
        fail(_("{what}: the last Linear layer ({name}) is still the old one").format(what=what, name=old_name),
             _("assign a new nn.Linear(old.in_features, num_classes): setting out_features does not resize the "
               "weight") if resized else _("put a new nn.Linear(old.in_features, num_classes) in its place"))
    expect(not any(m is old for m in model.modules()),
           _("{what}: the old last layer {name} = {layer!r} is still in the model").format(
               what=what, name=old_name, layer=old),
           hint=_("replace the last Linear layer in its parent module (setattr), do not add one after it"))
    return new


@pytest.mark.points(1)
def test_replace_classifier_on_resnet18(student):
    import torchvision  # imported here: it takes a few seconds

    model = torchvision.models.resnet18(weights=None).eval()
    old = model.fc
    what = "replace_classifier(resnet18, 5)"
    returned = student.replace_classifier(model, 5)
    expect_returns_the_model(returned, model, last_linear(model)[1], what)
    expect_replaced(model, old, "fc", (1000, 512), 5, what)
    with torch.no_grad():
        out = model(torch.randn(1, 3, 64, 64))
    expect_shape(out, (1, 5), f"{what}(x of shape (1, 3, 64, 64))",
                 hint=_("resnet18's last layer is model.fc = Linear(512, 1000)"))


@pytest.mark.points(1)
def test_replace_classifier_keeps_the_device(student):
    import torchvision

    with torch.device("meta"):  # a model that lives on another device than the CPU (here: meta, which is free)
        model = torchvision.models.vgg11(weights=None).eval()
    old = model.classifier[6]
    what = "replace_classifier(vgg11 on the meta device, 5)"
    returned = student.replace_classifier(model, 5)
    expect_returns_the_model(returned, model, last_linear(model)[1], what)
    new = expect_replaced(model, old, "classifier.6", (1000, 4096), 5, what)
    expect(new.weight.device.type == "meta", _("{what}: the new layer is on {device}").format(
        what=what, device=new.weight.device.type),
        hint=_("create it on the old layer's device (old.weight.device) or move it there"))
    out = model(torch.empty(1, 3, 224, 224, device="meta"))
    expect_shape(out, (1, 5), f"{what}(x of shape (1, 3, 224, 224))",
                 hint=_("vgg11's last layer is model.classifier[6] = Linear(4096, 1000)"))
