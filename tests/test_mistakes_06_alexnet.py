"""Realistic mistakes in 06_alexnet's alexnet.py cost the checks about them, with a true hint.

Each mutant is graded on the checks that should catch it (and, where a mistake used to cost checks about other
things, on those too, which must pass); each failing check must show the hint of the mistake's cause, or no hint
where none would be true.
"""

import pytest

from grader.testing import assert_hint

LRN = "            nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0),\n"
POOL = "            nn.MaxPool2d(kernel_size=3, stride=2),\n"
ALEXNET_DROPOUT_1 = "            nn.Dropout(p=0.5),\n            nn.Linear(256 * 6 * 6, 4096),\n"
ALEXNET_DROPOUT_2 = "            nn.Dropout(p=0.5),\n            nn.Linear(4096, 4096),\n"
ALEXNET_LAST = "            nn.Linear(4096, num_classes),\n"
SMALL_DROPOUT_1 = "            nn.Dropout(p=0.5),\n            nn.Linear(128 * 3 * 3, 2048),\n"
SMALL_DROPOUT_2 = "            nn.Dropout(p=0.5),\n            nn.Linear(2048, 1024),\n"
REPLACE_BODY = "    name, last = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]\n"
SETATTR = "    setattr(parent, attribute, new.to(last.weight.device))\n"

FORWARD = "test_alexnet_forward_matches_the_notes"
DROPOUT = "test_alexnet_dropout_only_in_training"
INIT = "test_alexnet_initialisation"
INIT_PUBLIC = "test_alexnet_initialize_weights"
LAYERS = "test_alexnet_layers_and_parameter_count"
COUNT = "test_alexnet_parameter_count"
SIZES = "test_alexnet_takes_224_to_227_pixels"
SHAPES = "test_alexnet_feature_shapes_match_a_forward_pass"
SHAPES_224 = "test_alexnet_feature_shapes_at_224"
SMALL_FORWARD = "test_small_alexnet_forward_matches_the_plan"
REPLACE = "test_replace_classifier_on_torchvision_models"
RESNET = "test_replace_classifier_on_resnet18"
DEVICE = "test_replace_classifier_keeps_the_device"

DROPOUT_HINT = "nn.Dropout(p=0.5) before the first two Linear layers (on the 9216 features and on fc1's output)"
FAN_OUT = "mode='fan_out': the variance is 2 / (out_channels · kh · kw), not 2 / (in_channels · kh · kw)"
APPENDED = "replace the last Linear layer in its parent module (setattr), do not add one after it"


def _drop_line(line):
    return (line, "")


def _drop_first_line(block):
    return (block, block.split("\n", 1)[1])


