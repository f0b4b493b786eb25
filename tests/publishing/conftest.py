"""Fixtures for the publishing tests: `dangxiao serve` processes, a fixture project with canaries,
headless Chromium pages that record external requests and page errors."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]
CANARY = "DANGXIAO-CANARY-7f3a9c"  # written into every instructor-side file of the fixture project


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(url: str, timeout: float = 120) -> tuple[int, str]:
    """Status and body of a GET, without following redirects (a redirect is reported as its status)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


@dataclass
class Server:
    """A `dangxiao serve --no-browser` child process on a free port."""

    courses: Path
    args: list[str] = field(default_factory=list)
    log_path: Path | None = None
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> "Server":
        self.port = free_port()
        self.log_path = self.log_path or Path(os.environ.get("TMPDIR", "/tmp")) / f"dangxiao-serve-{self.port}.log"
        log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dangxiao", "serve", "--no-browser", "--port", str(self.port),
             "--courses", str(self.courses), *self.args],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dangxiao serve exited {self.process.returncode}:\n{self.log()}")
            try:
                if http_get(self.url + "/", timeout=5)[0] in (200, 302):  # 302: a site with sign-in
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"dangxiao serve not ready after {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # The server's own process group: its kernels go with it.
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def write_notebook(path: Path, cells: list[tuple[str, str]]) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [
        nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
        for kind, source in cells
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


QUIZ_LESSON = [
    ("md", "# 测试课程：网格化管理\n\n公式 $x^2 + y^2 = r^2$ 由页面自带的 MathJax 显示。"),
    ("code", "SOLUTION_IN_SOURCE = 'lesson-source-must-stay-hidden'\nprint('课程开始')"),
    ("code",
     "from dangxiao.widgets import Quiz\n"
     "Quiz.inline(id='t-q1', type='single', stem='“12345”热线属于哪一类渠道？',\n"
     "            options=['群众诉求渠道', '财政预算渠道'], answer='群众诉求渠道',\n"
     "            explanation='热线接收群众诉求。', source='测试', reveal=True)"),
    ("code", "import ipywidgets as w\nw.Button(description='确定', icon='check').add_class('dx-icon-button')"),
]


@pytest.fixture(scope="session")
def fixture_project(tmp_path_factory) -> Path:
    """A project copy: a quiz lesson in courses/, and canaries wherever the instructor keeps things."""
    root = tmp_path_factory.mktemp("dangxiao-project")
    courses = root / "courses"
    write_notebook(courses / "t1_quiz.ipynb", QUIZ_LESSON)
    write_notebook(courses / "t2_plain.ipynb", [("md", "# 第二课"), ("code", "import ipywidgets as w\nw.Label('第二课')")])
    write_notebook(courses / "t3_broken.ipynb", [
        ("code", "print('前半部分')"),
        ("code", f"raise RuntimeError('{CANARY} in ' + __import__('os').getcwd())"),
    ])
    # In courses/ but not in the catalog: must not render or download.
    write_notebook(courses / "draft_unlisted.ipynb", [("code", f"print('{CANARY}')")])
    (courses / "helper_secret.py").write_text(f"KEY = '{CANARY}'\n", encoding="utf-8")
    (courses / ".env").write_text(f"TOKEN={CANARY}\n", encoding="utf-8")
    (courses / "data.csv").write_text(f"a,b\n{CANARY},1\n", encoding="utf-8")
    (courses / "catalog.yaml").write_text(
        "title: 测试课程目录\nmodules:\n"
        "  - id: t1\n    title: 模块一　测试\n    lessons:\n"
        "      - {id: t1-quiz, title: 网格化管理测验, notebook: t1_quiz.ipynb, minutes: 20}\n"
        "      - {id: t1-plain, title: 第二课, notebook: t2_plain.ipynb, minutes: 10}\n"
        "      - {id: t1-broken, title: 出错的课, notebook: t3_broken.ipynb, minutes: 5}\n",
        encoding="utf-8",
    )
    assignments = root / "assignments"
    write_notebook(assignments / "source" / "a01" / "a01.ipynb", [("code", f"ANSWER = '{CANARY}'")])
    (assignments / "source" / "a01" / "solution.py").write_text(f"# {CANARY}\n", encoding="utf-8")
    (assignments / "gradebook.db").write_text(CANARY, encoding="utf-8")
    (assignments / "nbgrader_config.py").write_text(f"# {CANARY}\n", encoding="utf-8")
    write_notebook(assignments / "submitted" / "student1" / "a01" / "a01.ipynb", [("code", f"x = '{CANARY}'")])
    (assignments / "submitted" / "student1" / "a01" / "answers.json").write_text(json.dumps({"q": CANARY}), encoding="utf-8")
    (root / "pyproject.toml").write_text("# fixture project\n", encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def fixture_server(fixture_project):
    server = Server(fixture_project / "courses", ["--pool-size", "1", "--preheat", "t1-quiz"]).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def project_server(tmp_path_factory):
    """The project's own courses/, whatever its catalog lists when the tests run (no pool: each lesson
    opened once)."""
    server = Server(ROOT / "courses", ["--pool-size", "0"]).start()
    yield server
    server.stop()


# --- browser ------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def playwright_driver():
    """The one Playwright of the session (its sync API allows one per thread): launch browsers from it."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (/usr/bin/chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


def launch_chromium(playwright_driver, env: dict[str, str] | None = None):
    return playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=env)


@pytest.fixture(scope="session")
def browser(playwright_driver):
    browser = launch_chromium(playwright_driver)
    yield browser
    browser.close()


@dataclass
class RecordedPage:
    page: object
    external_requests: list[str]
    errors: list[str]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def recorded_page(browser, request):
    """A page whose non-local requests are blocked and recorded, with page and console errors recorded;
    a screenshot goes to test-artifacts/ when the test fails."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    external: list[str] = []
    errors: list[str] = []

    def route(route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:", "about:")):
            route.continue_()
        else:
            external.append(url)
            route.abort()

    context.route("**/*", route)  # the context, so pages a lesson opens (links, popups) are covered too
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    page.on("console", lambda msg: errors.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None)
    yield RecordedPage(page, external, errors)
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in request.node.name)
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        except Exception:  # the page may be gone: the failure itself is what matters
            pass
    context.close()


# Test modules are imported with --import-mode=importlib and cannot import this file: hand the helpers
# over as fixtures.
@pytest.fixture(scope="session")
def support():
    class Support:
        canary = CANARY
        root = ROOT
        get = staticmethod(http_get)
        server = Server
        notebook = staticmethod(write_notebook)
        launch = staticmethod(launch_chromium)

    return Support
