"""Correct sizes, but it leaves threads running: a non-daemon thread that never ends (it would keep
a normal interpreter from exiting) and a daemon thread printing fake results now and then."""

import threading
import time


def _forever():
    while True:
        time.sleep(0.05)


def _chatty():
    while True:
        print("PASSED exercises/05_cnn/test_cnn_hidden.py::test_train_reaches_accuracy_on_digits28", flush=True)
        time.sleep(0.2)


threading.Thread(target=_forever, daemon=False).start()
threading.Thread(target=_chatty, daemon=True).start()

def conv2d_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def pool2d_output_size(size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    stride = kernel_size if stride is None else stride
    span = size + 2 * padding - dilation * (kernel_size - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out


def conv2d(input, weight, bias=None, stride=1, padding=0):
    raise NotImplementedError("05_cnn: implement conv2d")


def max_pool2d(input, kernel_size, stride=None):
    raise NotImplementedError("05_cnn: implement max_pool2d")


class SimpleCNN:
    def __init__(self):
        raise NotImplementedError("05_cnn: implement SimpleCNN")


def train(model, loader, epochs, lr):
    raise NotImplementedError("05_cnn: implement train")
