"""A grading slot's zygote: `python -m grader.batch.zygote FD`, started by the batch's parent (`pool.Slot`),
inside the sandbox where there is one (`grader.batch.sandbox`).

It imports torch, pytest and the grader once (`grader.batch.worker`), then waits for commands on the
control socket FD (a SOCK_SEQPACKET socket; one JSON message per packet):

    {"type": "grade", "job": {...}}    + two file descriptors (results pipe, output pipe): fork a grading process
    {"type": "kill", "pid": N}         kill grading process N and its process group
    {"type": "reset"}                  kill every other process of the sandbox (the next student gets a clean one)

and answers with `ready`, `started` (the grading process's pid), `exited` (its wait status, and why the
zygote killed it, if it did) and `clean`. It watches the grading processes' resident memory. As PID 1 of the
sandbox it reaps every orphan, and a signal sent to it from inside the sandbox has no effect. It keeps nothing
of a student: the student's modules are in the slot's folder, which the parent fills and empties.
"""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import socket
import sys

from grader.batch import sandbox, worker

MAX_PACKET = 1 << 20
WATCH = 0.5  # seconds between memory readings while a grading process runs


class Zygote:
    def __init__(self, control: socket.socket):
        self.control = control
        self.children: dict[int, dict] = {}  # pid -> {"limit": bytes or None, "base": bytes}

    def send(self, message: dict) -> None:
        self.control.sendall(json.dumps(message).encode())

    def serve(self) -> None:
        self.send({"type": "ready", "pid": os.getpid()})
        while True:
            readable, _, _ = select.select([self.control], [], [], WATCH if self.children else None)
            self._reap()
            self._watch_memory()
            if not readable:
                continue
            data, fds, _, _ = socket.recv_fds(self.control, MAX_PACKET, 2)
            if not data:
                return  # the parent is gone
            message = json.loads(data)
            kind = message["type"]
            if kind == "grade":
                self._fork(message["job"], fds)
            elif kind == "kill":
                self._kill(int(message["pid"]))
            elif kind == "reset":
                self._reset()
                self.send({"type": "clean"})

    def _fork(self, job: dict, fds: list[int]) -> None:
        results_fd, output_fd = fds
        base = sandbox.rss(os.getpid()) or 0
        pid = os.fork()
        if pid == 0:  # the grading process: nothing of the zygote's is left open to it
            try:
                self.control.close()
                worker.child_main(job, results_fd, output_fd)
            finally:
                os._exit(70)
        os.close(results_fd)
        os.close(output_fd)
        limit = job["limits"]["memory_mb"] * sandbox.MiB
        self.children[pid] = {"limit": limit, "base": base, "reason": None}
        self.send({"type": "started", "pid": pid})

    def _kill(self, pid: int, reason: str | None = None) -> None:
        child = self.children.get(pid)
        if child is None:
            return
        child["reason"] = child["reason"] or reason
        for kill, target in ((os.killpg, pid), (os.kill, pid)):
            try:
                kill(target, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            child = self.children.pop(pid, None)
            if child is not None:
                self.send({"type": "exited", "pid": pid, "status": os.waitstatus_to_exitcode(status),
                           "reason": child["reason"]})

    def _watch_memory(self) -> None:
        for pid, child in list(self.children.items()):
            size = sandbox.rss(pid)
            if size is not None and size > child["base"] + child["limit"]:
                self._kill(pid, "memory")

    def _reset(self) -> None:
        for pid in list(self.children):
            self._kill(pid)
        if os.getpid() == 1:  # the sandbox's init: every other process in it is a leftover of the last student
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                pass
        while self.children:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            child = self.children.pop(pid, None)
            if child is not None:
                self.send({"type": "exited", "pid": pid, "status": os.waitstatus_to_exitcode(status),
                           "reason": child["reason"]})
        self._reap()


def main(argv: list[str]) -> None:
    control = socket.socket(fileno=int(argv[0]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the batch's parent, which stops us
    sandbox.prctl(sandbox.PR_SET_DUMPABLE, 0)  # grading processes may not ptrace us or read our memory
    if os.getpid() != 1:
        sandbox.die_with_parent()  # without bubblewrap's --die-with-parent
    # Everything loaded so far lives as long as the zygote: keep it out of every collection, so that a grading
    # process neither scans it (pytest runs gc.collect() at its end) nor copies its pages by touching them.
    gc.freeze()
    try:
        Zygote(control).serve()
    except (BrokenPipeError, ConnectionResetError):
        pass
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
