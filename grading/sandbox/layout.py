"""What a sandboxed kernel sees: the bubblewrap command line of a sandbox.

Mounted, all read-only: the system (`/usr` and the merged-/usr links), a few files of `/etc` (the
loader cache, time zone, fonts — not the rest: `/etc` can hold a hub's secrets), the interpreter and
its site-packages (bound at their own paths, so a checkout in a private home or `/root` works: the
path to them is never walked), and the folders of the dangxiao packages the course notebooks
import. Private and writable: `/sandbox/work` (the submission's working copy, the cwd),
`/sandbox/home` and `/sandbox/run` (the kernel's connection file and IPC sockets), a fresh `/tmp`.
Not mounted at all: the course (sources, release, submitted, autograded, gradebook, config), other
submissions, the grader's home, `/root`, `/home`, `/srv`, `/var`, `/run`, `/sys`.

Namespaces: user, mount, pid, ipc, uts, cgroup and network (`--unshare-all`; only a loopback of
the sandbox's own, so no TCP connection leaves it — the kernel talks to the grader over Unix
sockets in `/sandbox/run`). `--die-with-parent` and a new pid namespace: when the grader dies, every
process of the sandbox dies with it, detached or not.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["BWRAP", "SandboxLayout", "INSIDE_WORK", "INSIDE_HOME", "INSIDE_RUN", "INSIDE_SPOOL"]

BWRAP = "/usr/bin/bwrap"

INSIDE_WORK = "/sandbox/work"
INSIDE_HOME = "/sandbox/home"
INSIDE_RUN = "/sandbox/run"
INSIDE_SPOOL = "/sandbox/spool"  # zygote only: every kernel's folder, each fork keeps its own

_SYSTEM = ("/usr",)
_MERGED_USR_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC_FILES = (
    "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/timezone",
    "/etc/fonts", "/etc/mime.types", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/alternatives",
    "/etc/matplotlibrc", "/etc/ssl/openssl.cnf",
)
# the packages a course notebook may import (installed editable, their folders live in the checkout)
_PACKAGES = ("dangxiao", "dangxiao.grading", "dangxiao.widgets", "dangxiao.datasets")

_STAGE_SCRIPT = """set -e
account=$1; count=$2; shift 2
while [ "$count" -gt 0 ]; do
    mount --bind "$1" "$2"; mount -o remount,bind,ro "$2"; shift 2; count=$((count - 1))
done
exec /usr/bin/setpriv --reuid="$account" --regid="$account" --clear-groups -- "$@"
"""

PASSWD = "root:x:0:0::/nonexistent:/usr/sbin/nologin\ntrainee:x:{uid}:{gid}:trainee:/sandbox/home:/usr/sbin/nologin\n"
GROUP = "root:x:0:\ntrainee:x:{gid}:\n"


def _covered(path: str, roots: list[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def python_binds() -> list[str]:
    """Host folders the interpreter needs, outermost first, none inside another."""
    wanted = [sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))]
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        wanted.append(sysconfig.get_paths()[key])
    for name in _PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            wanted.extend(spec.submodule_search_locations)
    # editable installs: the path hooks that map the packages to the checkout
    wanted.extend(p for p in sys.path if p and os.path.isdir(p) and "site-packages" in p)
    binds: list[str] = []
    for path in sorted({os.path.realpath(p) for p in wanted if p and os.path.exists(p)}, key=len):
        if not _covered(path, list(_SYSTEM) + binds):
            binds.append(path)
    return binds


def hidden_paths() -> list[str]:
    """Folders inside the bound packages that trainee code must not read: the question bank holds the
    key of every test paper drawn from it (`dangxiao exam`). Graded notebooks never need it."""
    spec = importlib.util.find_spec("dangxiao.datasets")
    if spec is None or not spec.submodule_search_locations:
        return []
    return [os.path.realpath(os.path.join(folder, "questions")) for folder in spec.submodule_search_locations
            if os.path.isdir(os.path.join(folder, "questions"))]


@dataclass
class SandboxLayout:
    """The mounts of one sandbox (a cold kernel) or of the zygote (which forks kernels)."""

    uid: int
    gid: int
    etc_dir: Path                       # host folder with the sandbox's passwd and group
    python: list[str] = field(default_factory=python_binds)
    tmpfs_mb: int = 64
    # As root the sandbox's own account runs bubblewrap and may be unable to walk to the interpreter
    # (a pyenv under /root, mode 0700). Root then binds those folders onto empty folders the account
    # can reach (`stage`), in a private mount namespace of the launch alone — nothing is mounted
    # on the host, nothing outlives the sandbox — and drops to the account to run bubblewrap.
    stage: Path | None = None
    account: int | None = None

    def _source(self, index: int, path: str) -> str:
        return str(self.stage / str(index)) if self.stage is not None else path

    def wrap(self, argv: list[str]) -> list[str]:
        """The command that starts `argv` (a bubblewrap command line) as the sandbox account."""
        if self.stage is None:
            return argv
        pairs: list[str] = []
        for index, path in enumerate(self.python):
            (self.stage / str(index)).mkdir(mode=0o755, parents=True, exist_ok=True)
            pairs += [path, str(self.stage / str(index))]
        return ["/usr/bin/unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", _STAGE_SCRIPT,
                "dangxiao-sandbox", str(self.account), str(len(self.python)), *pairs, *argv]

    @staticmethod
    def write_etc(folder: Path, uid: int, gid: int) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "passwd").write_text(PASSWD.format(uid=uid, gid=gid), encoding="utf-8")
        (folder / "group").write_text(GROUP.format(gid=gid), encoding="utf-8")
        for name in ("passwd", "group"):
            os.chmod(folder / name, 0o644)
        os.chmod(folder, 0o755)
        return folder

    def base_args(self) -> list[str]:
        args = [BWRAP, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session",
                "--hostname", "sandbox"]
        for path in _SYSTEM:
            args += ["--ro-bind", path, path]
        for link in _MERGED_USR_LINKS:
            if os.path.islink(link):
                args += ["--symlink", os.readlink(link), link]
            elif os.path.isdir(link):
                args += ["--ro-bind", link, link]
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--size", str(self.tmpfs_mb * 1024 * 1024), "--tmpfs", "/tmp",
                 "--dir", "/etc"]
        for path in _ETC_FILES:
            if os.path.exists(path):
                args += ["--ro-bind", path, path]
        args += ["--ro-bind", str(self.etc_dir / "passwd"), "/etc/passwd",
                 "--ro-bind", str(self.etc_dir / "group"), "/etc/group"]
        for index, path in enumerate(self.python):
            args += ["--ro-bind", self._source(index, path), path]
        for path in hidden_paths():
            args += ["--size", str(1024 * 1024), "--tmpfs", path]  # an empty folder over it
        return args

    def kernel_args(self, folder: Path) -> list[str]:
        """A cold kernel: its own folder's work/home/run at the inside paths."""
        return self.base_args() + [
            "--bind", str(folder / "work"), INSIDE_WORK,
            "--bind", str(folder / "home"), INSIDE_HOME,
            "--bind", str(folder / "run"), INSIDE_RUN,
            "--chdir", INSIDE_WORK,
        ]

    def zygote_args(self, spool: Path) -> list[str]:
        """The zygote: the spool of kernel folders, and empty mount points each fork binds its own
        folder onto before hiding the spool."""
        return self.base_args() + [
            "--bind", str(spool), INSIDE_SPOOL,
            "--dir", INSIDE_WORK, "--dir", INSIDE_HOME, "--dir", INSIDE_RUN,
            "--chdir", "/",
        ]
