"""Hidden checks of 06_alexnet: graded by the instructor, never shipped to students.

Cost: the full AlexNet (62M parameters) is built on the `meta` device wherever shapes suffice. Where values
are needed it gets CPU tensors filled from a short random pattern (`_with_cheap_values`) instead of 62M
random draws; only the initialisation check builds it for real, once.

Each check looks at one thing: the layer plan (channels, kernels, strides, padding) is graded by the layer
checks and the parameter counts only; the forward checks compute the notes' network from the student's own
layers, with their own strides and padding, so a wrong padding does not cost them too; the initialisation
check judges every layer by its own shape.
"""


import pytest
import torch
import torch.nn.functional as F
from torch import nn

from grader.checks import (
    Mistake,
    expect,
    expect_equal,
    expect_shape,
    expect_tensor,
    expect_type,
    forbid_ops,
    parameter_count,
    public_checks,
)
from grader.data import shapes10
from grader.i18n import _

# The forward runner, the initialisation statistics and the replace_classifier helpers are the public checks' own.
public = public_checks(__file__)

# (in_channels, out_channels, kernel_size, stride, padding) of each nn.Conv2d, in order.
ALEXNET_CONVS = [(3, 96, 11, 4, 2), (96, 256, 5, 1, 2), (256, 384, 3, 1, 1), (384, 384, 3, 1, 1), (384, 256, 3, 1, 1)]
SMALL_CONVS = [(3, 48, 5, 4, 0), (48, 128, 3, 1, 0), (128, 192, 3, 1, 0), (192, 192, 3, 1, 0), (192, 128, 3, 1, 0)]
TORCHVISION_CHANNELS = (64, 192, 384, 256, 256)
POOLED = (0, 1, 4)  # the conv stages that end with a max-pool
# (in_features, out_features) of each nn.Linear; None stands for num_classes.
ALEXNET_LINEARS = [(9216, 4096), (4096, 4096), (4096, None)]
SMALL_LINEARS = [(1152, 2048), (2048, 1024), (1024, None)]
SIZES = (63, 64, 100, 127, 128, 191, 224, 225, 226, 227, 228, 255, 256, 299, 384, 512)


def alexnet_plan():
    return _("the notes' plan: channels 96-256-384-384-256, kernels 11-5-3-3-3, conv1 stride 4 padding 2, conv2 "
             "padding 2, conv3-5 padding 1; fc 9216-4096-4096-num_classes")


def small_plan():
    return _("the homework's plan: channels 48-128-192-192-128, conv1 kernel 5 stride 4, then 3x3 kernels, no "
             "padding; fc 1152-2048-1024-num_classes")


def alexnet_order():
    return _("stages 1-2: conv, ReLU, LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2), MaxPool2d(3, stride 2); "
             "conv3-5 with ReLU, MaxPool2d(3, stride 2); flatten; Linear+ReLU twice, then Linear; dropout off in "
             "eval mode")


def small_order():
    return _("ReLU after every conv, MaxPool2d(2) after conv1, conv2 and conv5; flatten; Linear+ReLU twice, then "
             "Linear; dropout off in eval mode")


def no_forward():
    return _("alexnet_feature_shapes must compute the sizes with the formulas, not by running convolutions or pools")


def _expected_count(convs, linears, num_classes):
    conv = sum(c_in * c_out * k * k + c_out for c_in, c_out, k, _stride, _padding in convs)
    return conv + sum(i * (o or num_classes) + (o or num_classes) for i, o in linears)


def _build_on_meta(make, what):
    with torch.device("meta"):
        model = make()
    expect_type(model, nn.Module, what)
    return model


