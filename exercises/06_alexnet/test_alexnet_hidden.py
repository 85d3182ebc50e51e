"""Hidden checks of 06_alexnet: graded by the instructor, never shipped to students.

Cost: the full AlexNet (62M parameters) is built on the `meta` device wherever shapes suffice. Where values
are needed it gets CPU tensors filled from a short random pattern (`_with_cheap_values`) instead of 62M
random draws; only the initialisation check builds it for real, once.
"""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from grader.checks import (
    expect, expect_equal, expect_shape, expect_tensor, expect_type, fail, forbid_ops, parameter_count,
)
from grader.data import shapes10

# (in_channels, out_channels, kernel_size, stride, padding) of each nn.Conv2d, in order.
ALEXNET_CONVS = [(3, 96, 11, 4, 2), (96, 256, 5, 1, 2), (256, 384, 3, 1, 1), (384, 384, 3, 1, 1), (384, 256, 3, 1, 1)]
SMALL_CONVS = [(3, 48, 5, 4, 0), (48, 128, 3, 1, 0), (128, 192, 3, 1, 0), (192, 192, 3, 1, 0), (192, 128, 3, 1, 0)]
POOLED = (0, 1, 4)  # the conv stages that end with a max-pool
# (in_features, out_features) of each nn.Linear; None stands for num_classes.
ALEXNET_LINEARS = [(9216, 4096), (4096, 4096), (4096, None)]
SMALL_LINEARS = [(1152, 2048), (2048, 1024), (1024, None)]

ALEXNET_PLAN = ("the notes' plan: channels 96-256-384-384-256, kernels 11-5-3-3-3, conv1 stride 4 padding 2, "
                "conv2 padding 2, conv3-5 padding 1 (torchvision's alexnet, 64-192-384-256-256, is a later variant)")
SMALL_PLAN = "the homework's plan: channels 48-128-192-192-128, conv1 kernel 5 stride 4, then 3x3 kernels, no padding"
ALEXNET_ORDER = ("stages 1-2: conv, ReLU, LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2), "
                 "MaxPool2d(3, stride 2); conv3-5 with ReLU, MaxPool2d(3, stride 2); flatten; Linear+ReLU twice, "
                 "then Linear; dropout off in eval mode")
SMALL_ORDER = ("ReLU after every conv, MaxPool2d(2) after conv1, conv2 and conv5; flatten; Linear+ReLU twice, then "
               "Linear; dropout off in eval mode")
DROPOUT_HINT = "nn.Dropout(p=0.5) before the first two Linear layers: it zeroes units in train mode only"
NO_FORWARD = "alexnet_feature_shapes must compute the sizes with the formulas, not by running convolutions or pools"
INIT_STATS_SAMPLE = 1_000_000  # values per weight tensor used for the statistics


def _expected_count(convs, linears, num_classes):
    conv = sum(c_in * c_out * k * k + c_out for c_in, c_out, k, _, _ in convs)
    return conv + sum(i * (o or num_classes) + (o or num_classes) for i, o in linears)


def _on_meta(make, what, num_classes, size=224, hint=None):
    """Build the model on the meta device (free even for 62M parameters) and check its output's shape."""
    shape = (2, 3, size, size)
    with torch.device("meta"):
        model = make()
        expect_type(model, nn.Module, what)
        try:
            out = model(torch.empty(shape))
        except NotImplementedError:
            raise
        except RuntimeError as error:
            fail(f"{what}(x of shape {shape}) raised RuntimeError: {str(error).strip().splitlines()[0]}", hint)
    expect_shape(out, (2, num_classes), f"{what}(x of shape {shape})", hint)
    return model


def _with_cheap_values(model):
    """Move a meta model to the CPU and fill every parameter from a short random pattern, tiled.

    Drawing 62M random numbers costs seconds on a small CPU; a tiled pattern (He-scaled) costs a copy.
    """
    model.to_empty(device="cpu")
    with torch.no_grad():
        for p in model.parameters():
            n, period = p.numel(), min(p.numel(), 65521)  # a prime period, so rows do not repeat in step
            pattern = torch.randn(period) * ((2.0 / p[0].numel()) ** 0.5 if p.dim() > 1 else 0.1)
            flat, whole = p.view(-1), n // period * period
            flat[:whole].view(-1, period).copy_(pattern)
            flat[whole:].copy_(pattern[: n - whole])
    return model


