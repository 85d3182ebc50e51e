"""Sizes right; at import it tries what a sandbox must prevent and prints what it managed, one line each:
reaching the network (the address in PROBE_ADDRESS.txt beside the tests, a server on the host's loopback),
listing other processes, signalling every process it can, reading the instructor's files and the course's
solutions, and writing outside its own folder."""

import os
import signal
import socket
from pathlib import Path

import grader


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


def _try(what, action):
    try:
        print(f"PROBE {what}: managed: {action()}")
    except Exception as error:
        print(f"PROBE {what}: refused: {type(error).__name__}")


_course = Path(grader.__file__).resolve().parent.parent
_try("network", lambda: socket.create_connection(("127.0.0.1", int(os.environ.get("PROBE_PORT", "47813"))), 2))
_try("processes", lambda: sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
def _signal_everyone():
    if b"grader.batch.zygote" not in Path("/proc/1/cmdline").read_bytes():
        return "not tried: this is not a sandbox (PID 1 is not the grader's zygote)"
    os.kill(-1, signal.SIGKILL)  # every process it may signal: in the sandbox, only itself and its children
    return "sent"


_try("signal everyone", _signal_everyone)
_try("solutions", lambda: (_course / "solutions" / "05_cnn" / "cnn.py").read_text()[:20])
_try("home", lambda: os.listdir(os.path.expanduser("~root")))
_try("write the course", lambda: (_course / "exercises" / "probe.txt").write_text("x"))
_try("other slots", lambda: os.listdir(Path.cwd().parents[2]))
