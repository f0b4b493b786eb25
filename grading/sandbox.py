"""Run a trainee's code in a sandbox: a private working copy, an unprivileged uid, resource limits.

What a sandbox is (one per graded submission):

* a fresh folder under a root-only temporary tree, OUTSIDE the course folder, owned by a uid that
  nothing else uses (when we are root; see `UidPool`). It holds `work/` (the kernel's cwd: the
  trainee's own non-notebook files plus the released data files — never a notebook, never a test),
  `home/` (HOME, IPython and matplotlib settings, TMPDIR) and the kernel's connection file;
* a kernel started as that uid and gid (no supplementary groups, umask 077) by
  `SandboxKernelManager`, in its own session/process group, with hard resource limits set by a tiny
  bootstrap before ipykernel is imported (`RLIMIT_AS` memory, `RLIMIT_NPROC` processes,
  `RLIMIT_FSIZE` file size, `RLIMIT_CPU` as a backstop, no core files); hard limits cannot be raised
  again by an unprivileged process;
* a clean-up that kills the kernel's process group AND every process of the sandbox uid (a
  double-forked daemon leaves the group but keeps the uid), then deletes the folder and any file the
  uid left in /tmp, /var/tmp or /dev/shm.

`protect_course()` removes the "other" permission bits of the course root while grading, so the
sandbox uid cannot open anything below it (sources with solutions, release, submitted, autograded,
the gradebook, nbgrader_config.py), whatever path it tries (`..`, absolute, `/proc/<pid>/cwd` — the
latter is refused anyway by the kernel's ptrace check for a different uid). If the course sits
inside a git work tree, the `.git` folder is protected the same way (it holds committed sources).

What this does NOT defend against is documented in `dangxiao.grading.autograde` (section
"威胁模型 / threat model").
"""
from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import psutil
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from traitlets import Any as AnyTrait
from traitlets import DottedObjectName, Type

__all__ = [
    "SandboxLimits",
    "KernelRuntime",
    "UidPool",
    "Sandbox",
    "SandboxKernelManager",
    "QuickReadyKernelClient",
    "protect_course",
    "running_as_root",
]

# The kernel bootstrap: set hard limits on itself, add the grader's site-packages when the kernel
# runs on another interpreter (see `KernelRuntime`), then become ipykernel. Passed with
# `python -c` so no file of ours lands on the kernel's sys.path.
# argv: AS_BYTES NPROC FSIZE CPU_SECONDS SITE_DIRS ("-" for none) -f FILE
KERNEL_BOOTSTRAP = """\
import os, resource, runpy, sys
_as, _nproc, _fsize, _cpu = (int(v) for v in sys.argv[1:5])
for _res, _value in ((resource.RLIMIT_AS, _as), (resource.RLIMIT_NPROC, _nproc),
                     (resource.RLIMIT_FSIZE, _fsize), (resource.RLIMIT_CPU, _cpu),
                     (resource.RLIMIT_CORE, 0)):
    if _value >= 0:
        resource.setrlimit(_res, (_value, _value))
if sys.argv[5] != "-":
    import site
    sys.path[:] = [p for p in sys.path if "dist-packages" not in p]
    for _dir in sys.argv[5].split(os.pathsep):
        site.addsitedir(_dir)
sys.argv = ["ipykernel_launcher"] + sys.argv[6:]
del _as, _nproc, _fsize, _cpu, _res, _value
runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)
"""


def _readable_by_others(path: str) -> bool:
    """Can a uid that is neither owner nor group reach and read `path`?"""
    real = Path(os.path.realpath(path))
    for folder in real.parents:
        if not os.stat(folder).st_mode & 0o001:
            return False
    return bool(os.stat(real).st_mode & 0o004)