def _on_meta(student, make, what, num_classes, features, size=224, hint=None):
    """Build the model on the meta device (free even for 62M parameters) and check its output's shape."""
    model = _build_on_meta(make, what)
    shape = (2, 3, size, size)
    with torch.device("meta"):
        out = public.run(student, model, torch.empty(shape), f"{what}(x of shape {shape})", features, hint)
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
    if tuple(conv.out_channels for conv in convs) == TORCHVISION_CHANNELS:
        hint = _("these are the channels of torchvision's alexnet (64-192-384-256-256), a later variant; the notes' "
                 "has 96-256-384-384-256")
    expect(len(convs) == len(conv_plan), _("{what}: expected {n} nn.Conv2d layers, found {m}").format(
        what=what, n=len(conv_plan), m=len(convs)), hint)
    for i, (conv, (c_in, c_out, k, s, p)) in enumerate(zip(convs, conv_plan), 1):
        got = (conv.in_channels, conv.out_channels, tuple(conv.kernel_size), tuple(conv.stride), _padding(conv),
               tuple(conv.dilation), conv.groups, conv.bias is not None)
        want = (c_in, c_out, (k, k), (s, s), (p, p), (1, 1), 1, True)
        expect(got == want, _("{what}: conv layer {i} should be Conv2d({c_in}, {c_out}, kernel_size={k}, stride={s}, "
                              "padding={p}) with a bias, got {conv!r}").format(
            what=what, i=i, c_in=c_in, c_out=c_out, k=k, s=s, p=p, conv=conv), hint)
    expect(len(linears) == len(linear_plan), _("{what}: expected {n} nn.Linear layers, found {m}").format(
        what=what, n=len(linear_plan), m=len(linears)), hint)
    for i, (linear, (n_in, n_out)) in enumerate(zip(linears, linear_plan), 1):
        n_out = n_out or num_classes
        got = (linear.in_features, linear.out_features, linear.bias is not None)
        expect(got == (n_in, n_out, True), _("{what}: Linear layer {i} should be Linear(in_features={n_in}, "
                                             "out_features={n_out}, bias=True), got {linear!r}").format(
            what=what, i=i, n_in=n_in, n_out=n_out, linear=linear), hint)


