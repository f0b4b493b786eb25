"""Fixtures for the lesson tests: the catalog, and a kernel environment with the network cut off."""
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


# ------------------------------------------------------------------ Voila + headless Chromium

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="module")
def voila_courses(tmp_path_factory):
    """`dangxiao serve` on the real courses/, no preheated kernels (each page opens its own)."""
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log_path = tmp_path_factory.mktemp("voila") / "serve.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "dangxiao", "serve", "--no-browser", "--port", str(port), "--pool-size", "0",
             "--courses", str(COURSES)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dangxiao serve did not start:\n{log_path.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(url + "/", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def chromium_page():
    """A headless Chromium page that refuses every request not for 127.0.0.1 and records page errors."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} 不存在 / chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.external_requests, page.errors = [], []

        def route(request_route):
            if request_route.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
                request_route.continue_()
            else:
                page.external_requests.append(request_route.request.url)
                request_route.abort()

        page.route("**/*", route)
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        yield page
        browser.close()