def _padding(conv):
    if conv.padding == "valid":
        return (0, 0)
    if conv.padding == "same":
        return tuple(d * (k - 1) // 2 for d, k in zip(conv.dilation, conv.kernel_size))
    return tuple(conv.padding)


def _layers(model, what, conv_plan, linear_plan, num_classes, hint):
    """The model's nn.Conv2d and nn.Linear layers (in the order __init__ made them), checked against the plan."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    expect(len(convs) == len(conv_plan), f"{what}: expected {len(conv_plan)} nn.Conv2d layers, found {len(convs)}",
           hint)
    for i, (conv, (c_in, c_out, k, s, p)) in enumerate(zip(convs, conv_plan), 1):
        got = (conv.in_channels, conv.out_channels, tuple(conv.kernel_size), tuple(conv.stride), _padding(conv),
               tuple(conv.dilation), conv.groups, conv.bias is not None)
        want = (c_in, c_out, (k, k), (s, s), (p, p), (1, 1), 1, True)
        expect(got == want, f"{what}: conv layer {i} should be Conv2d({c_in}, {c_out}, kernel_size={k}, stride={s}, "
               f"padding={p}) with a bias, got {conv!r}", hint)
    expect(len(linears) == len(linear_plan),
           f"{what}: expected {len(linear_plan)} nn.Linear layers, found {len(linears)}", hint)
    for i, (linear, (n_in, n_out)) in enumerate(zip(linears, linear_plan), 1):
        n_out = n_out or num_classes
        got = (linear.in_features, linear.out_features, linear.bias is not None)
        expect(got == (n_in, n_out, True), f"{what}: Linear layer {i} should be Linear(in_features={n_in}, "
               f"out_features={n_out}, bias=True), got {linear!r}", hint)
    return convs, linears


def _conv_stages(x, convs, plan, pool, lrn=False, relu=True, lrn_after_pool=False):
    """Each conv stage's output, computed with the given conv layers' weights (keywords make known mistakes)."""
    outputs = []
    for i, (conv, (_, _, _, stride, padding)) in enumerate(zip(convs, plan)):
        x = F.conv2d(x, conv.weight, conv.bias, stride=stride, padding=padding)
        x = F.relu(x) if relu else x
        if lrn and i < 2 and not lrn_after_pool:
            x = F.local_response_norm(x, 5, alpha=1e-4, beta=0.75, k=2.0)
        if i in POOLED:
            x = F.max_pool2d(x, *pool)
        if lrn and i < 2 and lrn_after_pool:
            x = F.local_response_norm(x, 5, alpha=1e-4, beta=0.75, k=2.0)
        outputs.append(x)
    return outputs


def _classifier(x, linears, relu=True):
    x = x.flatten(1)
    for linear in linears[:-1]:
        x = F.linear(x, linear.weight, linear.bias)
        x = F.relu(x) if relu else x
    return F.linear(x, linears[-1].weight, linears[-1].bias)


def _alexnet_reference(x, convs, linears, pool=(3, 2), lrn=True, relu=True, lrn_after_pool=False):
    stages = _conv_stages(x, convs, ALEXNET_CONVS, pool, lrn=lrn, relu=relu, lrn_after_pool=lrn_after_pool)
    return _classifier(stages[-1], linears, relu=relu)


def _small_reference(x, convs, linears, conv_relu=True, linear_relu=True):
    return _classifier(_conv_stages(x, convs, SMALL_CONVS, (2, 2), relu=conv_relu)[-1], linears, relu=linear_relu)


def _expect_same_network(out, ref, what, variants, hint):
    """`out` equals the reference `ref`; when it does not, name the known mistake it matches, if any."""
    expect_shape(out, tuple(ref.shape), what, hint)
    atol = 1e-4 * float(ref.abs().max()) + 1e-6
    if not torch.allclose(out, ref, rtol=1e-4, atol=atol):
        for mistake, compute in variants.items():
            try:
                other = compute()
            except RuntimeError:
                continue
            if other.shape == out.shape and torch.allclose(out, other, rtol=1e-4, atol=atol):
                fail(f"{what}: the output is what the same weights give with {mistake}", hint)
    expect_tensor(out, ref, what, rtol=1e-4, atol=atol, hint=hint)


def _expect_dropout_only_in_training(model, x, what):
    with torch.no_grad():
        model.eval()
        first, second = model(x), model(x)
        expect_tensor(second, first, f"{what} in eval mode: a second forward pass of the same image", rtol=0, atol=0,
                      hint="dropout must be off in eval mode: nn.Dropout, or F.dropout(x, 0.5, training=self.training)")
        model.train()
        twins = model(x.repeat(2, 1, 1, 1))
    expect_shape(twins, (2, first.shape[1]), f"{what} in train mode on two copies of an image")
    expect(not torch.equal(twins[0], twins[1]),
           f"{what} in train mode gives the same output for two copies of an image: no dropout is active",
           hint=DROPOUT_HINT)


def _expect_normal(weight, std, what, hint):
    """Mean 0, standard deviation `std`, and a normal distribution's kurtosis (3; a uniform one has 1.8)."""
    w = weight.detach().flatten()[:INIT_STATS_SAMPLE].double()
    mean, sd = float(w.mean()), float(w.std())
    expect(abs(mean) <= 0.05 * std, f"{what}: mean {mean:.3g}, expected 0", hint)
    expect(abs(sd - std) <= 0.03 * std, f"{what}: standard deviation {sd:.4g}, expected {std:.4g}", hint)
    kurtosis = float(((w - mean) ** 4).mean()) / sd**4
    expect(2.7 <= kurtosis <= 3.3, f"{what}: the values are not normally distributed (kurtosis {kurtosis:.2f}; "
           "a normal distribution has 3, a uniform one 1.8)", hint)


def _last_linear(model):
    return [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear)][-1]


