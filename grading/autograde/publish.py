"""Publishing a graded submission without ever losing the previous result, even when killed.

A result is staged in `<course>/.dangxiao-staging/<run>/<student>/<assignment>` (same file
system as `autograded/`, so moves are renames). With an earlier result in place, the two folders
are swapped in ONE atomic step (`renameat2(RENAME_EXCHANGE)`, Linux ≥ 3.15); only then is the old
one (now in staging) deleted. Where the exchange is not available, the old folder is first renamed
into the run's `.retired/` and the new one renamed into place; a run killed between the two finds
it again: `recover()` — called by every run before it grades, under the course lock — puts every
retired result whose place is empty back, then deletes what dead runs staged.
"""
from __future__ import annotations

import ctypes
import errno
import os
import shutil
from pathlib import Path
from typing import Callable

__all__ = ["STAGING_DIR", "exchange", "publish", "recover"]

STAGING_DIR = ".dangxiao-staging"
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_libc = ctypes.CDLL(None, use_errno=True)


def exchange(first: Path, second: Path) -> bool:
    """Swap two existing paths atomically; False where the system cannot."""
    renameat2 = getattr(_libc, "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(first))


def publish(staged: Path, final: Path, retired: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    if not final.exists():
        os.rename(staged, final)
        return
    if exchange(staged, final):
        shutil.rmtree(staged)  # the previous result, swapped out
        return
    retired.parent.mkdir(parents=True, exist_ok=True)
    os.rename(final, retired)
    os.rename(staged, final)
    shutil.rmtree(retired, ignore_errors=True)


def recover(course: Path, final_for: Callable[[str, str], Path]) -> list[Path]:
    """Put back results a killed run had retired; remove dead runs' staging. Returns what was restored."""
    staging = course / STAGING_DIR
    restored: list[Path] = []
    if not staging.is_dir():
        return restored
    for run in staging.iterdir():
        retired_root = run / ".retired"
        if retired_root.is_dir():
            for student in retired_root.iterdir():
                for assignment in student.iterdir():
                    final = final_for(student.name, assignment.name)
                    if not final.exists():
                        final.parent.mkdir(parents=True, exist_ok=True)
                        os.rename(assignment, final)
                        restored.append(final)
        shutil.rmtree(run, ignore_errors=True)
    try:
        staging.rmdir()
    except OSError:
        pass
    return restored
