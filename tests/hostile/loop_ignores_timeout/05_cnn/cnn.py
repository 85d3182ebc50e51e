"""pool2d_output_size ignores SIGALRM (pytest-timeout's signal), swallows any exception and keeps waiting:
only killing the process ends it."""

import signal
import time


def conv2d_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def pool2d_output_size(size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    while True:
        try:
            while True:
                time.sleep(1)
        except BaseException:
            pass


def conv2d(input, weight, bias=None, stride=1, padding=0):
    raise NotImplementedError("05_cnn: implement conv2d")


def max_pool2d(input, kernel_size, stride=None):
    raise NotImplementedError("05_cnn: implement max_pool2d")


class SimpleCNN:
    def __init__(self):
        raise NotImplementedError("05_cnn: implement SimpleCNN")


def train(model, loader, epochs, lr):
    raise NotImplementedError("05_cnn: implement train")