def _counted(model, what, n_convs, n_linears):
    """The model's nn.Conv2d and nn.Linear layers, as many as the table has (their shapes are the layer checks')."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    expect(len(convs) == n_convs and len(linears) == n_linears,
           _("{what}: this check computes the table's network from your {n} nn.Conv2d and {m} nn.Linear layers, "
             "found {convs} and {linears}").format(what=what, n=n_convs, m=n_linears, convs=len(convs),
                                                   linears=len(linears)))
    return convs, linears


def _lrn(x, k=2.0, alpha=1e-4):
    return F.local_response_norm(x, 5, alpha=alpha, beta=0.75, k=k)


def _conv_stages(x, convs, pool, lrn=None, relu=True, lrn_where="after relu"):
    """Each conv stage's output, computed with the given conv layers' weights, strides and padding (the keywords
    make known mistakes). `lrn`: the normalisation of stages 1 and 2, or None."""
    outputs = []
    for i, conv in enumerate(convs):
        x = F.conv2d(x, conv.weight, conv.bias, conv.stride, _padding(conv), conv.dilation, conv.groups)
        normalised = lrn is not None and i < 2
        x = lrn(x) if normalised and lrn_where == "before relu" else x
        x = F.relu(x) if relu else x
        x = lrn(x) if normalised and lrn_where == "after relu" else x
        x = F.max_pool2d(x, *pool) if i in POOLED else x
        x = lrn(x) if normalised and lrn_where == "after pool" else x
        outputs.append(x)
    return outputs


def _classifier(x, linears, relu=True):
    x = x.flatten(1)
    for linear in linears[:-1]:
        x = F.linear(x, linear.weight, linear.bias)
        x = F.relu(x) if relu else x
    return F.linear(x, linears[-1].weight, linears[-1].bias)


def _alexnet_reference(x, convs, linears, pool=(3, 2), lrn=_lrn, relu=True, lrn_where="after relu",
                       classifier_relu=True):
    stages = _conv_stages(x, convs, pool, lrn=lrn, relu=relu, lrn_where=lrn_where)
    return _classifier(stages[-1], linears, relu=relu and classifier_relu)


def _small_reference(x, convs, linears, conv_relu=True, linear_relu=True):
    return _classifier(_conv_stages(x, convs, (2, 2), relu=conv_relu)[-1], linears, relu=linear_relu)


def _gives(compute, atol):
    """A Mistake's test: the student's output is what `compute()` gives."""
    def matches(got):
        other = compute()
        return other.shape == got.shape and bool(torch.allclose(got, other, rtol=1e-4, atol=atol))
    return matches


def _expect_same_network(out, second, ref, what, hint, variants):
    """`out` (and `second`, the same forward pass again) equals the reference `ref`; `variants` maps the hint of
    a known mistake to what that mistake computes."""
    atol = 1e-4 * float(ref.abs().max()) + 1e-6
    random = Mistake(_("two forward passes of the same image differ in eval mode: dropout must be off there "
                       "(nn.Dropout follows model.eval(); F.dropout needs training=self.training)"),
                     lambda got: not torch.equal(got, second))
    expect_tensor(out, ref, what, rtol=1e-4, atol=atol, hint=hint,
                  mistakes=[random, *(Mistake(cause, _gives(compute, atol)) for cause, compute in variants.items())])


def _dropout_hint(features):
    return _("nn.Dropout(p=0.5) before the first two Linear layers (on the {features} features and on fc1's "
             "output)").format(features=features)


def _expect_dropout_only_in_training(model, x, what, features):
    """In train mode, about half of the units entering the first two Linear layers are zeroed and the others
    doubled, and none entering the last one; in eval mode the same image gives the same output twice."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    expect(len(linears) == 3, _("{what}: this check looks at what enters each of the 3 nn.Linear layers, found "
                                "{n}").format(what=what, n=len(linears)))
    seen = {}

    def record(i):
        def hook(module, args, output):  # copies: an in-place ReLU may overwrite the output afterwards
            seen[i] = (args[0].detach().clone(), output.detach().clone())
        return hook

    def forward():
        seen.clear()
        return model(x.clone()), dict(seen)

    handles = [linear.register_forward_hook(record(i)) for i, linear in enumerate(linears)]
    try:
        with torch.no_grad():
            model.eval()
            (first, eval_seen), (second, _eval_again) = forward(), forward()
            model.train()
            _out, train_seen = forward()
    finally:
        for handle in handles:
            handle.remove()
    expect(bool(torch.equal(first, second)), _("{what} in eval mode: two forward passes of the same image "
                                               "differ").format(what=what),
           hint=_("dropout must be off in eval mode: nn.Dropout follows model.eval(); F.dropout needs "
                  "training=self.training"))
    expect(len(train_seen) == 3, _("{what}: forward() did not use all 3 nn.Linear layers").format(what=what))
    for i in range(3):
        entering, before = train_seen[i][0], eval_seen[0][0] if i == 0 else train_seen[i - 1][1]
        source = (_("the flattened features") if i == 0 else
                  _("Linear layer {i}'s output after its ReLU").format(i=i))
        expect(entering.shape == before.shape, _("{what} in train mode: what enters Linear layer {k} has shape "
                                                 "{shape}, {source} {other}").format(
            what=what, k=i + 1, shape=tuple(entering.shape), source=source, other=tuple(before.shape)))
        alive = before > 0  # the units a ReLU lets through
        zeroed = alive & (entering == 0)
        kept = alive & ~zeroed
        fraction = float(zeroed.sum()) / max(int(alive.sum()), 1)
        scale = float((entering[kept] / before[kept]).median()) if kept.any() else float("nan")
        expect(bool(torch.allclose(entering[kept], scale * before[kept], rtol=1e-4, atol=1e-6)),
               _("{what} in train mode: what enters Linear layer {k} is not {source} with some units zeroed").format(
                   what=what, k=i + 1, source=source))
        if i == 2:
            expect(fraction == 0,
                   _("{what} in train mode: {share:.0%} of the units entering the last Linear layer are zeroed: "
                     "there is dropout before it").format(what=what, share=fraction),
                   hint=_dropout_hint(features))
            continue
        expect(fraction > 0, _("{what} in train mode: no unit entering Linear layer {k} is zeroed: there is no "
                               "dropout before it").format(what=what, k=i + 1), hint=_dropout_hint(features))
        expect(0.35 <= fraction <= 0.65 and abs(scale - 2) < 1e-3,
               _("{what} in train mode: {share:.0%} of the units entering Linear layer {k} are zeroed and the "
                 "others multiplied by {scale:.3g}; dropout with p=0.5 zeroes about half and doubles the "
                 "others").format(what=what, share=fraction, k=i + 1, scale=scale),
               hint=_("one nn.Dropout(p=0.5) before each of the first two Linear layers"))


