"""Fixtures: a tiny nbgrader course (dangxiao.grading.sample_course), built once, copied per test.

Courses live under a fresh 0755 folder in /tmp (not pytest's 0700 tmp tree), so when a test shows
the sandbox cannot read the course, that is the autograder's doing, not the test folder's mode.
"""
from __future__ import annotations

import hashlib
import os
import random
import shutil
import tempfile
from pathlib import Path

import psutil
import pytest

from dangxiao.grading.sample_course import build_course


@pytest.fixture(scope="session")
def course_template():
    parent = Path(tempfile.mkdtemp(prefix="dangxiao-agtest-template-"))
    try:
        yield build_course(parent / "course")
    finally:
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def open_folder():
    """A world-traversable folder (mode 0755) for one test's course."""
    parent = Path(tempfile.mkdtemp(prefix="dangxiao-agtest-"))
    os.chmod(parent, 0o755)
    try:
        yield parent
    finally:
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def make_course(course_template, open_folder):
    """Copy the generated course (gradebook included) into a fresh open folder."""
    count = [0]

    def make() -> Path:
        count[0] += 1
        target = open_folder / f"course{count[0]}"
        shutil.copytree(course_template, target)
        os.chmod(target, 0o755)
        return target

    return make


@pytest.fixture
def tree_hashes():
    return _tree_hashes


@pytest.fixture
def uid_base():
    """A uid range of this test's own, so grading runs of other people on this machine (which
    also use sandbox uids) are not mistaken for our leftovers."""
    return 62000 + random.randrange(0, 30) * 100


@pytest.fixture
def sandbox_processes(uid_base):
    return lambda: _sandbox_processes(uid_base, 100)


def _tree_hashes(root: Path) -> dict[str, str]:
    """sha256 of every file below `root`, by relative path."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*")) if path.is_file()
    }


def _sandbox_processes(uid_base: int = 61000, span: int = 4000) -> list[psutil.Process]:
    """Live processes running as a sandbox uid, or kernels left as our children."""
    found = []
    for process in psutil.process_iter(["uids"]):
        try:
            if uid_base <= process.info["uids"].real < uid_base + span:
                found.append(process)
        except (psutil.Error, TypeError):
            pass
    for child in psutil.Process().children(recursive=True):
        try:
            if "ipykernel" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            pass
    return found
