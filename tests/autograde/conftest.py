"""Fixtures: a tiny nbgrader course (dangxiao.grading.sample_course), built once, copied per test;
an ordinary account to grade as; a TCP listener on 127.0.0.1 that no sandbox may reach; a scan for
processes that outlived grading.

Courses for root live under fresh 0700 folders: nothing of the sandbox relies on a course being
open to "other". The ordinary account's courses live in its own 0700 home.
"""
from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from dangxiao.grading.sample_course import PROCESS_MARKERS, build_course

GRADER_ACCOUNT = "dxag-grader"
# in the command line of every sandbox process we start (bwrap's arguments, the code run inside)
SANDBOX_MARKERS = ("dangxiao-sandbox-", "Code that runs INSIDE the sandbox") + PROCESS_MARKERS


@pytest.fixture(scope="session")
def course_template():
    parent = Path(tempfile.mkdtemp(prefix="dangxiao-agtest-template-"))
    try:
        yield build_course(parent / "course")
    finally:
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def private_folder():
    """A private folder (mode 0700) for one test's course."""
    parent = Path(tempfile.mkdtemp(prefix="dangxiao-agtest-"))
    try:
        yield parent
    finally:
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def make_course(course_template, private_folder):
    """Copy the generated course (gradebook included) into a fresh private folder."""
    count = [0]

    def make() -> Path:
        count[0] += 1
        target = private_folder / f"course{count[0]}"
        shutil.copytree(course_template, target)
        os.chmod(target, 0o700)
        return target

    return make


@pytest.fixture
def tree_hashes():
    return tree_hashes_of


def tree_hashes_of(root: Path) -> dict[str, str]:
    """sha256 of every file below `root`, by relative path."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*")) if path.is_file()
    }


def leftover_processes() -> list[str]:
    """Sandbox processes (any account) still alive: bwrap, zygote, kernels, what trainees started."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        try:
            line = " ".join(process.info["cmdline"] or [])
        except (psutil.Error, TypeError):
            continue
        if any(marker in line for marker in SANDBOX_MARKERS) and process.pid != os.getpid():
            found.append(f"{process.pid}: {line[:120]}")
    return found


def wait_no_leftovers(timeout: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        left = leftover_processes()
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


@pytest.fixture
def no_leftovers():
    return wait_no_leftovers


@pytest.fixture(scope="session")
def listener():
    """A TCP port on 127.0.0.1; `listener.connections()` says whether anything connected."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.setblocking(False)

    class Listener:
        port = server.getsockname()[1]

        @staticmethod
        def connections() -> int:
            count = 0
            while True:
                try:
                    connection, _ = server.accept()
                except BlockingIOError:
                    return count
                connection.close()
                count += 1

    yield Listener()
    server.close()


class Account:
    """Who runs a grading command: root itself, or an ordinary account through runuser."""

    def __init__(self, name: str, home: Path, python: str) -> None:
        self.name, self.home, self.python = name, home, python
        self.bin = str(Path(python).parent)

    @property
    def is_root(self) -> bool:
        return self.name == "root"

    def command(self, argv: list[str]) -> list[str]:
        env = [f"HOME={self.home}", f"PATH={self.bin}:/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"]
        if self.is_root or os.geteuid() != 0:
            return ["env", *env, *argv]
        return ["runuser", "-u", self.name, "--", "env", *env, *argv]

    def run(self, argv: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(argv), cwd=cwd, capture_output=True, text=True, timeout=timeout)

    def own(self, path: Path) -> None:
        if not self.is_root and os.geteuid() == 0:
            entry = pwd.getpwnam(self.name)
            for dirpath, _dirnames, filenames in os.walk(path):
                os.chown(dirpath, entry.pw_uid, entry.pw_gid)
                for name in filenames:
                    os.chown(os.path.join(dirpath, name), entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def _ordinary_account() -> Account:
    """An ordinary account with a 0700 home and a Python of its own (a venv on the system Python of
    the same version, seeing this checkout's packages through a .pth file)."""
    if os.geteuid() != 0:  # the suite already runs as an ordinary user: that is the account
        return Account(pwd.getpwuid(os.getuid()).pw_name, Path.home(), sys.executable)
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    system_python = f"/usr/bin/python{version}"
    if not os.access(system_python, os.X_OK):
        pytest.skip(f"{system_python} missing: no Python an ordinary account could run")
    try:
        pwd.getpwnam(GRADER_ACCOUNT)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", GRADER_ACCOUNT], check=True)
    home = Path(pwd.getpwnam(GRADER_ACCOUNT).pw_dir)
    venv = home / "venv"
    if not (venv / "bin" / "python").exists():
        subprocess.run([system_python, "-m", "venv", str(venv)], check=True)
    site_packages = sysconfig.get_paths()["purelib"]
    pth = venv / "lib" / f"python{version}" / "site-packages" / "dangxiao-checkout.pth"
    pth.write_text(f"import site; site.addsitedir({site_packages!r})\n", encoding="utf-8")
    account = Account(GRADER_ACCOUNT, home, str(venv / "bin" / "python"))
    account.own(home)
    os.chmod(home, 0o700)
    check = account.run([account.python, "-c", "import dangxiao.grading.autograde, nbgrader"], cwd=Path("/"))
    if check.returncode != 0:
        pytest.skip(f"{GRADER_ACCOUNT} cannot import the project: {check.stderr.strip()[-200:]}")
    return account


@pytest.fixture(scope="session")
def accounts() -> dict[str, Account]:
    root = Account("root", Path("/root"), sys.executable) if os.geteuid() == 0 else None
    result = {"user": _ordinary_account()}
    if root is not None:
        result["root"] = root
    return result