# --- AlexNet ---------------------------------------------------------------------------------------------

@pytest.mark.points(2)
@pytest.mark.parametrize("num_classes", [1000, 10])
def test_alexnet_layers_and_parameter_count(student, num_classes):
    what = f"AlexNet(num_classes={num_classes})"
    model = _build_on_meta(lambda: student.AlexNet(num_classes=num_classes), what)
    _layers(model, what, ALEXNET_CONVS, ALEXNET_LINEARS, num_classes, alexnet_plan())
    expect_equal(parameter_count(model), _expected_count(ALEXNET_CONVS, ALEXNET_LINEARS, num_classes),
                 _("the parameter count of {what}").format(what=what),
                 hint=_("LRN, ReLU, pooling and dropout have no parameters; no extra layers"))


@pytest.mark.points(1)
def test_alexnet_takes_224_to_227_pixels(student):
    for size in (224, 225, 226, 227):
        _on_meta(student, student.AlexNet, "AlexNet()", 1000, (256, 6, 6), size=size,
                 hint=_("with overlapping max-pools (kernel 3, stride 2) every size from 224 to 227 ends at 256x6x6"))


@pytest.mark.points(3)
def test_alexnet_forward_matches_the_notes(student):
    model = _with_cheap_values(_on_meta(student, student.AlexNet, "AlexNet()", 1000, (256, 6, 6)))
    convs, linears = _counted(model, "AlexNet()", 5, 3)
    x = 30 * torch.randn(1, 3, 224, 224)  # large enough that LRN's alpha term matters: LRN misplaced shows
    with torch.no_grad():
        model.eval()
        out, second = model(x.clone()), model(x.clone())

        def ref(**mistake):
            return _alexnet_reference(x, convs, linears, **mistake)

        variants = {
            _("the output is what the same weights give without LocalResponseNorm: LRN after the ReLU of stages "
              "1 and 2"): lambda: ref(lrn=None),
            _("LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2): PyTorch's default k is 1"):
                lambda: ref(lrn=lambda h: _lrn(h, k=1.0)),
            _("PyTorch's LocalResponseNorm divides alpha by n: pass alpha=1e-4 (in an LRN by hand, use alpha / n)"):
                lambda: ref(lrn=lambda h: _lrn(h, alpha=5e-4)),
            _("the LocalResponseNorm comes after the ReLU and before the max-pool"):
                lambda: ref(lrn_where="after pool"),
            _("the ReLU comes before the LocalResponseNorm"): lambda: ref(lrn_where="before relu"),
            _("AlexNet's max-pools overlap: MaxPool2d(kernel_size=3, stride=2)"): lambda: ref(pool=(2, 2)),
            _("the output is what the same weights give with no ReLU at all: a ReLU after every conv and hidden "
              "Linear layer"): lambda: ref(relu=False),
            _("a ReLU after each of the first two Linear layers"): lambda: ref(classifier_relu=False),
            _("return the logits: no softmax at the end (nn.CrossEntropyLoss applies it)"):
                lambda: F.softmax(ref(), dim=1),
        }
        _expect_same_network(out, second, ref(), "AlexNet().eval()(x)", alexnet_order(), variants)


@pytest.mark.points(2)
def test_alexnet_dropout_only_in_training(student):
    model = _with_cheap_values(_on_meta(student, lambda: student.AlexNet(num_classes=10), "AlexNet(num_classes=10)",
                                        10, (256, 6, 6)))
    _expect_dropout_only_in_training(model, torch.randn(2, 3, 224, 224), "AlexNet(num_classes=10)", 9216)


