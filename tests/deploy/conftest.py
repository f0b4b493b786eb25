"""A real JupyterHub on 127.0.0.1 for the smoke test: system accounts, the centre's config, the proxy.

Fixtures:
* `proxy_command` (session): configurable-http-proxy from npm, installed into `.venv/node` on first
  use (skips only when node/npm are absent, or when not root: system accounts need root);
* `centre_hub` (module): runs deploy/jupyterhub/setup_centre.py on a throw-away roster (real
  accounts with random names, homes 0700 under a temporary base), then `jupyterhub -f
  deploy/jupyterhub/jupyterhub_config.py` with only environment variables changed. Everything is
  undone in the finalizer: hub stopped, leftover processes of the test accounts killed by pid,
  accounts deleted, folders removed;
* `HubSession`: one person's browser-like session (password login, then an API token) with helpers
  for the hub API, their server's REST API and code execution in a kernel over the websocket.
"""
from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
import requests
import yaml

REPO = Path(__file__).resolve().parents[2]
HUB_DIR = REPO / "deploy" / "jupyterhub"
BIN = Path(sys.executable).parent
NODE_PREFIX = BIN.parent / "node"  # .venv/node
HTTP_TIMEOUT = 60


# --- configurable-http-proxy ---------------------------------------------------------------------

