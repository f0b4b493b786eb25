"""Resource limits of one sandboxed kernel, and how they are applied.

There is no systemd (no cgroup delegation) on the machines this was built on, so every limit is an
rlimit set INSIDE the kernel's own user namespace, by the sandbox itself, before trainee code runs:

* `RLIMIT_NPROC` (processes, threads included). Since Linux 5.14 the count is kept per user
  namespace (ucounts): set inside a fresh user namespace, it counts only the tasks of that
  namespace, not every task of the grader's uid. Measured here (Linux 6.18): with the grader's
  account already running 300 threads, a kernel with a limit of 64 starts and a fork bomb inside
  it stops at 64 (tests/autograde/test_sandbox.py). Set before the namespace exists, the same 64
  would count the whole account and a busy account could not start a kernel at all (issue 13).
  Real root is exempt from RLIMIT_NPROC, so as root the sandbox runs as an unused uid.
* `RLIMIT_AS` (memory as address space), `RLIMIT_FSIZE` (largest file), `RLIMIT_CPU` (a backstop:
  wall time is enforced by the grader, per cell and per notebook), `RLIMIT_CORE` 0,
  `RLIMIT_NOFILE`.
* the sandbox's private `/tmp` and `/dev/shm` are tmpfs mounts of `tmpfs_mb` each.

Hard limits: an unprivileged process cannot raise them again.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SandboxLimits"]

_MB = 1024 * 1024


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits of one sandboxed kernel (validated on creation)."""

    memory_mb: int = 2048          # RLIMIT_AS; pandas + matplotlib need ~1.3 GB of address space
    max_processes: int = 64        # RLIMIT_NPROC inside the kernel's own user namespace
    max_file_mb: int = 64          # RLIMIT_FSIZE: largest file trainee code may write
    cpu_seconds: int = 600         # RLIMIT_CPU backstop; wall-clock limits are enforced by the grader
    open_files: int = 1024         # RLIMIT_NOFILE
    tmpfs_mb: int = 64             # size of the private /tmp and /dev/shm

    def __post_init__(self) -> None:
        for name in ("memory_mb", "max_processes", "max_file_mb", "cpu_seconds", "open_files", "tmpfs_mb"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"SandboxLimits.{name} 必须是正整数 / must be a positive integer: {value!r}")

    def rlimits(self) -> dict[str, int]:
        """`resource` constant name → hard (= soft) limit."""
        return {
            "RLIMIT_AS": self.memory_mb * _MB,
            "RLIMIT_NPROC": self.max_processes,
            "RLIMIT_FSIZE": self.max_file_mb * _MB,
            "RLIMIT_CPU": self.cpu_seconds,
            "RLIMIT_CORE": 0,
            "RLIMIT_NOFILE": self.open_files,
        }