@dataclass(frozen=True)
class KernelRuntime:
    """The interpreter sandboxed kernels run on, and site folders to add to it.

    Normally the grader's own interpreter. When that one cannot be read by an unprivileged uid
    (e.g. a pyenv build under /root, mode 700), a system interpreter of the same major.minor version
    runs the kernel with the grader's site-packages added (same ABI, so compiled wheels load).
    """

    executable: str
    site_dirs: tuple[str, ...] = ()

    @classmethod
    def for_sandbox(cls, unprivileged: bool) -> "KernelRuntime":
        if not unprivileged:
            return cls(sys.executable)
        import sysconfig

        stdlib = sysconfig.get_paths()["stdlib"]
        if _readable_by_others(sys.executable) and _readable_by_others(stdlib):
            return cls(sys.executable)
        purelib = sysconfig.get_paths()["purelib"]
        version = f"{sys.version_info[0]}.{sys.version_info[1]}"
        for candidate in (f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"):
            if os.path.exists(candidate) and _readable_by_others(candidate):
                if not _readable_by_others(purelib):
                    break
                return cls(candidate, (purelib,))
        raise RuntimeError(
            f"{sys.executable}: 沙箱用户无法运行这个 Python（目录权限），也没有找到可用的 python{version}"
            f" / the sandbox user cannot run this interpreter and no system python{version} was found")


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits of one sandboxed kernel (validated on creation)."""

    memory_mb: int = 2048          # RLIMIT_AS; pandas + matplotlib need ~1.3 GB of address space
    max_processes: int = 64        # RLIMIT_NPROC, counted per uid (each sandbox has its own uid)
    max_file_mb: int = 64          # RLIMIT_FSIZE: largest file trainee code may write
    cpu_seconds: int = 600         # RLIMIT_CPU backstop; wall-clock limits are enforced by the parent

    def __post_init__(self) -> None:
        for name in ("memory_mb", "max_processes", "max_file_mb", "cpu_seconds"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"SandboxLimits.{name} 必须是正整数 / must be a positive integer: {value!r}")

    def bootstrap_args(self) -> list[str]:
        return [
            str(self.memory_mb * 1024 * 1024),
            str(self.max_processes),
            str(self.max_file_mb * 1024 * 1024),
            str(self.cpu_seconds),
        ]


class UidPool:
    """Hands out uids that no account and no running process uses, one per live sandbox.

    A uid per sandbox (not one shared "sandbox" account) means concurrent trainees cannot read or
    signal each other's kernels, RLIMIT_NPROC counts one trainee only, and "kill every process of
    the uid" cannot hit anything else. The uids need no /etc/passwd entry (USER and HOME are set in
    the kernel's environment). Each uid is also claimed with an flock on a root-only lock file for
    as long as the pool lives, so two grading runs at the same time never share a uid.
    """

    LOCK_DIR = Path("/run/lock") if Path("/run/lock").is_dir() else Path(tempfile.gettempdir())

    def __init__(self, size: int, base: int = 61000) -> None:
        import fcntl

        taken_accounts = {entry.pw_uid for entry in pwd.getpwall()}
        taken_processes = set()
        for process in psutil.process_iter(["uids"]):
            with contextlib.suppress(psutil.Error, TypeError):
                taken_processes.add(process.info["uids"].real)
        free: list[int] = []
        self._locks = []
        uid = base
        while len(free) < size and uid < base + 4000:
            if uid not in taken_accounts and uid not in taken_processes:
                handle = open(self.LOCK_DIR / f"dangxiao-sandbox-{uid}.lock", "a")  # noqa: SIM115
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    handle.close()
                else:
                    self._locks.append(handle)
                    free.append(uid)
            uid += 1
        if len(free) < size:
            self.close()
            raise RuntimeError(f"没有足够的空闲 uid / not enough free uids from {base}")
        self.uids = tuple(free)
        self._free = free
        self._lock = threading.Condition()

    def close(self) -> None:
        for handle in self._locks:
            handle.close()
        self._locks = []

    @contextlib.contextmanager
    def lease(self) -> Iterator[int]:
        with self._lock:
            while not self._free:
                self._lock.wait()
            uid = self._free.pop(0)
        try:
            yield uid
        finally:
            with self._lock:
                self._free.append(uid)
                self._lock.notify()


class Sandbox:
    """One submission's private folder and (when root) uid; `close()` removes every trace."""

    def __init__(self, parent_dir: Path, uid: int | None, limits: SandboxLimits, label: str = "",
                 runtime: KernelRuntime | None = None) -> None:
        self.uid = uid
        self.runtime = runtime or KernelRuntime(sys.executable)
        self.pgid: int | None = None
        self.zygote = None  # a KernelZygote to fork the kernel from, or None for a fresh process
        self.gid = uid
        self.limits = limits
        self.root = Path(tempfile.mkdtemp(prefix=f"s-{label}-" if label else "s-", dir=parent_dir))
        self.work = self.root / "work"
        self.home = self.root / "home"
        self.work.mkdir()
        self.home.mkdir()
        (self.home / "tmp").mkdir()
        (self.home / ".config" / "matplotlib").mkdir(parents=True)
        self.connection_file = self.home / "kernel.json"
        _copy_matplotlib_cache(self.home / ".config" / "matplotlib")

    def add_files(self, files: dict[Path, Path]) -> None:
        """Copy `{relative destination: source file}` into the working copy (never notebooks)."""
        for relative, source in files.items():
            target = (self.work / relative).resolve()
            if self.work.resolve() not in target.parents:
                continue  # a name like ../x cannot leave the working copy
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target, follow_symlinks=False)

    def hand_over(self) -> None:
        """Give the folder to the sandbox uid (after the files are in, before the kernel starts)."""
        if self.uid is None:
            return
        for dirpath, dirnames, filenames in os.walk(self.root):
            os.chown(dirpath, self.uid, self.gid, follow_symlinks=False)
            os.chmod(dirpath, 0o700)
            for name in filenames:
                path = os.path.join(dirpath, name)
                os.chown(path, self.uid, self.gid, follow_symlinks=False)
                if not os.path.islink(path):
                    os.chmod(path, 0o600)

    def kernel_env(self) -> dict[str, str]:
        """A small, explicit environment: nothing of the grader's environment leaks in."""
        bin_dir = os.path.dirname(self.runtime.executable)
        env = {
            "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "USER": "dangxiao-sandbox",
            "LOGNAME": "dangxiao-sandbox",
            "TMPDIR": str(self.home / "tmp"),
            "IPYTHONDIR": str(self.home / ".ipython"),
            "MPLCONFIGDIR": str(self.home / ".config" / "matplotlib"),
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
        for name in ("TZ",):
            if name in os.environ:
                env[name] = os.environ[name]
        return env

    def popen_kwargs(self) -> dict:
        # the kernel's own stdout/stderr (startup warnings, crashes) go to a log kept for the grader
        self.kernel_log = open(self.root / "kernel.log", "wb")  # noqa: SIM115 - closed in close()
        kwargs: dict = {"env": self.kernel_env(), "cwd": str(self.work), "umask": 0o077,
                        "stdout": self.kernel_log, "stderr": self.kernel_log}
        if self.uid is not None:
            kwargs.update(user=self.uid, group=self.gid, extra_groups=[])
        return kwargs

    def processes(self) -> list[psutil.Process]:
        """Every live process of the sandbox uid (when it has one)."""
        if self.uid is None:
            return []
        found = []
        for process in psutil.process_iter(["uids"]):
            with contextlib.suppress(psutil.Error, TypeError):
                if self.uid in (process.info["uids"].real, process.info["uids"].effective):
                    found.append(process)
        return found

    def kill_all(self, pgid: int | None = None, attempts: int = 20) -> None:
        """SIGKILL the kernel's process group and every process of the uid, until none is left."""
        if pgid:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
        for _ in range(attempts):
            left = self.processes()
            if not left:
                return
            for process in left:
                with contextlib.suppress(psutil.Error):
                    process.kill()
            psutil.wait_procs(left, timeout=0.5)

    def kernel_log_tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join((self.root / "kernel.log").read_text("utf-8", "replace").splitlines()[-lines:])
        return ""

    def close(self, pgid: int | None = None) -> None:
        self.kill_all(pgid)
        if getattr(self, "kernel_log", None) is not None:
            self.kernel_log.close()
        shutil.rmtree(self.root, ignore_errors=True)
        if self.uid is not None:
            _remove_files_of_uid(self.uid, ("/tmp", "/var/tmp", "/dev/shm"))


def _remove_files_of_uid(uid: int, places: tuple[str, ...]) -> None:
    """Delete what the sandbox uid left in shared temporary folders (top level is enough: it can
    only create entries where everyone may write)."""
    for place in places:
        with contextlib.suppress(OSError):
            for entry in os.scandir(place):
                with contextlib.suppress(OSError):
                    if entry.stat(follow_symlinks=False).st_uid != uid:
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path, ignore_errors=True)
                    else:
                        os.unlink(entry.path)