# --- AlexNet ---------------------------------------------------------------------------------------------

@pytest.mark.points(2)
@pytest.mark.parametrize("num_classes", [1000, 10])
def test_alexnet_layers_and_parameter_count(student, num_classes):
    what = f"AlexNet(num_classes={num_classes})"
    model = _on_meta(lambda: student.AlexNet(num_classes=num_classes), what, num_classes)
    _layers(model, what, ALEXNET_CONVS, ALEXNET_LINEARS, num_classes, ALEXNET_PLAN)
    expect_equal(parameter_count(model), _expected_count(ALEXNET_CONVS, ALEXNET_LINEARS, num_classes),
                 f"{what}'s parameter count", hint="LRN, ReLU, pooling and dropout have no parameters; no extra layers")


@pytest.mark.points(1)
def test_alexnet_takes_224_to_227_pixels(student):
    for size in (224, 225, 226, 227):
        _on_meta(student.AlexNet, "AlexNet()", 1000, size=size,
                 hint="with overlapping max-pools (kernel 3, stride 2) every size from 224 to 227 ends at 256x6x6")


@pytest.mark.points(3)
def test_alexnet_forward_matches_the_notes(student):
    model = _with_cheap_values(_on_meta(student.AlexNet, "AlexNet()", 1000))
    convs, linears = _layers(model, "AlexNet()", ALEXNET_CONVS, ALEXNET_LINEARS, 1000, ALEXNET_PLAN)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        out = model.eval()(x)
        variants = {
            "no LocalResponseNorm": lambda: _alexnet_reference(x, convs, linears, lrn=False),
            "non-overlapping max-pools (kernel 2, stride 2)":
                lambda: _alexnet_reference(x, convs, linears, pool=(2, 2)),
            "LocalResponseNorm after the max-pool": lambda: _alexnet_reference(x, convs, linears, lrn_after_pool=True),
            "no ReLU": lambda: _alexnet_reference(x, convs, linears, relu=False),
            "a softmax at the end": lambda: F.softmax(_alexnet_reference(x, convs, linears), dim=1),
        }
        _expect_same_network(out, _alexnet_reference(x, convs, linears), "AlexNet().eval()(x)", variants,
                             hint=ALEXNET_ORDER)


@pytest.mark.points(2)
def test_alexnet_dropout_only_in_training(student):
    model = _with_cheap_values(_on_meta(lambda: student.AlexNet(num_classes=10), "AlexNet(num_classes=10)", 10))
    _expect_dropout_only_in_training(model, torch.randn(1, 3, 224, 224), "AlexNet(num_classes=10)")


