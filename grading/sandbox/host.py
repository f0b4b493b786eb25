"""The grading process's side of every sandbox: the check that sandboxes can work here, the sandbox
account (when root), the per-process folder, the layout and the zygote — one `SandboxHost` per
grading process and settings, shared by every kernel it starts (`SandboxHost.shared`).

Which account runs the sandboxes:
* an ordinary user: that user (unprivileged user namespaces; nothing is chmod-ed or chown-ed);
* root: an unused uid (`SandboxAccount`, claimed with an flock), because real root is exempt from
  RLIMIT_NPROC and a sandbox mapped to root could read every root-owned file it is shown. The
  interpreter and site-packages must then be readable by "other" — checked, with a clear error.
"""
from __future__ import annotations

import atexit
import contextlib
import os
import pwd

import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import psutil

from dangxiao.errors import DangxiaoError

from .layout import BWRAP, SandboxLayout, python_binds
from .workspace import SandboxRoot
from .zygote import Zygote, ZygoteUnavailable

__all__ = ["SandboxUnavailable", "SandboxAccount", "SandboxHost", "check_sandbox", "LOCK_DIR"]

LOCK_DIR = Path("/run/lock") if os.access("/run/lock", os.W_OK) else Path(tempfile.gettempdir())
USERNS_LIMIT = Path("/proc/sys/user/max_user_namespaces")
INSIDE_SOURCE = (Path(__file__).with_name("inside.py")).read_text(encoding="utf-8")


class SandboxUnavailable(DangxiaoError):
    """Sandboxes cannot work on this machine (the message says what is missing and how to fix it)."""


class SandboxAccount:
    """As root: a uid no account and no process uses, held by an flock for this process's life."""

    def __init__(self, base: int = 61000, span: int = 4000) -> None:
        import fcntl

        accounts = {entry.pw_uid for entry in pwd.getpwall()}
        running = set()
        for process in psutil.process_iter(["uids"]):
            with contextlib.suppress(psutil.Error, TypeError):
                running.add(process.info["uids"].real)
        for uid in range(base, base + span):
            if uid in accounts or uid in running:
                continue
            handle = open(LOCK_DIR / f"dangxiao-sandbox-{uid}.lock", "a")  # noqa: SIM115 - held
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            self.uid = self.gid = uid
            self._handle = handle
            return
        raise SandboxUnavailable(f"没有空闲的沙箱 uid（{base}–{base + span}）/ no free sandbox uid")

    def close(self) -> None:
        self._handle.close()


def _other_can_read(path: str, roots: list[str]) -> bool:
    """Can "other" read `path`, walking only from the bind root that contains it?"""
    real = os.path.realpath(path)
    root = max((r for r in roots if real == r or real.startswith(r.rstrip("/") + "/")), key=len, default="/")
    current = root
    for part in [p for p in real[len(root):].split("/") if p][:-1]:
        current = os.path.join(current, part)
        if not os.stat(current).st_mode & 0o001:
            return False
    return bool(os.stat(real).st_mode & 0o004) and bool(os.stat(root).st_mode & 0o001 or real == root)


def _fix_hint() -> str:
    return ("请启用非特权用户命名空间：sysctl -w user.max_user_namespaces=15000"
            "（Debian 旧内核另需 kernel.unprivileged_userns_clone=1；Ubuntu 24.04 需 "
            "kernel.apparmor_restrict_unprivileged_userns=0）"
            " / enable unprivileged user namespaces (user.max_user_namespaces, "
            "kernel.unprivileged_userns_clone, apparmor_restrict_unprivileged_userns)")