def _copy_matplotlib_cache(target: Path) -> None:
    """Reuse the grader's matplotlib font list so each kernel does not rebuild it (~1 s)."""
    try:
        import matplotlib

        cache = Path(matplotlib.get_cachedir())
    except Exception:  # matplotlib missing or unconfigured: the kernel builds its own
        return
    for fontlist in cache.glob("fontlist-*.json"):
        with contextlib.suppress(OSError):
            shutil.copyfile(fontlist, target / fontlist.name)


class QuickReadyKernelClient(AsyncKernelClient):
    """jupyter_client's AsyncKernelClient, asking "are you ready?" every 50 ms instead of every
    second: a forked kernel is up in a fraction of a second, and that second was a third of the
    time spent per submission (measured). Same checks: a kernel_info reply on shell, then a
    message on IOPub (proves the subscription is live)."""

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
        poll = 0.05
        while True:
            self.kernel_info()
            try:
                msg = await self.shell_channel.get_msg(timeout=poll)
            except Empty:
                pass
            else:
                if msg["msg_type"] == "kernel_info_reply":
                    try:
                        await self.iopub_channel.get_msg(timeout=0.2)
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
            poll = min(poll * 1.5, 1.0)
        while True:  # flush IOPub, as jupyter_client does
            try:
                await self.iopub_channel.get_msg(timeout=0.01)
            except Empty:
                break

    wait_for_ready = _async_wait_for_ready