@pytest.mark.points(3)
@pytest.mark.timeout(120)
def test_alexnet_initialisation(student):
    _on_meta(student.AlexNet, "AlexNet()", 1000)
    model = student.AlexNet()  # for real: the student's own initialisation
    convs, linears = _layers(model, "AlexNet()", ALEXNET_CONVS, ALEXNET_LINEARS, 1000, ALEXNET_PLAN)
    for i, conv in enumerate(convs, 1):
        std = (2.0 / (conv.out_channels * conv.kernel_size[0] * conv.kernel_size[1])) ** 0.5
        _expect_normal(conv.weight, std, f"AlexNet(): conv layer {i}'s weight",
                       hint="nn.init.kaiming_normal_(weight, mode='fan_out', nonlinearity='relu'): "
                            "N(0, 2 / (out_channels * kernel_height * kernel_width))")
        expect_tensor(conv.bias.detach(), torch.zeros(conv.out_channels), f"AlexNet(): conv layer {i}'s bias",
                      hint="the notes set every bias to 0 (nn.init.zeros_)")
    for i, linear in enumerate(linears, 1):
        _expect_normal(linear.weight, 0.01, f"AlexNet(): Linear layer {i}'s weight",
                       hint="nn.init.normal_(weight, mean=0, std=0.01): 0.01 is the standard deviation")
        expect_tensor(linear.bias.detach(), torch.zeros(linear.out_features), f"AlexNet(): Linear layer {i}'s bias",
                      hint="the notes set every bias to 0 (nn.init.zeros_)")


# --- alexnet_feature_shapes ------------------------------------------------------------------------------

@pytest.mark.points(3)
def test_alexnet_feature_shapes_match_a_forward_pass(student):
    with torch.device("meta"):
        convs = [nn.Conv2d(c_in, c_out, k) for c_in, c_out, k, _, _ in ALEXNET_CONVS]
    for size in (63, 64, 100, 127, 128, 191, 224, 225, 226, 227, 228, 255, 256, 299, 384, 512):
        with forbid_ops(["convolution", "max_pool2d", "max_pool2d_with_indices"], NO_FORWARD):
            got = student.alexnet_feature_shapes(size)
        stages = _conv_stages(torch.empty(1, 3, size, size, device="meta"), convs, ALEXNET_CONVS, (3, 2), lrn=True)
        expect_equal(got, [tuple(stage.shape[1:]) for stage in stages], f"alexnet_feature_shapes({size})",
                     hint="floor((size + 2*padding - kernel_size) / stride) + 1 for every conv and max-pool "
                          "(kernel 3, stride 2); a stage ends after its pool")


# --- SmallAlexNet ----------------------------------------------------------------------------------------

@pytest.mark.points(1)
@pytest.mark.parametrize("num_classes", [10, 7])
def test_small_alexnet_layers_and_parameter_count(student, num_classes):
    what = f"SmallAlexNet(num_classes={num_classes})"
    model = _on_meta(lambda: student.SmallAlexNet(num_classes=num_classes), what, num_classes)
    _layers(model, what, SMALL_CONVS, SMALL_LINEARS, num_classes, SMALL_PLAN)
    expect_equal(parameter_count(model), _expected_count(SMALL_CONVS, SMALL_LINEARS, num_classes),
                 f"{what}'s parameter count", hint="ReLU, pooling and dropout have no parameters; no extra layers")


@pytest.mark.points(2)
def test_small_alexnet_forward_matches_the_plan(student):
    _on_meta(student.SmallAlexNet, "SmallAlexNet()", 10)
    model = student.SmallAlexNet()
    convs, linears = _layers(model, "SmallAlexNet()", SMALL_CONVS, SMALL_LINEARS, 10, SMALL_PLAN)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        out = model.eval()(x)
        variants = {
            "no ReLU at all (the homework's code as printed)":
                lambda: _small_reference(x, convs, linears, conv_relu=False, linear_relu=False),
            "no ReLU after the convolutions": lambda: _small_reference(x, convs, linears, conv_relu=False),
            "no ReLU between the Linear layers": lambda: _small_reference(x, convs, linears, linear_relu=False),
            "a softmax at the end": lambda: F.softmax(_small_reference(x, convs, linears), dim=1),
        }
        _expect_same_network(out, _small_reference(x, convs, linears), "SmallAlexNet().eval()(x)", variants,
                             hint=SMALL_ORDER)