# mistake: ((old, new) edits of the reference, {check that must fail: the hint it must show, or None for no hint},
#           checks that must still pass)
MISTAKES = {
    # AlexNet's architecture
    "no LRN": ((_drop_line(LRN),), {FORWARD: "without LocalResponseNorm"}, (LAYERS, INIT, DROPOUT)),
    "LRN with PyTorch's default k=1": (
        (("beta=0.75, k=2.0)", "beta=0.75)"),), {FORWARD: "PyTorch's default k is 1"}, ()),
    "LRN after the max-pool": (((LRN + POOL, POOL + LRN),), {FORWARD: "before the max-pool"}, ()),
    "non-overlapping pooling (k2 s2)": (
        (("nn.MaxPool2d(kernel_size=3, stride=2)", "nn.MaxPool2d(kernel_size=2, stride=2)"),),
        {SIZES: "the first Linear layer received 12544 features per image and takes 9216",
         FORWARD: "AlexNet's max-pools overlap"},
        (LAYERS, INIT),
    ),
    "the book's conv1 padding 1 with fc1 fitted to it": (
        (("nn.Conv2d(3, 96, kernel_size=11, stride=4, padding=2)",
          "nn.Conv2d(3, 96, kernel_size=11, stride=4, padding=1)"),
         ("nn.Linear(256 * 6 * 6, 4096)", "nn.Linear(6400, 4096)")),
        {COUNT: "conv1 has padding 2, so the features are 256x6x6 = 9216", LAYERS: "the notes' plan"},
        (FORWARD, INIT, INIT_PUBLIC, DROPOUT),
    ),
    "features not flattened": (
        (("x = torch.flatten(x, 1)  # (N, 9216)", "x = x"),),
        {"test_alexnet_output_shape": "the first Linear layer received a 4-d tensor"},
        (LAYERS, INIT, COUNT),
    ),
    "a softmax at the end": (
        (("        return self.classifier(x)\n\n\ndef _size",
          "        return torch.softmax(self.classifier(x), dim=1)\n\n\ndef _size"),),
        {FORWARD: "no softmax at the end"}, (DROPOUT,),
    ),
    "dropout left out of AlexNet": (
        (_drop_first_line(ALEXNET_DROPOUT_1), _drop_first_line(ALEXNET_DROPOUT_2)),
        {DROPOUT: DROPOUT_HINT}, (FORWARD,),
    ),
    "dropout before the last Linear layer too": (
        ((ALEXNET_LAST, "            nn.Dropout(p=0.5),\n" + ALEXNET_LAST),),
        {DROPOUT: DROPOUT_HINT}, (FORWARD,),
    ),
    "dropout with p=0.2": (
        (("nn.Dropout(p=0.5),\n            nn.Linear(256", "nn.Dropout(p=0.2),\n            nn.Linear(256"),),
        {DROPOUT: "one nn.Dropout(p=0.5) before each of the first two Linear layers"}, (FORWARD,),
    ),
    "dropout always on (F.dropout without training=)": (
        (("x = torch.flatten(x, 1)  # (N, 9216)", "x = torch.nn.functional.dropout(torch.flatten(x, 1), 0.5)"),),
        {DROPOUT: "dropout must be off in eval mode", FORWARD: "two forward passes of the same image differ"},
        (),
    ),
    "torchvision's channel plan": (
        (
            ("nn.Conv2d(3, 96,", "nn.Conv2d(3, 64,"),
            ("nn.Conv2d(96, 256,", "nn.Conv2d(64, 192,"),
            ("nn.Conv2d(256, 384,", "nn.Conv2d(192, 384,"),
            ("nn.Conv2d(384, 256,", "nn.Conv2d(256, 256,"),
            ("nn.Conv2d(384, 384,", "nn.Conv2d(384, 256,"),
        ),
        {LAYERS: "torchvision's alexnet", COUNT: "that is torchvision's alexnet"},
        (FORWARD, INIT, DROPOUT),
    ),
    "torchvision's AlexNet taken as it is": (
        (("    return model\n", "    return model\n\n\nfrom torchvision.models import alexnet as AlexNet  # noqa\n"),),
        {LAYERS: "torchvision's alexnet", FORWARD: "without LocalResponseNorm", INIT: "PyTorch's default weights"},
        (),
    ),
    "num_classes ignored": (
        (("nn.Linear(4096, num_classes)", "nn.Linear(4096, 1000)"),
         ("nn.Linear(1024, num_classes)", "nn.Linear(1024, 10)")),
        {LAYERS: "fc 9216-4096-4096-num_classes", "test_alexnet_output_shape": "num_classes is ignored",
         "test_small_alexnet_layers_and_parameter_count": "fc 1152-2048-1024-num_classes"},
        (),
    ),
    # AlexNet's initialisation
    "initialisation never called": (
        (("        self._initialize_weights()\n", ""),),
        {INIT: "call self._initialize_weights() at the end of __init__"}, (INIT_PUBLIC,),
    ),
    "kaiming with fan_in": ((('mode="fan_out"', 'mode="fan_in"'),), {INIT: FAN_OUT, INIT_PUBLIC: FAN_OUT}, ()),
    "kaiming without the ReLU gain": (
        (('nonlinearity="relu"', 'nonlinearity="linear"'),), {INIT: "the gain sqrt(2)", INIT_PUBLIC: "the gain"}, ()),
    "kaiming uniform instead of normal": (
        (("nn.init.kaiming_normal_(", "nn.init.kaiming_uniform_("),),
        {INIT: "a uniform distribution", INIT_PUBLIC: "a uniform distribution"}, ()),
    "Linear std given as a variance of 0.01": (
        (("std=0.01)", "std=0.01 ** 0.5)"),), {INIT: "0.01 is the standard deviation, not the variance"}, ()),
    "the paper's biases of 1": (
        (("nn.init.zeros_(m.bias)", "nn.init.ones_(m.bias)"),),
        {INIT: "not to the paper's 1", INIT_PUBLIC: "not to the paper's 1"}, ()),
    # alexnet_feature_shapes
    "feature sizes off by one": (
        (("// stride + 1\n", "// stride\n"),), {SHAPES: "the formula ends with + 1", SHAPES_224: "ends with + 1"}, ()),
    "feature sizes with the padding on one side": (
        (("(size + 2 * padding - kernel_size)", "(size + padding - kernel_size)"),),
        {SHAPES: "the padding is added on both sides", SHAPES_224: "on both sides"}, ()),
    "feature sizes as floats": (
        (("// stride + 1\n", "/ stride + 1\n"),),
        {SHAPES: "return an int: use // for the division", SHAPES_224: "use // for the division"}, ()),
    "feature sizes with non-overlapping pools": (
        tuple((f"3, stride=2)  # conv{i}, pool", f"2, stride=2)  # conv{i}, pool") for i in (1, 2, 5)),
        {SHAPES: "AlexNet's max-pools have kernel 3 and stride 2"}, ()),
    "feature sizes before the pools": (
        tuple((f"_size(_size({arg}), 3, stride=2)  # conv{i}", f"_size({arg})  # conv{i}")
              for i, arg in ((1, "input_size, 11, stride=4, padding=2"), (2, "s, 5, padding=2"),
                             (5, "s, 3, padding=1"))),
        {SHAPES: "a stage ends after its max-pool", SHAPES_224: "a stage ends after its max-pool"}, ()),
    # SmallAlexNet
    "homework copied without ReLU": (
        (
            ("  # 55x55\n            nn.ReLU(inplace=True),\n", "  # 55x55\n"),
            ("  # 25x25\n            nn.ReLU(inplace=True),\n", "  # 25x25\n"),
            ("  # 10x10\n            nn.ReLU(inplace=True),\n", "  # 10x10\n"),
            ("  # 8x8\n            nn.ReLU(inplace=True),\n", "  # 8x8\n"),
            ("  # 6x6\n            nn.ReLU(inplace=True),\n", "  # 6x6\n"),
            ("nn.Linear(128 * 3 * 3, 2048),\n            nn.ReLU(inplace=True),\n", "nn.Linear(128 * 3 * 3, 2048),\n"),
            ("nn.Linear(2048, 1024),\n            nn.ReLU(inplace=True),\n", "nn.Linear(2048, 1024),\n"),
        ),
        {SMALL_FORWARD: "with no ReLU at all (the homework's code as printed)"},
        ("test_small_alexnet_dropout_only_in_training", "test_small_alexnet_layers_and_parameter_count"),
    ),
    "dropout left out of SmallAlexNet": (
        (_drop_first_line(SMALL_DROPOUT_1), _drop_first_line(SMALL_DROPOUT_2)),
        {"test_small_alexnet_dropout_only_in_training": "(on the 1152 features and on fc1's output)"},
        (SMALL_FORWARD,),
    ),
    "SmallAlexNet's features detached": (
        (("return self.classifier(torch.flatten(self.features(x), 1))",
          "return self.classifier(torch.flatten(self.features(x), 1).detach())"),),
        {"test_small_alexnet_one_step_lowers_the_loss": "every layer must be used in forward(), and nothing detached"},
        (SMALL_FORWARD,),
    ),
    # replace_classifier
    "whole classifier replaced, in_features guessed": (
        ((REPLACE_BODY, "    if hasattr(model, 'classifier'):\n"
                        "        model.classifier = nn.Linear(4096, num_classes)\n"
                        "    else:\n        model.fc = nn.Linear(512, num_classes)\n"
                        "    return model\n" + REPLACE_BODY),),
        {REPLACE: "replace the last Linear layer only, in its parent module"}, ()),
    "only knows classifier[6] (fails on resnet18)": (
        ((REPLACE_BODY, "    old = model.classifier[6]\n"
                        "    model.classifier[6] = nn.Linear(old.in_features, num_classes).to(old.weight.device)\n"
                        "    return model\n" + REPLACE_BODY),),
        {REPLACE: None, RESNET: None}, (DEVICE,)),
    "new layer left on the CPU": (
        ((SETATTR, "    setattr(parent, attribute, new)\n"),),
        {REPLACE: "create it on the old layer's device", DEVICE: "create it on the old layer's device"}, (RESNET,)),
    "a new layer appended after the old one": (
        ((SETATTR, "    parent.add_module('extra', new.to(last.weight.device))\n"),),
        {REPLACE: APPENDED, RESNET: APPENDED, DEVICE: APPENDED}, ()),
    "out_features changed instead of a new layer": (
        ((SETATTR, "    last.out_features = num_classes\n"),),
        {REPLACE: "setting out_features does not resize the weight", RESNET: "does not resize the weight"}, ()),
    "the model not returned": (
        ((SETATTR + "    return model\n", SETATTR),), {RESNET: "end with `return model`", DEVICE: "return model"}, ()),
    "in_features taken from out_features": (
        (("nn.Linear(last.in_features, num_classes", "nn.Linear(last.out_features, num_classes"),),
        {REPLACE: "reuse its in_features"}, ()),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_mistake_costs_its_checks_with_a_true_hint(grade_mutant, mistake):
    edits, expected, unaffected = MISTAKES[mistake]
    report = grade_mutant("06_alexnet", *edits, checks=[*expected, *unaffected])
    results = {}
    for check in report.checks:
        results.setdefault(check.name.split("[")[0], []).append(check)
    for name, hint in expected.items():
        failed = [c for c in results[name] if c.outcome != "passed"]
        assert failed, f"{mistake!r} did not fail {name}"
        for check in failed:
            assert_hint(check.message, hint, f"{mistake!r}: {name}")
    for name in unaffected:
        lost = [f"{c.name}: {c.message}" for c in results[name] if c.outcome != "passed"]
        assert not lost, f"{mistake!r} also cost a check about something else: {lost}"