class SandboxKernelManager(AsyncKernelManager):
    """An AsyncKernelManager that launches its kernel inside a `Sandbox`.

    The launch goes through jupyter_client's normal provisioner (Popen with `user=`, `group=`,
    `extra_groups=`, `umask=`: set in C between fork and exec, safe with threads — unlike
    `preexec_fn`); the limits are applied by `KERNEL_BOOTSTRAP` in the kernel process itself.
    """

    sandbox = AnyTrait(None, allow_none=True, help="the Sandbox this kernel runs in")

    client_class = DottedObjectName("dangxiao.grading.sandbox.QuickReadyKernelClient")
    client_factory = Type(QuickReadyKernelClient, klass=AsyncKernelClient)

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        cmd = super().format_kernel_cmd(extra_arguments)
        if self.sandbox is None:
            return cmd
        # the stock python kernelspec is [python, -m, ipykernel_launcher, ...]: keep its arguments
        if len(cmd) >= 3 and cmd[1] == "-m" and cmd[2] == "ipykernel_launcher":
            runtime = self.sandbox.runtime
            site_dirs = os.pathsep.join(runtime.site_dirs) or "-"
            return [runtime.executable, "-s", "-c", KERNEL_BOOTSTRAP, *self.sandbox.limits.bootstrap_args(),
                    site_dirs, *cmd[3:]]
        raise RuntimeError(f"不支持的内核 / unsupported kernel for the sandbox: {cmd[:3]}")

    async def _async_pre_start_kernel(self, **kw):
        if self.sandbox is not None:
            self.connection_file = str(self.sandbox.connection_file)
            kw.update(self.sandbox.popen_kwargs())
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        zygote = getattr(self.sandbox, "zygote", None) if self.sandbox is not None else None
        if zygote is None:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        from .zygote import ForkedKernelProcess

        sandbox = self.sandbox
        env = dict(kw.get("env") or sandbox.kernel_env())
        try:
            pid = zygote.spawn(connection_file=str(self.connection_file), cwd=str(sandbox.work), env=env,
                               uid=sandbox.uid, gid=sandbox.gid, limits=sandbox.limits,
                               log=str(sandbox.root / "kernel.log"))
        except (RuntimeError, OSError, ValueError) as error:
            # the template is gone or stuck: this kernel starts from scratch instead (slower, same)
            self.log.warning("kernel zygote unavailable (%s); starting a fresh kernel", error)
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        provisioner = self.provisioner
        provisioner.process = ForkedKernelProcess(pid)
        provisioner.pid = pid
        provisioner.pgid = pid  # the fork calls setsid()
        provisioner.cwd = str(sandbox.work)
        self._reconcile_connection_info(provisioner.connection_info)

    def write_connection_file(self, **kwargs) -> None:
        super().write_connection_file(**kwargs)
        if self.sandbox is not None and self.sandbox.uid is not None:
            os.chown(self.connection_file, self.sandbox.uid, self.sandbox.gid)

    @property
    def kernel_pgid(self) -> int | None:
        provisioner = getattr(self, "provisioner", None)
        return getattr(provisioner, "pgid", None) if provisioner else None


