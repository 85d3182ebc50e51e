"""Public checks of 06_alexnet: run them with `pytest exercises/06_alexnet`.

The full AlexNet is built on PyTorch's `meta` device: its tensors have shapes but no values, so a forward
pass through 62 million parameters costs nothing and still checks every shape.
"""

import pytest
import torch

from grader.checks import expect, expect_equal, expect_shape, expect_type, parameter_count

FLATTEN_HINT = "flatten the (N, 256, 6, 6) features to (N, 9216) before the classifier"


def _forward_on_meta(make, what, batch=2):
    """Build the model and run a batch of 224x224 images through it, all on the meta device."""
    with torch.device("meta"):
        model = make()
        expect_type(model, torch.nn.Module, what)
        return model, model(torch.empty(batch, 3, 224, 224))


@pytest.mark.points(1)
def test_alexnet_output_shape(student):
    _, out = _forward_on_meta(student.AlexNet, "AlexNet()")
    expect_shape(out, (2, 1000), "AlexNet()(x of shape (2, 3, 224, 224))", hint=FLATTEN_HINT)
    _, out = _forward_on_meta(lambda: student.AlexNet(num_classes=10), "AlexNet(num_classes=10)")
    expect_shape(out, (2, 10), "AlexNet(num_classes=10)(x of shape (2, 3, 224, 224))",
                 hint="the last Linear layer has num_classes outputs")


@pytest.mark.points(1)
def test_alexnet_parameter_count(student):
    model, _ = _forward_on_meta(student.AlexNet, "AlexNet()")
    expect_equal(parameter_count(model), 62_378_344, "AlexNet()'s parameter count",
                 hint="the convolutions hold 3,747,200 parameters and the Linear layers 58,631,144; "
                      "compare each layer's with the table in README.md")


@pytest.mark.points(1)
def test_alexnet_feature_shapes_at_224(student):
    expect_equal(student.alexnet_feature_shapes(224),
                 [(96, 27, 27), (256, 13, 13), (384, 13, 13), (384, 13, 13), (256, 6, 6)],
                 "alexnet_feature_shapes(224)",
                 hint="conv1: floor((224 + 2*2 - 11) / 4) + 1 = 55, then the max-pool: floor((55 - 3) / 2) + 1 = 27")


@pytest.mark.points(1)
def test_small_alexnet_output_shape(student):
    model = student.SmallAlexNet()
    expect_type(model, torch.nn.Module, "SmallAlexNet()")
    with torch.no_grad():
        out = model(torch.randn(2, 3, 224, 224))
    expect_shape(out, (2, 10), "SmallAlexNet()(x of shape (2, 3, 224, 224))",
                 hint="flatten the (N, 128, 3, 3) features to (N, 1152) before the classifier")


@pytest.mark.points(1)
def test_replace_classifier_on_resnet18(student):
    import torchvision  # imported here: it takes a few seconds

    model = torchvision.models.resnet18(weights=None).eval()
    returned = student.replace_classifier(model, 5)
    expect_type(returned, torch.nn.Module, "replace_classifier(resnet18, 5)", hint="return the model you changed")
    with torch.no_grad():
        out = returned(torch.randn(1, 3, 64, 64))
    expect_shape(out, (1, 5), "replace_classifier(resnet18, 5)(x of shape (1, 3, 64, 64))",
                 hint="resnet18's last layer is model.fc = Linear(512, 1000)")


@pytest.mark.points(1)
def test_replace_classifier_keeps_the_device(student):
    import torchvision

    with torch.device("meta"):  # a model that lives on another device than the CPU (here: meta, which is free)
        model = torchvision.models.vgg11(weights=None).eval()
    returned = student.replace_classifier(model, 5)
    expect_type(returned, torch.nn.Module, "replace_classifier(vgg11 on the meta device, 5)",
                hint="return the model you changed")
    new = [m for m in returned.modules() if isinstance(m, torch.nn.Linear)][-1]
    expect(new.weight.device.type == "meta", f"replace_classifier(vgg11 on the meta device, 5): the new layer is on "
           f"{new.weight.device.type}", hint="create it on the old layer's device (old.weight.device) or move it there")
    out = returned(torch.empty(1, 3, 224, 224, device="meta"))
    expect_shape(out, (1, 5), "replace_classifier(vgg11 on the meta device, 5)(x of shape (1, 3, 224, 224))",
                 hint="vgg11's last layer is model.classifier[6] = Linear(4096, 1000)")
