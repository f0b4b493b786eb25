"""`BubblewrapProvisioner`: a jupyter_client kernel provisioner that starts each kernel in a sandbox.

Registered as `dangxiao-bubblewrap` under the `jupyter_client.kernel_provisioners` entry point
(pyproject.toml); selected by `SandboxKernelManager` (manager.py) for every kernel it starts, or by
a kernelspec's `metadata.kernel_provisioner.provisioner_name`. Configured like any traitlets
object, e.g. in the course's nbgrader_config.py: `c.BubblewrapProvisioner.memory_mb = 1024`.

What a kernel gets (layout.py, inside.py): its own user/mount/pid/ipc/uts/network namespaces, the
system and the interpreter read-only, a private working copy at /sandbox/work holding the regular
non-notebook files of the folder it was asked to run in (`cwd`, nbgrader's autograded copy of the
submission) — never the folder itself, which holds the notebook with hidden tests — and hard
limits (limits.py). The kernel talks to the grader over IPC sockets in /sandbox/run: no network.

Signals: an interrupt (SIGINT) goes to the kernel process itself (bubblewrap would die of it), a
kill to pid 1 of the sandbox's pid namespace, which takes every process in it along, detached
(setsid, double fork) or not.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import uuid
from typing import Any

import psutil
from jupyter_client.launcher import launch_kernel
from jupyter_client.provisioning import LocalProvisioner
from traitlets import Bool, Integer, List, Unicode

from .host import INSIDE_SOURCE, SandboxHost, kernel_env
from .limits import SandboxLimits
from .zygote import ForkedKernelProcess, ZygoteUnavailable, host_pid

__all__ = ["BubblewrapProvisioner", "PROVISIONER_NAME", "DEFAULT_PRELOAD"]

PROVISIONER_NAME = "dangxiao-bubblewrap"
DEFAULT_PRELOAD = ("numpy", "pandas")


class BubblewrapProvisioner(LocalProvisioner):
    """LocalProvisioner whose kernels run in bubblewrap sandboxes (see the module docstring)."""

    memory_mb = Integer(2048, help="内核内存上限（MB，地址空间）/ RLIMIT_AS of a kernel, in MB").tag(config=True)
    max_processes = Integer(64, help="内核进程/线程数上限（在内核自己的用户命名空间内计数）"
                            " / RLIMIT_NPROC, counted inside the kernel's own user namespace").tag(config=True)
    max_file_mb = Integer(64, help="可写文件大小上限（MB）/ RLIMIT_FSIZE in MB").tag(config=True)
    cpu_seconds = Integer(600, help="CPU 时间上限（秒，墙钟时间由评分进程控制）/ RLIMIT_CPU backstop").tag(config=True)
    tmpfs_mb = Integer(64, help="私有 /tmp 与 /dev/shm 的大小（MB）/ size of the private /tmp and /dev/shm").tag(config=True)
    preload = List(Unicode(), default_value=list(DEFAULT_PRELOAD),
                   help="内核模板预先导入的模块（无副作用的库）/ modules the kernel template imports ahead"
                   ).tag(config=True)
    fork_kernels = Bool(True, help="从预加载的模板派生内核；否则每个内核重新启动 Python"
                        " / fork kernels from the pre-imported template; else start each from scratch"
                        ).tag(config=True)
    uid_base = Integer(61000, help="以 root 运行时沙箱账户 uid 的起始值 / first uid tried for the sandbox"
                       " account when grading as root").tag(config=True)

    workspace = None
    host: SandboxHost | None = None
    stray_processes = 0  # processes besides the kernel alive in the sandbox when it was killed
    skipped_files: list[str] = []

    @property
    def limits(self) -> SandboxLimits:
        return SandboxLimits(memory_mb=self.memory_mb, max_processes=self.max_processes,
                             max_file_mb=self.max_file_mb, cpu_seconds=self.cpu_seconds, tmpfs_mb=self.tmpfs_mb)

    def _check_kernel(self) -> None:
        argv = list(self.kernel_spec.argv or [])
        if not any("ipykernel" in part for part in argv):
            raise RuntimeError(f"沙箱只支持 Python（ipykernel）内核 / the sandbox runs ipykernel only: {argv[:3]}")

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        self._check_kernel()
        limits = self.limits  # validated before anything starts
        self.host = SandboxHost.shared(tuple(self.preload), self.fork_kernels, self.uid_base)
        self.workspace = self.host.root.new_workspace()
        self.skipped_files = self.workspace.copy_in(kwargs.pop("cwd", None))
        extra = [arg for arg in kwargs.pop("extra_arguments", []) if str(arg).startswith("--")]
        key = uuid.uuid4().hex
        ports = {"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "hb_port": 4, "control_port": 5}
        inside = {"transport": "ipc", "ip": "/sandbox/run/kernel", "key": key, "signature_scheme": "hmac-sha256",
                  "kernel_name": self.kernel_spec.display_name or "python3", **ports}
        path = self.workspace.run / "kernel.json"
        path.write_text(json.dumps(inside), encoding="utf-8")
        if os.geteuid() == 0:
            os.chown(path, self.host.uid, self.host.gid)
        self.connection_info = {**inside, "ip": str(self.workspace.run / "kernel"), "key": key.encode()}
        km = self.parent
        if km is not None:
            km.transport = "ipc"
            km.connection_file = str(self.workspace.folder / "grader.json")  # not bound: host only
        self._request = {"name": self.workspace.name, "env": kernel_env(), "limits": limits.rlimits(),
                         "tmpfs_bytes": limits.tmpfs_mb * 1024 * 1024, "argv": extra}
        cmd = self.host.layout.wrap(self.host.layout.kernel_args(self.workspace.folder) + [
            "--disable-userns", "--", sys.executable, "-s", "-c", INSIDE_SOURCE, "kernel", json.dumps(self._request)])
        return {"cmd": cmd, "env": kernel_env()}

    async def launch_kernel(self, cmd: list[str], **kwargs: Any):
        zygote = self.host.zygote()
        if zygote is not None:
            try:
                intermediate, kernel = zygote.spawn(self._request)
            except ZygoteUnavailable as error:
                self.log.warning("kernel zygote unavailable (%s); starting a fresh sandboxed kernel", error)
                self.host.zygote_failed()
            else:
                self.process = ForkedKernelProcess(intermediate, kernel)
                self.pid = self.pgid = kernel
                self.cwd = str(self.workspace.work)
                return self.connection_info
        log = open(self.workspace.run / "kernel.log", "ab")  # noqa: SIM115 - the child owns a copy
        if os.geteuid() == 0:
            os.chown(log.name, self.host.uid, self.host.gid)  # the kernel reopens it by its inside path
        try:
            self.process = launch_kernel(cmd, stdout=log, stderr=log, **{k: v for k, v in kwargs.items()
                                                                         if k not in ("kernel_id",)})
        finally:
            log.close()
        self.pid = self.process.pid
        self.pgid = None  # signals are aimed (send_signal), never at bubblewrap's group
        self.cwd = str(self.workspace.work)
        return self.connection_info

    def _kernel_pid(self) -> int | None:
        if isinstance(self.process, ForkedKernelProcess):
            return self.process.kernel_pid
        if self.process is None:
            return None
        # bubblewrap's own init is pid 1 of the sandbox's pid namespace, the kernel pid 2
        return host_pid(self.process.pid, 2)

    def _namespace_init(self) -> int | None:
        if isinstance(self.process, ForkedKernelProcess):
            return self.process.kernel_pid
        if self.process is None:
            return None
        return host_pid(self.process.pid, 1)

    async def send_signal(self, signum: int) -> None:
        if not self.process:
            return
        if signum in (signal.SIGKILL, signal.SIGTERM):
            await self.kill()
            return
        target = self._kernel_pid()
        if target is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(target, signum)

    async def kill(self, restart: bool = False) -> None:
        if not self.process:
            return
        init = self._namespace_init()
        kernel = self._kernel_pid()
        if init is not None:
            with contextlib.suppress(psutil.Error):
                others = [p for p in psutil.Process(init).children(recursive=True) if p.pid != kernel]
                self.stray_processes = max(self.stray_processes, len(others))
            with contextlib.suppress(ProcessLookupError):
                os.kill(init, signal.SIGKILL)  # pid 1 gone: the kernel ends every process in its namespace
        with contextlib.suppress(OSError):
            self.process.kill()

    async def terminate(self, restart: bool = False) -> None:
        await self.kill(restart)

    async def cleanup(self, restart: bool = False) -> None:
        if self.process is not None and self.process.poll() is None:
            await self.kill()
            with contextlib.suppress(Exception):
                self.process.wait(timeout=5)
        if self.workspace is not None and not restart:
            self.workspace.remove()
            self.workspace = None

    def kernel_log_tail(self) -> str:
        return self.workspace.log_tail() if self.workspace is not None else ""
