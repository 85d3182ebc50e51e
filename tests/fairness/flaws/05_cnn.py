"""Realistic flaws in the fairness implementations of 05_cnn: each must lose points, with a true hint."""

FLAWS = [
    # (style, what the student did wrong, (old, new) edits applied to the style's module, the check that
    #  must fail, the hint that is true for this flaw or None when no hint should name a cause)
    ("d2l", "the book's corr2d buffer `torch.zeros((h, w))` without dtype: float32 whatever the input",
     [("    Y = torch.zeros(((X.shape[0] - h) // stride + 1, (X.shape[1] - w) // stride + 1), dtype=X.dtype)\n",
       "    Y = torch.zeros(((X.shape[0] - h) // stride + 1, (X.shape[1] - w) // stride + 1))\n")],
     "test_conv2d_keeps_the_input_dtype", "dtype=input.dtype"),
    ("d2l", "the book's pool2d buffer `torch.zeros((h, w))` without dtype: float32 whatever the input",
     [("    Y = torch.zeros(((X.shape[0] - p_h) // stride + 1, (X.shape[1] - p_w) // stride + 1), dtype=X.dtype)\n",
       "    Y = torch.zeros(((X.shape[0] - p_h) // stride + 1, (X.shape[1] - p_w) // stride + 1))\n")],
     "test_max_pool2d_keeps_the_input_dtype", "dtype=input.dtype"),
    ("notes", "kernel flipped (a textbook convolution instead of cross-correlation)",
     [("                    value = (patch * weight[o]).sum()\n",
       "                    value = (patch * weight[o].flip(-2, -1)).sum()\n")],
     "test_conv2d_notes_strides_and_padding", "do not flip the kernel"),
    ("notes", "the bias left out of conv2d",
     [("                    if bias is not None:\n                        value = value + bias[o]\n", "")],
     "test_conv2d_values_and_gradients", "add bias[o] to every position of output channel o"),
    ("notes", "optimizer.zero_grad() left out of the training loop: the gradients pile up with the momentum",
     [("            optimizer.zero_grad()\n", "")],
     "test_train_takes_sgd_momentum_steps", "zero the gradients"),
    ("pytorch_tutorials", "max_pool2d takes stride=None as stride 1 (`stride or 1`), overlapping windows",
     [("    stride = stride or kernel_size\n    x = input.contiguous()\n",
       "    stride = stride or 1\n    x = input.contiguous()\n")],
     "test_max_pool2d_values_and_gradients", "stride=None means stride = kernel_size"),
    ("pytorch_tutorials",
     "SimpleCNN.forward ends in F.log_softmax as examples/mnist's Net does: log-probabilities, not logits",
     [("        x = self.fc(x)\n        return x\n", "        return F.log_softmax(self.fc(x), dim=1)\n")],
     "test_simple_cnn_returns_logits", "log-probabilities"),
    ("d2l", "conv2d forgets to pad the input (the F.pad line left out)",
     [("    X = F.pad(input, (padding, padding, padding, padding))\n", "    X = input\n")],
     "test_conv2d_notes_strides_and_padding", "pad the input with `padding` zeros"),
    ("d2l", "SGD without momentum, as the book's train_ch6 builds it (the README asks for momentum=0.5)",
     [("    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.5)\n",
       "    optimizer = torch.optim.SGD(net.parameters(), lr=lr)\n")],
     "test_train_takes_sgd_momentum_steps", "momentum=0.5"),
    ("d2l", "train re-initialises the model it is given (train_ch6's `net.apply(init_weights)` with Xavier weights)",
     [("    device = next(iter(net.parameters())).device\n    net.to(device)\n",
       ("    def init_weights(m):\n"
        "        if type(m) == nn.Linear or type(m) == nn.Conv2d:\n"
        "            nn.init.xavier_uniform_(m.weight)\n\n"
        "    net.apply(init_weights)\n"
        "    device = next(iter(net.parameters())).device\n    net.to(device)\n"))],
     "test_train_takes_sgd_momentum_steps", None),
]
