"""The kernel template ("zygote"), host side: one sandboxed process per grading process that has
imported ipykernel and the heavy libraries once and forks every kernel (see inside.py for what each
fork does to become a sandbox of its own).

Where the time of a small autograded submission goes (measured, benchmarks/autograde.py): starting
a Python with ipykernel and the notebook's first `import pandas` were ~75 % of it; the trainee's
cells a few per cent. Forking a pre-imported template pays that once per run.

The zygote's bubblewrap is started from a thread of its own that lives as long as the zygote:
`--die-with-parent` is PR_SET_PDEATHSIG, which fires when the *thread* that forked it ends, and
nbclient / tornado run kernels' starts on short-lived threads.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import psutil

from .layout import SandboxLayout

__all__ = ["Zygote", "ZygoteUnavailable", "ForkedKernelProcess", "host_pid"]


class ZygoteUnavailable(RuntimeError):
    """The template cannot fork (gone, stuck, or refused): start a cold kernel instead."""


def _nspids(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("NSpid:"):
                    return [int(v) for v in line.split()[1:]]
    except OSError:
        pass
    return []


def host_pid(ancestor: int, inner_pid: int, depth: int = 1) -> int | None:
    """The host pid of the descendant of `ancestor` whose pid `depth` namespaces down is `inner_pid`."""
    try:
        children = psutil.Process(ancestor).children(recursive=True)
    except psutil.Error:
        return None
    for child in children:
        levels = _nspids(child.pid)
        if len(levels) > depth and levels[depth] == inner_pid:
            return child.pid
    return None


class Zygote:
    """The template process; `spawn()` forks one sandboxed kernel (thread-safe)."""

    def __init__(self, layout: SandboxLayout, spool: Path, inside_source: str, python: str,
                 preload: tuple[str, ...], env: dict[str, str], log_file: Path,
                 ready_timeout: float = 180.0) -> None:
        self.log_file = log_file
        self._cmd = layout.wrap(layout.zygote_args(spool) + ["--", python, "-s", "-c", inside_source, "zygote",
                                                             ",".join(preload)])
        self._env = env
        self._lock = threading.Lock()
        self._ready_timeout = ready_timeout
        self._started = threading.Event()
        self._closed = threading.Event()
        self._error: BaseException | None = None
        self.process: subprocess.Popen | None = None
        self.preloaded: list[str] | None = None
        self._thread = threading.Thread(target=self._own, name="dangxiao-zygote", daemon=True)
        self._thread.start()
        self._started.wait()
        if self._error is not None:
            raise ZygoteUnavailable(f"内核模板无法启动 / zygote failed to start: {self._error}")

    def _own(self) -> None:
        try:
            with open(self.log_file, "ab") as log:
                self.process = subprocess.Popen(
                    self._cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=self._env,
                    start_new_session=True, text=True, bufsize=1)
        except OSError as error:
            self._error = error
        finally:
            self._started.set()
        self._closed.wait()  # keep this thread (the bwrap's parent) alive until close()

    def _answer(self, timeout: float) -> dict:
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if reader.is_alive():
            self.process.kill()
            raise ZygoteUnavailable(f"内核模板无响应 / zygote did not answer in {timeout:.0f}s")
        if not result or not result[0]:
            raise ZygoteUnavailable(f"内核模板已退出 / zygote exited (log: {self.log_file})")
        return json.loads(result[0])

    def wait_ready(self) -> list[str]:
        with self._lock:
            if self.preloaded is None:
                self.preloaded = self._answer(self._ready_timeout)["ready"]
            return self.preloaded

    def spawn(self, request: dict) -> tuple[int, int]:
        """Fork one kernel; returns host pids (intermediate, kernel)."""
        self.wait_ready()
        with self._lock:
            if self.process.poll() is not None:
                raise ZygoteUnavailable("内核模板已退出 / zygote exited")
            try:
                self.process.stdin.write(json.dumps(request) + "\n")
                self.process.stdin.flush()
            except OSError as error:
                raise ZygoteUnavailable(str(error)) from error
            answer = self._answer(30.0)
        if "error" in answer:
            raise ZygoteUnavailable(f"内核模板派生失败 / fork failed: {answer['error']}")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            # bwrap's own init is pid 1 of the zygote's namespace, the zygote pid 2: one level down
            intermediate = host_pid(self.process.pid, answer["pid"])
            kernel = host_pid(self.process.pid, answer["kernel"])
            if intermediate and kernel:
                return intermediate, kernel
            time.sleep(0.01)
        raise ZygoteUnavailable("找不到派生的内核进程 / forked kernel not found")

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                self.process.stdin.close()
                self.process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        self._closed.set()


class ForkedKernelProcess:
    """What jupyter_client's provisioner needs of a Popen, for a kernel forked by the zygote.

    `pid` is the intermediate (it exits when the kernel does); signals for the kernel go to
    `kernel_pid`, pid 1 of the kernel's namespace: SIGKILL there ends every process in it."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int, kernel_pid: int) -> None:
        self.pid = pid
        self.kernel_pid = kernel_pid
        self.returncode: int | None = None
        try:
            self._process = psutil.Process(pid)
        except psutil.NoSuchProcess:
            self._process = None
            self.returncode = -1

    def poll(self) -> int | None:
        if self.returncode is not None:
            return self.returncode
        try:
            if self._process.status() != psutil.STATUS_ZOMBIE:
                return None
        except psutil.NoSuchProcess:
            pass
        self.returncode = -1  # not our child: the exit code is the zygote's to read
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.kernel_pid, signum)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        if self.poll() is None:
            for pid in (self.kernel_pid, self.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
