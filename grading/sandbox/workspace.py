"""The host side of sandboxes: one private folder per grading process, one sub-folder per kernel.

    /tmp/dangxiao-sandbox-<pid>-<random>/      0700 (0711 as root: the sandbox uid must reach its own)
        etc/passwd, etc/group                  the sandbox's accounts (bound over /etc/...)
        spool/k-<random>/work/                 → /sandbox/work: non-notebook files of the submission
                        /home/                 → /sandbox/home (HOME, IPython, matplotlib cache)
                        /run/                  → /sandbox/run: kernel.json, IPC sockets, kernel.log

Nothing of the course is ever below it: `Workspace.copy_in` copies the working copy's regular files
(never a notebook — the graded notebook, with hidden tests, sits next to them in nbgrader's
`autograded/` folder — never a symlink) into `work/`. A grading process killed with SIGKILL cannot
clean up: the next one deletes folders whose process is gone (`remove_stale`).
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path

__all__ = ["SandboxRoot", "Workspace"]

PREFIX = "dangxiao-sandbox-"
_STALE = re.compile(rf"^{PREFIX}(\d+)-")


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    for dirpath, _dirnames, filenames in os.walk(path):
        os.chown(dirpath, uid, gid, follow_symlinks=False)
        for name in filenames:
            os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)


class SandboxRoot:
    """The per-process folder; `uid`/`gid` own what sandboxes may write (the sandbox account when
    root, else the grader itself)."""

    def __init__(self, uid: int, gid: int, parent: str | None = None) -> None:
        self.uid, self.gid = uid, gid
        remove_stale(Path(parent or tempfile.gettempdir()))
        self.path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=parent))
        os.chmod(self.path, 0o711 if os.geteuid() == 0 else 0o700)
        self.spool = self.path / "spool"
        self.spool.mkdir(mode=0o711)
        if os.geteuid() == 0:
            os.chown(self.spool, uid, gid)
        self.etc = self.path / "etc"

    def new_workspace(self) -> "Workspace":
        return Workspace(self, self.spool / f"k-{uuid.uuid4().hex[:12]}")

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


class Workspace:
    """One kernel's folder (see the module docstring)."""

    def __init__(self, root: SandboxRoot, folder: Path) -> None:
        self.root = root
        self.folder = folder
        self.name = folder.name
        self.work, self.home, self.run = folder / "work", folder / "home", folder / "run"
        for path in (folder, self.work, self.home, self.run, self.home / ".config" / "matplotlib"):
            path.mkdir(mode=0o700, parents=True)
        _copy_matplotlib_cache(self.home / ".config" / "matplotlib")
        self._hand_over(folder)

    def _hand_over(self, path: Path) -> None:
        if os.geteuid() == 0:
            _chown_tree(path, self.root.uid, self.root.gid)

    def copy_in(self, source: str | os.PathLike | None) -> list[str]:
        """Copy the regular non-notebook files below `source` into `work/`; returns what was left
        out (symlinks, notebooks)."""
        skipped: list[str] = []
        if not source or not os.path.isdir(source):
            return skipped
        source = Path(source)
        for dirpath, dirnames, filenames in os.walk(source):
            dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))
                           and not d.startswith(".ipynb_checkpoints")]
            for name in filenames:
                path = Path(dirpath) / name
                relative = path.relative_to(source)
                if path.is_symlink() or name.endswith(".ipynb") or not path.is_file():
                    skipped.append(str(relative))
                    continue
                target = self.work / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target, follow_symlinks=False)
        self._hand_over(self.work)
        return skipped

    def log_tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join((self.run / "kernel.log").read_text("utf-8", "replace").splitlines()[-lines:])
        return ""

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def remove_stale(parent: Path) -> None:
    """Delete sandbox folders of grading processes that no longer exist (killed with SIGKILL)."""
    with contextlib.suppress(OSError):
        for entry in parent.iterdir():
            match = _STALE.match(entry.name)
            if not match or not entry.is_dir():
                continue
            pid = int(match.group(1))
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                shutil.rmtree(entry, ignore_errors=True)
            except PermissionError:
                pass  # alive, someone else's


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
