"""Fork each sandboxed kernel from a pre-imported template process (a "zygote").

Where the time of a small autograded submission goes (measured, see benchmarks/autograde.py):
starting a kernel (Python + ipykernel imports) and the notebook's first `import pandas` are ~75 %
of it; executing the trainee's cells is a few per cent. Both costs are the same for every trainee,
so they are paid once: one process imports ipykernel and the heavy, side-effect-free libraries
(`preload`, default numpy and pandas) and then only forks. Each fork becomes one trainee's kernel:
new session, hard resource limits, its sandbox folder as cwd, its own uid/gid (no supplementary
groups), a fresh environment, re-seeded random generators — and only then does ipykernel start
and the trainee's first cell arrive.

Why this cannot leak state between trainees: trainee code never runs in the zygote; every kernel
is a copy-on-write copy of the same pristine process, and whatever a trainee changes (modules,
monkeypatches, files) dies with its own kernel. The zygote holds no secret: it never sees
connection keys (they are in the connection file the kernel reads after dropping privileges),
notebooks or tests. It runs as the grader's user because it must be able to switch uid.

The kernel still goes through jupyter_client/nbclient unchanged: `SandboxKernelManager` asks the
zygote for a process instead of Popen and hands the provisioner a Popen-like handle
(`ForkedKernelProcess`) for polling, signalling (interrupt = SIGINT to the process group) and
killing.
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

from .sandbox import KernelRuntime, SandboxLimits

__all__ = ["KernelZygote", "ForkedKernelProcess", "DEFAULT_PRELOAD"]

DEFAULT_PRELOAD = ("numpy", "pandas")

# argv: SITE_DIRS ("-" for none) PRELOAD (comma-separated). Protocol: one JSON line per request on
# stdin, one JSON line per answer on stdout ({"ready": [...]} first, then {"pid": N} per fork).
ZYGOTE_CODE = r'''
import json, os, resource, signal, sys
if sys.argv[1] != "-":
    import site
    sys.path[:] = [p for p in sys.path if "dist-packages" not in p]
    for _dir in sys.argv[1].split(os.pathsep):
        site.addsitedir(_dir)
import ipykernel.kernelapp
# what IPKernelApp.initialize would import in every kernel (debugpy alone is ~0.4 s)
for _name in ("ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger", "ipykernel.comm",
              "IPython.core.completer"):
    try:
        __import__(_name)
    except Exception:
        pass
preloaded = []
for _name in filter(None, sys.argv[2].split(",")):
    try:
        __import__(_name)
        preloaded.append(_name)
    except Exception:
        pass
try:  # die with the grader
    import ctypes
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
except Exception:
    pass
def reap(*_):
    # waited for (not SIG_IGN) so the kernels' CPU time is accounted to us, and so to the grader
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


signal.signal(signal.SIGCHLD, reap)
answers = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)


def become_kernel(request):
    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.closerange(3, 4096)
    for name, value in request["limits"].items():
        if value >= 0:
            resource.setrlimit(getattr(resource, name), (value, value))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.chdir(request["cwd"])
    if request["uid"] is not None:
        os.setgroups([])
        os.setgid(request["gid"])
        os.setuid(request["uid"])
    os.umask(0o077)
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ["JPY_PARENT_PID"] = str(os.getppid())
    import random, tempfile
    random.seed()
    tempfile.tempdir = None
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    sys.argv = ["ipykernel_launcher", "-f", request["connection_file"]]
    try:
        ipykernel.kernelapp.IPKernelApp.launch_instance()
    finally:
        os._exit(0)


answers.write(json.dumps({"ready": preloaded}) + "\n")
answers.flush()
for line in sys.stdin:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        try:
            become_kernel(request)
        except BaseException as error:
            try:
                os.write(2, ("zygote child failed: %r\n" % (error,)).encode())
            finally:
                os._exit(70)
    answers.write(json.dumps({"pid": pid}) + "\n")
    answers.flush()
'''


class KernelZygote:
    """The template process; `spawn()` forks one kernel and returns its pid (thread-safe)."""

    def __init__(self, runtime: KernelRuntime, env: dict[str, str], log_file: Path,
                 preload: tuple[str, ...] = DEFAULT_PRELOAD, ready_timeout: float = 180.0) -> None:
        self.log_file = log_file
        self._log = open(log_file, "ab")  # noqa: SIM115 - closed in close()
        site_dirs = os.pathsep.join(runtime.site_dirs) or "-"
        self.process = subprocess.Popen(
            [runtime.executable, "-s", "-c", ZYGOTE_CODE, site_dirs, ",".join(preload)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, env=env,
            start_new_session=True, text=True, bufsize=1)
        self._lock = threading.Lock()
        self._ready_timeout = ready_timeout
        self.preloaded: list[str] | None = None

    def _answer(self, timeout: float) -> dict:
        line = self._readline(timeout)
        if not line:
            raise RuntimeError(f"内核模板进程已退出 / kernel zygote exited (log: {self.log_file})")
        return json.loads(line)

    def _readline(self, timeout: float) -> str:
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if reader.is_alive():
            self.process.kill()
            raise RuntimeError(f"内核模板进程无响应 / kernel zygote did not answer in {timeout:.0f}s")
        return result[0] if result else ""

    def spawn(self, *, connection_file: str, cwd: str, env: dict[str, str], uid: int | None,
              gid: int | None, limits: SandboxLimits, log: str) -> int:
        request = {
            "connection_file": connection_file, "cwd": cwd, "env": env, "uid": uid, "gid": gid,
            "log": log,
            "limits": {
                "RLIMIT_AS": limits.memory_mb * 1024 * 1024,
                "RLIMIT_NPROC": limits.max_processes,
                "RLIMIT_FSIZE": limits.max_file_mb * 1024 * 1024,
                "RLIMIT_CPU": limits.cpu_seconds,
            },
        }
        with self._lock:
            if self.preloaded is None:
                self.preloaded = self._answer(self._ready_timeout)["ready"]
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            return int(self._answer(30.0)["pid"])

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.close()
                self.process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        self._log.close()


class ForkedKernelProcess:
    """What jupyter_client's provisioner needs of a Popen, for a kernel forked by the zygote."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
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
            time.sleep(0.05)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)