@pytest.mark.points(1)
def test_small_alexnet_dropout_only_in_training(student):
    _on_meta(student.SmallAlexNet, "SmallAlexNet()", 10)
    _expect_dropout_only_in_training(student.SmallAlexNet(), torch.randn(1, 3, 224, 224), "SmallAlexNet()")


@pytest.mark.points(2)
def test_small_alexnet_one_step_lowers_the_loss(student):
    _on_meta(student.SmallAlexNet, "SmallAlexNet()", 10)
    model = student.SmallAlexNet().eval()  # eval: without dropout the losses before and after are comparable
    x, y = shapes10(train=True)
    pick = torch.tensor([0, 150, 300, 450])  # four shapes10 images of four classes, upsampled to 224x224
    images, labels = F.interpolate(x[pick], size=224, mode="bilinear", align_corners=False), y[pick]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    before = F.cross_entropy(model(images), labels)
    expect(before.requires_grad, "SmallAlexNet's output is not connected to its parameters' autograd graph",
           hint="no .detach(), .data or torch.no_grad() inside forward()")
    before.backward()
    for name, p in model.named_parameters():
        expect(p.grad is not None and bool(p.grad.abs().sum() > 0), f"SmallAlexNet: no gradient reaches {name}",
               hint="every layer must be used in forward(), and nothing detached")
    optimizer.step()
    with torch.no_grad():
        after = F.cross_entropy(model(images), labels)
    before, after = float(before.detach()), float(after)
    expect(after < before, f"one SGD step (lr=0.01) on 4 images did not lower SmallAlexNet's loss: "
           f"{before:.5f} before, {after:.5f} after", hint="the gradients must belong to the network's output")


# --- replace_classifier ----------------------------------------------------------------------------------

@pytest.mark.points(2)
@pytest.mark.parametrize("arch, device", [("vgg11", "meta"), ("alexnet", "meta"), ("resnet18", "cpu")])
def test_replace_classifier_on_torchvision_models(student, arch, device):
    import torchvision  # imported here: it takes a few seconds

    with torch.device(device):  # meta: vgg11 and alexnet without drawing their 133M and 61M weights
        model = getattr(torchvision.models, arch)(weights=None).eval()
    old_name, old = _last_linear(model)
    before = dict(model.named_parameters())
    values = {name: p.detach().clone() for name, p in before.items()} if device == "cpu" else {}
    what = f"replace_classifier({arch}, 7)"
    returned = student.replace_classifier(model, 7)
    expect(returned is model, f"{what} must change the model in place and return that same model",
           hint="end with `return model`; do not copy it")
    new_name, new = _last_linear(model)
    expect(new is not old, f"{what}: the last Linear layer ({old_name}) is still the old one")
    expect_equal((new.in_features, new.out_features, new.bias is not None), (old.in_features, 7, True),
                 f"{what}: the new last layer's (in_features, out_features, has a bias)",
                 hint=f"the old layer {old_name} takes {old.in_features} features: reuse its in_features")
    after = dict(model.named_parameters())
    for name, p in before.items():
        if name.startswith(old_name + "."):
            continue
        expect(after.get(name) is p, f"{what}: parameter {name} was replaced or removed; only {old_name} should change",
               hint="replace the last Linear layer only, in its parent module")
        if values:
            expect_tensor(p, values[name], f"{what}: parameter {name}", rtol=0, atol=0,
                          hint="leave every other layer's values alone")
    extra = sorted(set(after) - set(before) - {f"{new_name}.weight", f"{new_name}.bias"})
    expect(not extra, f"{what}: the model gained parameters {extra}", hint="replace the last Linear layer, add nothing")
    expect(new.weight.requires_grad, f"{what}: the new layer's weight does not require gradients")
    expect(new.weight.device.type == device, f"{what}: the new layer is on {new.weight.device.type}, "
           f"the model on {device}", hint="create it on the old layer's device (old.weight.device) or move it there")
    size = 64 if device == "cpu" else 224
    with torch.no_grad():
        out = model(torch.randn(2, 3, size, size, device=device))
    expect_shape(out, (2, 7), f"{what}(x of shape (2, 3, {size}, {size}))")