@pytest.mark.points(3)
@pytest.mark.timeout(120)
def test_alexnet_initialisation(student):
    model = student.AlexNet()  # for real: the student's own initialisation, as __init__ leaves it
    expect_type(model, nn.Module, "AlexNet()")
    public.expect_initialised(model, "AlexNet()", defaults=True)


# --- alexnet_feature_shapes ------------------------------------------------------------------------------

@pytest.mark.points(3)
def test_alexnet_feature_shapes_match_a_forward_pass(student):
    with torch.device("meta"):
        convs = [nn.Conv2d(c_in, c_out, k, stride=s, padding=p) for c_in, c_out, k, s, p in ALEXNET_CONVS]
    for size in SIZES:
        with forbid_ops(["convolution", "max_pool2d", "max_pool2d_with_indices"], no_forward()):
            got = student.alexnet_feature_shapes(size)
        stages = _conv_stages(torch.empty(1, 3, size, size, device="meta"), convs, (3, 2), lrn=_lrn)
        public.expect_shapes(got, [tuple(stage.shape[1:]) for stage in stages], f"alexnet_feature_shapes({size})",
                             _("floor((size + 2·padding − kernel_size) / stride) + 1 for every conv and max-pool "
                               "(kernel 3, stride 2); a stage ends after its pool"), public.feature_mistakes(size))


# --- SmallAlexNet ----------------------------------------------------------------------------------------

@pytest.mark.points(1)
@pytest.mark.parametrize("num_classes", [10, 7])
def test_small_alexnet_layers_and_parameter_count(student, num_classes):
    what = f"SmallAlexNet(num_classes={num_classes})"
    model = _build_on_meta(lambda: student.SmallAlexNet(num_classes=num_classes), what)
    _layers(model, what, SMALL_CONVS, SMALL_LINEARS, num_classes, small_plan())
    expect_equal(parameter_count(model), _expected_count(SMALL_CONVS, SMALL_LINEARS, num_classes),
                 _("the parameter count of {what}").format(what=what),
                 hint=_("ReLU, pooling and dropout have no parameters; no extra layers"))


@pytest.mark.points(2)
def test_small_alexnet_forward_matches_the_plan(student):
    _on_meta(student, student.SmallAlexNet, "SmallAlexNet()", 10, (128, 3, 3))
    model = student.SmallAlexNet()
    convs, linears = _counted(model, "SmallAlexNet()", 5, 3)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        model.eval()
        out, second = model(x.clone()), model(x.clone())

        def ref(**mistake):
            return _small_reference(x, convs, linears, **mistake)

        variants = {
            _("the output is what the same weights give with no ReLU at all (the homework's code as printed): ReLU "
              "after every conv and after the two hidden Linear layers"):
                lambda: ref(conv_relu=False, linear_relu=False),
            _("a ReLU after every convolution"): lambda: ref(conv_relu=False),
            _("a ReLU after each of the first two Linear layers"): lambda: ref(linear_relu=False),
            _("return the logits: no softmax at the end (nn.CrossEntropyLoss applies it)"):
                lambda: F.softmax(ref(), dim=1),
        }
        _expect_same_network(out, second, ref(), "SmallAlexNet().eval()(x)", small_order(), variants)


@pytest.mark.points(1)
def test_small_alexnet_dropout_only_in_training(student):
    _on_meta(student, student.SmallAlexNet, "SmallAlexNet()", 10, (128, 3, 3))
    _expect_dropout_only_in_training(student.SmallAlexNet(), torch.randn(2, 3, 224, 224), "SmallAlexNet()", 1152)


