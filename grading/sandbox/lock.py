"""One grading run per course at a time."""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
from pathlib import Path
from typing import Iterator

from .host import LOCK_DIR

__all__ = ["course_lock"]


@contextlib.contextmanager
def course_lock(course_root: Path) -> Iterator[None]:
    """One grading run per course at a time, whatever the assignment.

    Two runs at once would publish into the same `autograded/` and write the same gradebook rows.
    A second run waits (saying so) for the first. The lock file is keyed by the course's real path,
    outside the course; the kernel releases the flock when a run dies, however it dies.
    """
    key = hashlib.sha256(str(Path(course_root).resolve()).encode("utf-8")).hexdigest()[:16]
    path = LOCK_DIR / f"dangxiao-course-{key}.lock"
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
