"""Realistic mistakes in 05_cnn's cnn.py must cost points."""

import pytest

from grader.testing import failed_checks

MISTAKES = {
    "size off by one": (("- 1) // stride + 1", "- 1) // stride"), "test_conv2d_output_size_matches_pytorch"),
    "size not floored": (("- 1) // stride + 1\n", "- 1) / stride + 1\n"), "test_conv2d_output_size_matches_pytorch"),
    "ceil_mode ignored": (("    if not ceil_mode:\n", "    if True:\n"), "test_pool2d_output_size_matches_pytorch"),
    "flipped kernel": (("weight[:, :, i, j]", "weight[:, :, kh - 1 - i, kw - 1 - j]"), "test_conv2d_notes_strides_and_padding"),
    "dropped bias": (("out = out + bias.view(1, -1, 1, 1)", "pass"), "test_conv2d_values_and_gradients"),
    "calls F.conv2d": (
        ("    n, c_in, h, w = input.shape\n", "    return F.conv2d(input, weight, bias, stride, padding)\n"),
        "test_conv2d_values_and_gradients",
    ),
    "train() does not train": (("            optimizer.step()\n", ""), "test_train_reaches_accuracy_on_digits28"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_mistake_loses_points(grade_mutant, mistake):
    edit, check = MISTAKES[mistake]
    report = grade_mutant("05_cnn", edit)
    assert check in failed_checks(report), f"{mistake!r} did not fail {check}"
    assert report.total < report.max_total
