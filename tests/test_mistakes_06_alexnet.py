"""Realistic mistakes in 06_alexnet's alexnet.py must cost points.

Each mutant is graded on the whole exercise (about 10 s of CPU), so the list keeps one mutant per kind of
mistake and names every check it must fail.
"""

import pytest

from grader.testing import failed_checks

LRN = "            nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0),\n"
ALEXNET_DROPOUT_1 = "            nn.Dropout(p=0.5),\n            nn.Linear(256 * 6 * 6, 4096),\n"
ALEXNET_DROPOUT_2 = "            nn.Dropout(p=0.5),\n            nn.Linear(4096, 4096),\n"
SMALL_DROPOUT_1 = "            nn.Dropout(p=0.5),\n            nn.Linear(128 * 3 * 3, 2048),\n"
SMALL_DROPOUT_2 = "            nn.Dropout(p=0.5),\n            nn.Linear(2048, 1024),\n"
REPLACE_BODY = "    name, last = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]\n"


def _drop_line(line):
    return (line, "")


def _drop_first_line(block):
    return (block, block.split("\n", 1)[1])


MISTAKES = {
    # AlexNet's architecture
    "no LRN": ((_drop_line(LRN),), {"test_alexnet_forward_matches_the_notes"}),
    "non-overlapping pooling (k2 s2)": (
        (("nn.MaxPool2d(kernel_size=3, stride=2)", "nn.MaxPool2d(kernel_size=2, stride=2)"),),
        {"test_alexnet_takes_224_to_227_pixels", "test_alexnet_forward_matches_the_notes"},
    ),
    "dropout left out of AlexNet": (
        (_drop_first_line(ALEXNET_DROPOUT_1), _drop_first_line(ALEXNET_DROPOUT_2)),
        {"test_alexnet_dropout_only_in_training"},
    ),
    "dropout always on (F.dropout without training=)": (
        (("x = torch.flatten(x, 1)  # (N, 9216)", "x = torch.nn.functional.dropout(torch.flatten(x, 1), 0.5)"),),
        {"test_alexnet_dropout_only_in_training", "test_alexnet_forward_matches_the_notes"},
    ),
    "torchvision's channel plan": (
        (
            ("nn.Conv2d(3, 96,", "nn.Conv2d(3, 64,"),
            ("nn.Conv2d(96, 256,", "nn.Conv2d(64, 192,"),
            ("nn.Conv2d(256, 384,", "nn.Conv2d(192, 384,"),
            ("nn.Conv2d(384, 256,", "nn.Conv2d(256, 256,"),
            ("nn.Conv2d(384, 384,", "nn.Conv2d(384, 256,"),
        ),
        {"test_alexnet_layers_and_parameter_count", "test_alexnet_parameter_count"},
    ),
    "torchvision's AlexNet taken as it is": (
        (("    return model\n", "    return model\n\n\nfrom torchvision.models import alexnet as AlexNet  # noqa\n"),),
        {"test_alexnet_layers_and_parameter_count", "test_alexnet_forward_matches_the_notes"},
    ),
    "num_classes ignored": (
        (("nn.Linear(4096, num_classes)", "nn.Linear(4096, 1000)"),
         ("nn.Linear(1024, num_classes)", "nn.Linear(1024, 10)")),
        {"test_alexnet_layers_and_parameter_count", "test_small_alexnet_layers_and_parameter_count"},
    ),
    # AlexNet's initialisation
    "initialisation never called": ((("        self._initialize_weights()\n", ""),), {"test_alexnet_initialisation"}),
    "kaiming with fan_in": ((('mode="fan_out"', 'mode="fan_in"'),), {"test_alexnet_initialisation"}),
    "kaiming uniform instead of normal": (
        (("nn.init.kaiming_normal_(", "nn.init.kaiming_uniform_("),), {"test_alexnet_initialisation"}),
    "the paper's biases of 1": (
        (("nn.init.zeros_(m.bias)", "nn.init.ones_(m.bias)"),), {"test_alexnet_initialisation"}),
    # alexnet_feature_shapes
    "feature sizes off by one": (
        (("// stride + 1\n", "// stride\n"),),
        {"test_alexnet_feature_shapes_match_a_forward_pass", "test_alexnet_feature_shapes_at_224"},
    ),
    "feature sizes as floats": (
        (("// stride + 1\n", "/ stride + 1\n"),), {"test_alexnet_feature_shapes_match_a_forward_pass"}),
    "feature sizes with non-overlapping pools": (
        tuple((f"3, stride=2)  # conv{i}, pool", f"2, stride=2)  # conv{i}, pool") for i in (1, 2, 5)),
        {"test_alexnet_feature_shapes_match_a_forward_pass"},
    ),
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
        {"test_small_alexnet_forward_matches_the_plan"},
    ),
    "dropout left out of SmallAlexNet": (
        (_drop_first_line(SMALL_DROPOUT_1), _drop_first_line(SMALL_DROPOUT_2)),
        {"test_small_alexnet_dropout_only_in_training"},
    ),
    "SmallAlexNet's features detached": (
        (("return self.classifier(torch.flatten(self.features(x), 1))",
          "return self.classifier(torch.flatten(self.features(x), 1).detach())"),),
        {"test_small_alexnet_one_step_lowers_the_loss"},
    ),
    # replace_classifier
    "whole classifier replaced, in_features guessed": (
        ((REPLACE_BODY, "    if hasattr(model, 'classifier'):\n"
                        "        model.classifier = nn.Linear(4096, num_classes)\n"
                        "    else:\n        model.fc = nn.Linear(512, num_classes)\n"
                        "    return model\n" + REPLACE_BODY),),
        {"test_replace_classifier_on_torchvision_models"},
    ),
    "only knows classifier[6] (fails on resnet18)": (
        ((REPLACE_BODY, "    model.classifier[6] = nn.Linear(model.classifier[6].in_features, num_classes)\n"
                        "    return model\n" + REPLACE_BODY),),
        {"test_replace_classifier_on_torchvision_models", "test_replace_classifier_on_resnet18"},
    ),
    "new layer left on the CPU": (
        (("setattr(parent, attribute, new.to(last.weight.device))", "setattr(parent, attribute, new)"),),
        {"test_replace_classifier_on_torchvision_models", "test_replace_classifier_keeps_the_device"},
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_mistake_loses_points(grade_mutant, mistake):
    edits, checks = MISTAKES[mistake]
    report = grade_mutant("06_alexnet", *edits)
    missed = checks - failed_checks(report)
    assert not missed, f"{mistake!r} did not fail {sorted(missed)}"
    assert report.total < report.max_total