@pytest.fixture(scope="session")
def proxy_command() -> str:
    existing = NODE_PREFIX / "node_modules" / ".bin" / "configurable-http-proxy"
    if existing.exists():
        return str(existing)
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node/npm 不可用：无法安装 configurable-http-proxy / node and npm are not installed")
    major = int(subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
                .stdout.strip().lstrip("v").split(".")[0])
    # configurable-http-proxy 5 needs node >= 20; Debian 12's nodejs is 18, which 4.x supports.
    version = "5" if major >= 20 else "4"
    NODE_PREFIX.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [npm, "install", "--prefix", str(NODE_PREFIX), "--no-audit", "--no-fund",
         f"configurable-http-proxy@{version}"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and existing.exists(), \
        f"npm install configurable-http-proxy failed:\n{result.stdout}\n{result.stderr}"
    return str(existing)


# --- a Python the test accounts can run ---------------------------------------------------------

def _reachable_by_others(path: Path) -> bool:
    """Can an unprivileged account reach and read `path` (every parent searchable by "other")?"""
    path = path.resolve()
    if not path.exists() or not path.stat().st_mode & 0o004:
        return False
    return all(parent.stat().st_mode & 0o001 for parent in path.parents)


def shared_runtime(target: Path) -> Path:
    """The bin folder servers and services run from: the venv's own when every account can use it;
    otherwise (e.g. a venv made from a pyenv Python under /root, mode 0700) a venv made by hand over
    the system Python of the same version, reading the project venv's site-packages through a .pth,
    with the venv's scripts copied under a new #! line. A centre installs the venv somewhere
    world-readable instead (deploy/README.md)."""
    import sysconfig

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    if _reachable_by_others(Path(sys.executable)) and _reachable_by_others(stdlib / "os.py") \
            and _reachable_by_others(BIN / "jupyterhub-singleuser"):
        return BIN
    project_site = Path(sysconfig.get_paths()["purelib"])
    for needed in (project_site / "jupyterhub" / "__init__.py", REPO / "dangxiao" / "__init__.py"):
        if not _reachable_by_others(needed):
            pytest.skip(f"{needed}: 其他账号读不到项目（检出目录不可遍历）/ the checkout is not readable by "
                        "other accounts: the trainees' servers could not run it")
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    system_python = Path(f"/usr/bin/python{version}")
    if not _reachable_by_others(system_python):
        pytest.skip(f"{sys.executable} 其他账号无法运行，且没有 {system_python} / "
                    "the venv's Python is not usable by other accounts and there is no system Python " + version)
    venv = BIN.parent
    (target / "bin").mkdir(parents=True)
    site_packages = target / "lib" / f"python{version}" / "site-packages"
    site_packages.mkdir(parents=True)
    (target / "pyvenv.cfg").write_text(
        f"home = {system_python.parent}\ninclude-system-site-packages = false\nversion = {version}\n")
    (target / "bin" / "python").symlink_to(system_python)
    (target / "bin" / "python3").symlink_to("python")
    (site_packages / "_dangxiao_project_venv.pth").write_text(
        f"import site; site.addsitedir({str(project_site)!r})\n")
    for shared in ("share", "etc"):  # Jupyter's data and config under sys.prefix (extensions, templates)
        if (venv / shared).exists():
            (target / shared).symlink_to(venv / shared)
    for script in BIN.iterdir():
        try:
            text = script.read_text(encoding="utf-8")
        except (UnicodeDecodeError, IsADirectoryError):
            continue
        first, _, rest = text.partition("\n")
        if script.is_file() and first.startswith("#!") and "python" in first:
            copy = target / "bin" / script.name
            copy.write_text(f"#!{target / 'bin' / 'python'}\n{rest}", encoding="utf-8")
            copy.chmod(0o755)
    return target / "bin"


# --- the hub ---------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Hub:
    url: str
    password: str
    root: Path
    course_root: Path
    exchange: Path
    exam_outbox: Path  # the records service leaves finished test papers here, one folder per course
    roster: dict = field(default_factory=dict)  # role -> account name
    courses: list = field(default_factory=list)  # course ids, first is the one used by the flow
    log: Path | None = None
    mem_limit: str = ""

    def home(self, name: str) -> Path:
        import pwd

        return Path(pwd.getpwnam(name).pw_dir)

    def log_tail(self, chars: int = 8000) -> str:
        """The end of the hub's log without the proxy's noise (404s while the hub starts)."""
        if not (self.log and self.log.exists()):
            return ""
        lines, proxy = [], False
        for line in self.log.read_text(errors="replace").splitlines():
            if line[:1].isspace() or line.startswith("}"):
                if not proxy:
                    lines.append(line)
                continue
            proxy = "[ConfigProxy]" in line
            if not proxy:
                lines.append(line)
        return "\n".join(lines)[-chars:]


@pytest.fixture(scope="module")
def centre_hub(proxy_command, request):
    if os.geteuid() != 0:
        pytest.skip("需要 root：测试要建系统账号 / needs root to create system accounts")
    tag = secrets.token_hex(2)
    roster = {
        "instructor": f"dxi{tag}", "instructor2": f"dxj{tag}",
        "trainee_a": f"dxa{tag}", "trainee_b": f"dxb{tag}",
        "grader": f"dxg{tag}", "grader2": f"dxh{tag}",
        "records": f"dxr{tag}",  # runs the records service (not a person: never logs in)
    }
    courses = ["jiceng_zhili", "jiceng_zhili_2"]
    root = Path(tempfile.mkdtemp(prefix="dangxiao-hub-", dir="/tmp"))
    os.chmod(root, 0o755)  # the accounts must reach their homes, the course folders, the exchange
    hub = Hub(url="", password=secrets.token_urlsafe(12), root=root, course_root=root / "courses",
              exchange=root / "exchange", exam_outbox=root / "exam-outbox", roster=roster, courses=courses, log=root / "hub.log",
              mem_limit="768M")
    process = None
    request.addfinalizer(lambda: _teardown(hub, process))

    centre = {
        "centre": "测试培训中心",
        "admins": [],
        "courses": [
            {"id": courses[0], "title": "基层治理能力提升专题培训（测试一期）", "port": free_port(),
             "grader": roster["grader"], "instructors": [roster["instructor"]],
             "trainees": [roster["trainee_a"], roster["trainee_b"]]},
            {"id": courses[1], "title": "基层治理能力提升专题培训（测试二期）", "port": free_port(),
             "grader": roster["grader2"], "instructors": [roster["instructor2"]], "trainees": []},
        ],
    }
    courses_file = root / "courses.yaml"
    courses_file.write_text(yaml.safe_dump(centre, allow_unicode=True), encoding="utf-8")
    setup = subprocess.run(
        [sys.executable, str(HUB_DIR / "setup_centre.py"), "--courses", str(courses_file),
         "--course-root", str(hub.course_root), "--exchange", str(hub.exchange),
         "--exam-outbox", str(hub.exam_outbox), "--home-base", str(root / "home"), "--records-account", roster["records"], "--create-users"],
        capture_output=True, text=True, timeout=120)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    os.chmod(root / "home", 0o755)
    runtime = shared_runtime(root / "runtime")

    port = free_port()
    hub.url = f"http://127.0.0.1:{port}"
    environment = dict(
        os.environ,
        PATH=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
        DANGXIAO_HUB_BIN=str(runtime),
        DANGXIAO_HUB_COURSES=str(courses_file),
        DANGXIAO_HUB_DATA=str(root / "hub"),
        DANGXIAO_HUB_COURSE_ROOT=str(hub.course_root),
        DANGXIAO_EXCHANGE=str(hub.exchange),
        DANGXIAO_HUB_EXAM_OUTBOX=str(hub.exam_outbox),
        DANGXIAO_HUB_IP="127.0.0.1",
        DANGXIAO_HUB_PORT=str(port),
        DANGXIAO_HUB_API_PORT=str(free_port()),
        DANGXIAO_HUB_PROXY_API_PORT=str(free_port()),
        DANGXIAO_HUB_AUTH="shared-password",
        DANGXIAO_HUB_PASSWORD=hub.password,
        DANGXIAO_HUB_PROXY=proxy_command,
        DANGXIAO_RECORDS_ACCOUNT=roster["records"],
        DANGXIAO_HUB_MEM_LIMIT=hub.mem_limit,
        CONFIGPROXY_AUTH_TOKEN=secrets.token_hex(16),
    )
    with open(hub.log, "wb") as log:
        process = subprocess.Popen(
            [str(BIN / "jupyterhub"), "-f", str(HUB_DIR / "jupyterhub_config.py")],
            cwd=root, env=environment,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    _wait_for(lambda: _hub_up(hub.url), 300, "the hub answering", hub, process)
    yield hub


def _hub_up(url: str) -> bool:
    try:
        return requests.get(f"{url}/hub/api", timeout=5).ok
    except requests.RequestException:
        return False


def _wait_for(check, timeout: float, what: str, hub: Hub, process=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            pytest.fail(f"jupyterhub exited ({process.returncode}) before {what}:\n{hub.log_tail()}")
        value = check()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}:\n{hub.log_tail()}")


def _kill_all(processes: list[psutil.Process]) -> None:
    """Kill each process still there and wait for them (10 s at most)."""
    for process in processes:
        try:
            process.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(processes, timeout=10)


def _teardown(hub: Hub, process) -> None:
    import pwd

    children = []
    if process is not None and process.poll() is None:
        try:
            children = psutil.Process(process.pid).children(recursive=True)
        except psutil.Error:
            pass
        process.terminate()  # the hub stops the proxy, the services and the servers it spawned
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
    # whatever the hub did not stop in time (a service, the culler): the hub's children, by pid
    _kill_all(children)
    # The proxy outlives a hub that crashed while starting: stop it by the pid the hub recorded.
    proxy_pid = hub.root / "hub" / "jupyterhub-proxy.pid"
    if proxy_pid.exists():
        try:
            proxy = psutil.Process(int(proxy_pid.read_text().strip()))
            if "configurable-http-proxy" in " ".join(proxy.cmdline()):
                proxy.terminate()
                proxy.wait(timeout=10)
        except (ValueError, psutil.Error):
            pass
    uids = set()
    for name in hub.roster.values():
        try:
            uids.add(pwd.getpwnam(name).pw_uid)
        except KeyError:
            pass
    # Anything still running as a test account (a kernel orphaned by a crash) was started by this test.
    _kill_all([p for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real in uids])
    for name in hub.roster.values():
        subprocess.run(["userdel", "--remove", name], capture_output=True)
    shutil.rmtree(hub.root, ignore_errors=True)


# --- one person's session ------------------------------------------------------------------------

class HubSession:
    """Logs in like a browser (form + _xsrf cookie), then uses an API token like a script would."""

    def __init__(self, hub: Hub, name: str):
        self.hub, self.name = hub, name
        self.web = requests.Session()
        self.token = ""

    # hub
    def login(self) -> "HubSession":
        page = self.web.get(f"{self.hub.url}/hub/login", timeout=HTTP_TIMEOUT)
        page.raise_for_status()
        xsrf = self.web.cookies.get("_xsrf", path="/hub/")
        response = self.web.post(f"{self.hub.url}/hub/login?next=/hub/home", timeout=HTTP_TIMEOUT,
                                 data={"username": self.name, "password": self.hub.password, "_xsrf": xsrf})
        assert response.ok and response.url.endswith("/hub/home"), \
            f"login of {self.name} failed: {response.status_code} {response.url}"
        xsrf = self.web.cookies.get("_xsrf", path="/hub/")
        made = self.web.post(f"{self.hub.url}/hub/api/users/{self.name}/tokens", timeout=HTTP_TIMEOUT,
                             headers={"X-XSRFToken": xsrf}, json={"note": "smoke test", "expires_in": 3600})
        assert made.status_code == 201, f"token for {self.name}: {made.status_code} {made.text}"
        self.token = made.json()["token"]
        return self

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        """`path` below the proxy root, e.g. /hub/api/user or /user/<name>/api/contents."""
        headers = {"Authorization": f"token {self.token}", **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.hub.url}{path}", headers=headers,
                                timeout=kwargs.pop("timeout", HTTP_TIMEOUT), **kwargs)

    def start_server(self, timeout: float = 150) -> str:
        response = self.api("POST", f"/hub/api/users/{self.name}/server")
        assert response.status_code in (201, 202, 400), f"{response.status_code} {response.text}"

        def ready():
            model = self.api("GET", f"/hub/api/users/{self.name}").json()
            server = model.get("servers", {}).get("")
            return server["url"] if server and server.get("ready") else None

        return _wait_for(ready, timeout, f"{self.name}'s server", self.hub)

    # a Jupyter server (own server: /user/<name>/, a course service: /services/<id>/)
    def execute(self, base: str, code: str, path: str = "", timeout: float = 240) -> str:
        """Run `code` in a new kernel of the server at `base` (cwd: folder of `path`); return its
        stdout. Raise AssertionError with the traceback when the code fails."""
        failures = []
        for _ in range(3):  # a kernel that dies at start (its random port taken) gets a fresh session
            body = {"path": path or f"smoke-{uuid.uuid4().hex}.ipynb", "type": "notebook",
                    "name": "", "kernel": {"name": "python3"}}
            session = self.api("POST", f"{base}api/sessions", json=body)
            assert session.status_code == 201, f"{session.status_code} {session.text}"
            kernel_id = session.json()["kernel"]["id"]
            try:
                return asyncio.run(_run_in_kernel(self.hub.url.replace("http", "ws", 1) +
                                                  f"{base}api/kernels/{kernel_id}/channels",
                                                  self.token, code, timeout))
            except KernelNotReady as error:
                failures.append(str(error))
            finally:
                self.api("DELETE", f"{base}api/sessions/{session.json()['id']}")
        pytest.fail(f"no kernel became ready in {base}: {failures}\n{self.hub.log_tail()}")


class KernelNotReady(Exception):
    """The kernel never answered kernel_info: nothing of the code was sent, trying again is safe."""


def _message(msg_type: str, channel: str, content: dict) -> dict:
    return {"header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": "smoke",
                       "session": uuid.uuid4().hex, "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "buffers": [], "channel": channel, "content": content}


async def _run_in_kernel(url: str, token: str, code: str, timeout: float) -> str:
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    try:
        connection = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {token}"},
                                                         request_timeout=HTTP_TIMEOUT))
    except Exception as error:  # the server refuses the websocket of a dead kernel
        raise KernelNotReady(f"websocket: {error!r}") from error
    info = _message("kernel_info_request", "shell", {})
    connection.write_message(json.dumps(info))
    deadline = time.monotonic() + 90
    while True:
        remaining = deadline - time.monotonic()
        try:
            raw = await asyncio.wait_for(connection.read_message(), max(remaining, 0.1))
        except asyncio.TimeoutError:
            raw = None
        if raw is None:
            connection.close()
            raise KernelNotReady("no kernel_info_reply in 90 s")
        reply = json.loads(raw)
        if reply["msg_type"] == "kernel_info_reply" and \
                reply.get("parent_header", {}).get("msg_id") == info["header"]["msg_id"]:
            break
    request = _message("execute_request", "shell", {
        "code": code, "silent": False, "store_history": False, "user_expressions": {},
        "allow_stdin": False, "stop_on_error": True})
    msg_id = request["header"]["msg_id"]
    connection.write_message(json.dumps(request))
    stdout, error, replied, idle = [], None, False, False
    deadline = time.monotonic() + timeout
    while not (replied and idle):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"kernel did not finish in {timeout} s; output so far: {''.join(stdout)}"
        raw = await asyncio.wait_for(connection.read_message(), remaining)
        assert raw is not None, "kernel websocket closed"
        message = json.loads(raw)
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = message["msg_type"], message["content"]
        if kind == "stream":
            stdout.append(content["text"])
        elif kind == "error":
            error = "\n".join(content["traceback"])
        elif kind == "execute_reply":
            replied = True
        elif kind == "status" and content["execution_state"] == "idle":
            idle = True
    connection.close()
    assert error is None, f"kernel error:\n{error}\nstdout:\n{''.join(stdout)}"
    return "".join(stdout)


@pytest.fixture(scope="module")
def login(centre_hub):
    """login(role) -> a logged-in HubSession for the roster's account of that role (cached)."""
    sessions: dict[str, HubSession] = {}

    def _login(role: str) -> HubSession:
        if role not in sessions:
            sessions[role] = HubSession(centre_hub, centre_hub.roster[role]).login()
        return sessions[role]

    return _login
