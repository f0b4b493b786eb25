"""Fixtures for the lesson tests: a kernel environment with the network cut off, every lesson executed.

The lessons in a browser (Voila + Chromium) are tested with the publishing tests, on their server."""
from __future__ import annotations

import os
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
COURSES = ROOT / "courses"
BLOCKED = "dangxiao-tests: network blocked"

# Loaded by every kernel the tests start (PYTHONPATH): any connection or name lookup that is not for
# the loopback interface raises, so a lesson that reaches for a CDN or an API fails loudly.
SITECUSTOMIZE = textwrap.dedent(f'''
    import ipaddress
    import socket

    _connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def _local(host):
        if host in ("localhost", "", None):
            return True
        try:
            return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
        except ValueError:
            return False

    def _check(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):
            raise OSError("{BLOCKED}: " + repr(address))

    def connect(self, address):
        _check(self, address)
        return _connect(self, address)

    def connect_ex(self, address):
        _check(self, address)
        return _connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if not _local(host):
            raise OSError("{BLOCKED}: lookup " + repr(host))
        return _getaddrinfo(host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo
''')


@pytest.fixture(scope="session")
def offline_env(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("offline")
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(folder), env.get("PYTHONPATH", "")) if p)
    env["DANGXIAO_ROOT"] = str(ROOT)
    env["MPLCONFIGDIR"] = str(tmp_path_factory.mktemp("mplconfig"))
    return env


@pytest.fixture(scope="session")
def run_notebook(offline_env):
    """Execute a notebook in a fresh python3 kernel, cwd = courses/, offline; return the executed copy."""

    def run(notebook: nbformat.NotebookNode, cwd: Path = COURSES) -> nbformat.NotebookNode:
        client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                                resources={"metadata": {"path": str(cwd)}})
        client.execute(env=offline_env)
        return notebook

    return run


@pytest.fixture(scope="session")
def executed_lessons(run_notebook):
    """Every catalog lesson executed once, two kernels at a time (the suite runs on 2 cores).

    Returns {notebook name: executed notebook or the exception it raised}.
    """
    from concurrent.futures import ThreadPoolExecutor

    from dangxiao.catalog import load_catalog

    names = [lesson.notebook for lesson in load_catalog(COURSES).lessons]

    def execute(name):
        try:
            return run_notebook(nbformat.read(COURSES / name, as_version=4))
        except Exception as error:  # reported by the lesson's own test
            return error

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(names, pool.map(execute, names)))
