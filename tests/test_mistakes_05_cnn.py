"""Realistic mistakes in 05_cnn's cnn.py must cost the checks about them, with the hint of their cause."""

import pytest

from grader.testing import has_hint

CONV_OUT = ("    out_h = conv2d_output_size(h, kh, stride, padding)\n"
            "    out_w = conv2d_output_size(w, kw, stride, padding)\n")
LOOP = "the loop of README section 5"

# mistake: (edits of the reference, {check that must catch it: the hint it shows}). Every failed result of a check
# that shows a hint shows this one, and at least one does; None: no failed result of that check names a cause.
MISTAKES = {
    "size off by one": (
        [("- 1) // stride + 1", "- 1) // stride")],
        {"test_conv2d_output_size_notes_net": "the first window counts too",
         "test_conv2d_output_size_padding_and_stride": "the first window counts too",
         "test_conv2d_output_size_matches_pytorch": "the first window counts too"},
    ),
    "size not floored": (
        [("- 1) // stride + 1\n", "- 1) / stride + 1\n")],
        {"test_conv2d_output_size_notes_net": "use // for the division",
         "test_conv2d_output_size_padding_and_stride": "use // for the division",
         "test_conv2d_output_size_matches_pytorch": "use // for the division"},
    ),
    "size ignores the dilation": (
        [("(size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1",
          "(size + 2 * padding - kernel_size) // stride + 1")],
        {"test_conv2d_output_size_matches_pytorch": "covers dilation·(k − 1) + 1 pixels"},
    ),
    "size pads one side only": (
        [("(size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1",
          "(size + padding - dilation * (kernel_size - 1) - 1) // stride + 1")],
        {"test_conv2d_output_size_padding_and_stride": "padding is added on both sides",
         "test_conv2d_output_size_matches_pytorch": "padding is added on both sides"},
    ),
    "ceil_mode ignored": (
        [("    if not ceil_mode:\n", "    if True:\n")],
        {"test_pool2d_output_size_matches_pytorch": "ceil_mode=True rounds up"},
    ),
    "ceil_mode keeps a window that starts in the padding": (
        [("    if (out - 1) * stride >= size + padding:\n        out -= 1\n", "")],
        {"test_pool2d_output_size_matches_pytorch": "drop a last window that would start in the right padding"},
    ),
    "pool size takes stride=None as 1": (
        [("    stride = kernel_size if stride is None else stride\n    span",
          "    stride = 1 if stride is None else stride\n    span")],
        {"test_pool2d_output_size_default_stride": "stride=None means stride = kernel_size",
         "test_pool2d_output_size_matches_pytorch": "stride=None means stride = kernel_size"},
    ),
    "flipped kernel": (
        [("weight[:, :, i, j]", "weight[:, :, kh - 1 - i, kw - 1 - j]")],
        {"test_conv2d_notes_example": "do not flip the kernel",
         "test_conv2d_notes_strides_and_padding": "do not flip the kernel",
         "test_conv2d_values_and_gradients": "do not flip the kernel"},
    ),
    "dropped bias": (
        [("out = out + bias.view(1, -1, 1, 1)", "pass")],
        {"test_conv2d_values_and_gradients": "add bias[o] to every position of output channel o"},
    ),
    "conv2d ignores the padding": (
        [("    x = F.pad(input, (padding, padding, padding, padding))\n", "    x = input\n"),
         (CONV_OUT, CONV_OUT.replace("stride, padding)", "stride)"))],
        {"test_conv2d_notes_strides_and_padding": "pad the input with `padding` zeros",
         "test_conv2d_values_and_gradients": "pad the input with `padding` zeros"},
    ),
    "conv2d ignores the stride": (
        [("    n, c_in, h, w = input.shape\n", "    n, c_in, h, w = input.shape\n    stride = 1\n")],
        {"test_conv2d_notes_strides_and_padding": "step `stride` pixels",
         "test_conv2d_values_and_gradients": "step `stride` pixels"},
    ),
    "conv2d accumulates into a float32 buffer": (
        [("out = input.new_zeros(n, c_out, out_h, out_w)", "out = torch.zeros(n, c_out, out_h, out_w)"),
         ("out = out + torch.einsum(", "out += torch.einsum(")],
        {"test_conv2d_keeps_the_input_dtype": "dtype=input.dtype"},
    ),
    "calls F.conv2d": (
        [("    n, c_in, h, w = input.shape\n", "    return F.conv2d(input, weight, bias, stride, padding)\n")],
        {"test_conv2d_notes_example": None, "test_conv2d_notes_strides_and_padding": None,
         "test_conv2d_values_and_gradients": None, "test_conv2d_keeps_the_input_dtype": None},
    ),
    "max_pool2d takes stride=None as 1": (
        [("    stride = kernel_size if stride is None else stride\n    windows",
          "    stride = 1 if stride is None else stride\n    windows")],
        {"test_max_pool2d_small": "stride=None means stride = kernel_size",
         "test_max_pool2d_values_and_gradients": "stride=None means stride = kernel_size"},
    ),
    "average instead of max pooling": (
        [("windows.amax(dim=(-2, -1))", "windows.mean(dim=(-2, -1))")],
        {"test_max_pool2d_small": "not the mean", "test_max_pool2d_values_and_gradients": "not the mean"},
    ),
    "max_pool2d returns float32": (
        [("return windows.amax(dim=(-2, -1))", "return windows.amax(dim=(-2, -1)).float()")],
        {"test_max_pool2d_keeps_the_input_dtype": "dtype=input.dtype"},
    ),
    "SimpleCNN ends in log_softmax": (
        [("return self.fc(x.flatten(1))", "return F.log_softmax(self.fc(x.flatten(1)), dim=1)")],
        {"test_simple_cnn_returns_logits": "without log_softmax"},
    ),
    "SimpleCNN without relu": (
        [("x = F.relu(self.pooling(self.conv1(x)))", "x = self.pooling(self.conv1(x))"),
         ("x = F.relu(self.pooling(self.conv2(x)))", "x = self.pooling(self.conv2(x))")],
        {"test_simple_cnn_returns_logits": "relu after each max-pool"},
    ),
    "train() does not train": (
        [("            optimizer.step()\n", "")],
        {"test_train_returns_the_model_and_lowers_the_loss": "call optimizer.step() for every batch",
         "test_train_takes_sgd_momentum_steps": "call optimizer.step() for every batch",
         "test_train_reaches_accuracy_on_digits28": LOOP},
    ),
    "train() without momentum": (
        [("lr=lr, momentum=0.5)", "lr=lr)")],
        {"test_train_takes_sgd_momentum_steps": "momentum=0.5"},
    ),
    "train() never zeroes the gradients": (
        [("            optimizer.zero_grad()\n", "")],
        {"test_train_takes_sgd_momentum_steps": "zero the gradients",
         "test_train_reaches_accuracy_on_digits28": LOOP},
    ),
    "train() sums the loss over the batch": (
        [("nn.CrossEntropyLoss()", "nn.CrossEntropyLoss(reduction='sum')")],
        {"test_train_takes_sgd_momentum_steps": "not the sum"},
    ),
    "train() returns nothing": (
        [("            optimizer.step()\n    return model\n", "            optimizer.step()\n")],
        {"test_train_returns_the_model_and_lowers_the_loss": "return the model once it is trained",
         "test_train_takes_sgd_momentum_steps": "return the model once it is trained",
         "test_train_reaches_accuracy_on_digits28": "return the model once it is trained"},
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_mistake_costs_its_checks_with_its_hint(grade_mutant, mistake):
    edits, hints = MISTAKES[mistake]
    report = grade_mutant("05_cnn", *edits, checks=list(hints))
    failed = [c for c in report.checks if c.outcome != "passed"]
    assert {c.name.split("[")[0] for c in failed} == set(hints), f"{mistake!r}: {[c.id for c in failed]}"
    for check, hint in hints.items():
        messages = [c.message for c in failed if c.name.split("[")[0] == check]
        hinted = [m for m in messages if has_hint(m)]
        if hint is None:
            assert not hinted, f"{check}: a hint names a cause that is not there: {hinted}"
        else:
            assert hinted and all(hint in m for m in hinted), f"{check}: {messages}"