def check_sandbox(popen_user: dict | None = None) -> None:
    """Raise `SandboxUnavailable` (one line, Chinese / English) unless a sandbox can start here."""
    no_sandbox = "；或明确加 --no-sandbox 不隔离运行 / or pass --no-sandbox to run trainee code unconfined"
    if not os.access(BWRAP, os.X_OK):
        raise SandboxUnavailable(
            f"{BWRAP}: 未安装 bubblewrap，无法隔离学员代码；请安装：apt-get install bubblewrap{no_sandbox}"
            f" / bubblewrap is not installed")
    with contextlib.suppress(OSError, ValueError):
        if int(USERNS_LIMIT.read_text()) == 0:
            raise SandboxUnavailable(f"user.max_user_namespaces = 0: 用户命名空间已禁用；{_fix_hint()}{no_sandbox}")
    try:
        done = subprocess.run([BWRAP, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"],
                              capture_output=True, text=True, timeout=30, **(popen_user or {}))
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SandboxUnavailable(f"{BWRAP}: 无法运行 / cannot run: {error}{no_sandbox}") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["?"])[-1]
        raise SandboxUnavailable(f"{BWRAP}: 无法创建沙箱（{reason}）；{_fix_hint()}{no_sandbox}")
    if popen_user:
        roots = python_binds()
        import ipykernel

        for path in (sys.executable, os.__file__, ipykernel.__file__):
            if not _other_can_read(path, roots):
                raise SandboxUnavailable(
                    f"{path}: 沙箱账户读不到这个文件（以 root 运行时沙箱用独立 uid）；请 chmod -R o+rX 解释器和"
                    f" site-packages，或以普通用户评分 / the sandbox account cannot read the interpreter:"
                    f" make it world-readable or grade as an ordinary user")


def kernel_env() -> dict[str, str]:
    """A small, explicit environment: nothing of the grader's environment leaks in."""
    bin_dir = os.path.dirname(sys.executable)
    env = {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/sandbox/home",
        "USER": "trainee",
        "LOGNAME": "trainee",
        "TMPDIR": "/tmp",
        "IPYTHONDIR": "/sandbox/home/.ipython",
        "MPLCONFIGDIR": "/sandbox/home/.config/matplotlib",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONHASHSEED": "0",
        # one thread per BLAS pool: predictable memory under RLIMIT_AS, no oversubscription
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NBGRADER_EXECUTION": "autograde",
    }
    if "TZ" in os.environ:
        env["TZ"] = os.environ["TZ"]
    return env


class SandboxHost:
    """Per grading process (and preload list): account, folder, layout, zygote."""

    _shared: dict[tuple, "SandboxHost"] = {}
    _shared_lock = threading.Lock()

    def __init__(self, preload: tuple[str, ...] = (), fork: bool = True, uid_base: int = 61000) -> None:
        self.account = SandboxAccount(uid_base) if os.geteuid() == 0 else None
        uid = self.account.uid if self.account else os.getuid()
        gid = self.account.gid if self.account else os.getgid()
        probe_user = {"user": uid, "group": gid, "extra_groups": []} if self.account else {}
        try:
            check_sandbox(probe_user)
            self.root = SandboxRoot(uid, gid)
            self.layout = SandboxLayout(uid, gid, SandboxLayout.write_etc(self.root.etc, uid, gid))
            if self.account:
                self.layout.stage, self.layout.account = self.root.path / "stage", uid
        except BaseException:
            if self.account:
                self.account.close()
            raise
        self.uid, self.gid = uid, gid
        self.preload = preload
        self.fork = fork
        self._zygote: Zygote | None = None
        self._zygote_failed = False
        self._lock = threading.Lock()

    @classmethod
    def shared(cls, preload: tuple[str, ...] = (), fork: bool = True, uid_base: int = 61000) -> "SandboxHost":
        key = (tuple(preload), fork, uid_base if os.geteuid() == 0 else None)
        with cls._shared_lock:
            host = cls._shared.get(key)
            if host is None:
                host = cls._shared[key] = cls(preload, fork, uid_base)
            return host

    @classmethod
    def close_all(cls) -> None:
        with cls._shared_lock:
            hosts = list(cls._shared.values())
            cls._shared.clear()
        for host in hosts:
            host.close()

    def zygote(self) -> Zygote | None:
        """The template (started on first use), or None when kernels start cold."""
        if not self.fork or self._zygote_failed:
            return None
        with self._lock:
            if self._zygote is None:
                try:
                    self._zygote = Zygote(self.layout, self.root.spool, INSIDE_SOURCE, sys.executable,
                                          self.preload, kernel_env(), self.root.path / "zygote.log",
                                          )
                except ZygoteUnavailable:
                    self._zygote_failed = True
                    return None
            return self._zygote

    def zygote_failed(self) -> None:
        """A fork failed: later kernels start cold (slower, same result)."""
        with self._lock:
            self._zygote_failed = True
            if self._zygote is not None:
                self._zygote.close()
                self._zygote = None

    def close(self) -> None:
        with self._lock:
            if self._zygote is not None:
                self._zygote.close()
                self._zygote = None
        self.root.close()
        if self.account:
            self.account.close()


atexit.register(SandboxHost.close_all)