@pytest.mark.points(2)
def test_small_alexnet_one_step_lowers_the_loss(student):
    _on_meta(student, student.SmallAlexNet, "SmallAlexNet()", 10, (128, 3, 3))
    model = student.SmallAlexNet().eval()  # eval: without dropout the losses before and after are comparable
    x, y = shapes10(train=True)
    pick = torch.tensor([0, 150, 300, 450])  # four shapes10 images of four classes, upsampled to 224x224
    images, labels = F.interpolate(x[pick], size=224, mode="bilinear", align_corners=False), y[pick]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    before = F.cross_entropy(model(images.clone()), labels)
    expect(before.requires_grad, _("SmallAlexNet's output is not connected to its parameters' autograd graph"),
           hint=_("forward() must keep the output connected to the parameters: no .detach(), .data or "
                  "torch.no_grad() inside it"))
    before.backward()
    for name, p in model.named_parameters():
        expect(p.grad is not None and bool(p.grad.abs().sum() > 0),
               _("SmallAlexNet: no gradient reaches {name}").format(name=name),
               hint=_("every layer must be used in forward(), and nothing detached"))
    optimizer.step()
    with torch.no_grad():
        after = F.cross_entropy(model(images.clone()), labels)
    before, after = float(before.detach()), float(after)
    expect(after < before, _("one SGD step (lr=0.01) on 4 images did not lower SmallAlexNet's loss: {before:.5f} "
                             "before, {after:.5f} after").format(before=before, after=after))


# --- replace_classifier ----------------------------------------------------------------------------------

@pytest.mark.points(2)
@pytest.mark.parametrize("arch, device", [("vgg11", "meta"), ("alexnet", "meta"), ("resnet18", "cpu")])
def test_replace_classifier_on_torchvision_models(student, arch, device):
    import torchvision  # imported here: it takes a few seconds

    with torch.device(device):  # meta: vgg11 and alexnet without drawing their 133M and 61M weights
        model = getattr(torchvision.models, arch)(weights=None).eval()
    old_name, old = public.last_linear(model)
    old_shape = tuple(old.weight.shape)
    before = dict(model.named_parameters())
    values = {name: p.detach().clone() for name, p in before.items()} if device == "cpu" else {}
    what = f"replace_classifier({arch}, 7)"
    returned = student.replace_classifier(model, 7)
    new_name = public.last_linear(model)[0]
    public.expect_returns_the_model(returned, model, public.last_linear(model)[1], what)
    new = public.expect_replaced(model, old, old_name, old_shape, 7, what)
    expect_equal((new.in_features, new.out_features, new.bias is not None), (old.in_features, 7, True),
                 _("{what}: the new last layer's (in_features, out_features, has a bias)").format(what=what),
                 hint=_("the old layer {name} takes {n} features: reuse its in_features").format(
                     name=old_name, n=old.in_features))
    after = dict(model.named_parameters())
    for name, p in before.items():
        if name.startswith(old_name + "."):
            continue
        expect(after.get(name) is p, _("{what}: parameter {name} was replaced or removed; only {old} should "
                                       "change").format(what=what, name=name, old=old_name),
               hint=_("replace the last Linear layer only, in its parent module"))
        if values:
            expect_tensor(p, values[name], _("{what}: parameter {name}").format(what=what, name=name), rtol=0, atol=0,
                          hint=_("leave every other layer's values alone"))
    extra = sorted(set(after) - set(before) - {f"{new_name}.weight", f"{new_name}.bias"})
    expect(not extra, _("{what}: the model gained parameters {extra}").format(what=what, extra=extra),
           hint=_("replace the last Linear layer, add nothing"))
    expect(new.weight.requires_grad and new.bias.requires_grad,
           _("{what}: the new layer's parameters do not require gradients").format(what=what),
           hint=_("the new layer is the one to train: leave its requires_grad as nn.Linear makes it (True)"))
    expect(new.weight.device.type == device, _("{what}: the new layer is on {got}, the model on {device}").format(
        what=what, got=new.weight.device.type, device=device),
        hint=_("create it on the old layer's device (old.weight.device) or move it there"))
    size = 64 if device == "cpu" else 224
    with torch.no_grad():
        out = model(torch.randn(2, 3, size, size, device=device))
    expect_shape(out, (2, 7), f"{what}(x of shape (2, 3, {size}, {size}))")