@contextlib.contextmanager
def protect_course(course_root: Path) -> Iterator[list[Path]]:
    """While grading, no "other" user may enter the course root (or the enclosing `.git`).

    Yields the protected paths; restores their modes afterwards. Only the "other" bits change, so
    the course's owner and group keep their access.
    """
    targets = [course_root.resolve()]
    git_dir = _enclosing_git_dir(course_root.resolve())
    if git_dir is not None:
        targets.append(git_dir)
    saved: list[tuple[Path, int]] = []
    try:
        for target in targets:
            mode = stat.S_IMODE(target.stat().st_mode)
            saved.append((target, mode))
            if mode & 0o007:
                os.chmod(target, mode & ~0o007)
        yield targets
    finally:
        for target, mode in saved:
            with contextlib.suppress(OSError):
                os.chmod(target, mode)


@contextlib.contextmanager
def course_lock(course_root: Path) -> Iterator[None]:
    """One grading run per course at a time, whatever the assignment.

    `protect_course` restores the modes it found when its run ends: with two runs at once, the first
    to finish would reopen the course while the second still runs trainee code. A second run waits
    (saying so) for the first. The lock file is keyed by the course's real path, outside the course.
    """
    import fcntl
    import hashlib

    key = hashlib.sha256(str(course_root.resolve()).encode("utf-8")).hexdigest()[:16]
    path = UidPool.LOCK_DIR / f"dangxiao-course-{key}.lock"
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except PermissionError:  # created by another account: that account's runs cannot be waited for
        logging.getLogger("dangxiao.autograde").warning(
            "%s: 无法加锁，未与其他账户的评分互斥 / cannot lock: runs by another account are not excluded", path)
        yield
        return
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logging.getLogger("dangxiao.autograde").warning(
                "%s: 另一个评分任务正在处理本课程，等待它结束…… / another grading run is using this course; waiting",
                course_root)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _enclosing_git_dir(path: Path) -> Path | None:
    for folder in (path, *path.parents):
        candidate = folder / ".git"
        if candidate.is_dir():
            return candidate
    return None


def make_sandbox_parent() -> Path:
    """A root-only tree for sandboxes: others may traverse (to reach their own folder), not list."""
    parent = Path(tempfile.mkdtemp(prefix="dangxiao-autograde-"))
    os.chmod(parent, 0o711)
    return parent


def wait_until_gone(processes: list[psutil.Process], timeout: float = 5.0) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    alive = processes
    while alive and time.monotonic() < deadline:
        _, alive = psutil.wait_procs(alive, timeout=0.2)
    return alive
