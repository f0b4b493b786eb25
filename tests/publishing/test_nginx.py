"""The nginx site of docs/operations.md, run as written (ports and folders swapped for the test's) in
front of a `dangxiao serve`: compressed and cached front-end files, the kernel WebSocket, a lesson in
Chromium."""
from __future__ import annotations

import gzip
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from dangxiao.publishing.gallery import lesson_url

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (Debian nginx-light)")


def site_from_docs(root) -> str:
    text = (root / "docs" / "operations.md").read_text(encoding="utf-8")
    match = re.search(r"`/etc/nginx/sites-available/dangxiao`:\s*```nginx\n(.*?)```", text, re.S)
    assert match, "docs/operations.md has no nginx site block"
    return match.group(1)


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def nginx(fixture_server, support, tmp_path_factory):
    """nginx on a free port with the documented site; yields its URL."""
    folder = tmp_path_factory.mktemp("nginx")
    port = free_port()
    site = site_from_docs(support.root)
    for documented, here in [
        ("server 127.0.0.1:8866;", f"server 127.0.0.1:{fixture_server.port};"),
        ("listen 80;", f"listen 127.0.0.1:{port};"),
        ("deny  all;", "allow 127.0.0.1;\n    deny  all;"),
        ("/var/cache/nginx/dangxiao", str(folder / "cache")),
    ]:
        assert documented in site, f"the documented site no longer has {documented!r}"
        site = site.replace(documented, here)
    temp = "\n".join(f"{kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (folder / "nginx.conf").write_text(f"""
{"user root;" if os.geteuid() == 0 else ""}
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    access_log {folder}/access.log;
    {temp}
{site}
}}
""", encoding="utf-8")
    command = [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if fetch(url + "/")[0] == 200:
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("nginx did not answer: " + (folder / "error.log").read_text(errors="replace"))
    yield url
    process.terminate()
    process.wait(timeout=20)


def _static_url(nginx_url: str) -> str:
    status, headers, body = fetch(nginx_url + lesson_url("/", "t2_plain.ipynb"))
    assert status == 200 and headers.get("content-encoding") == "gzip"
    html = gzip.decompress(body).decode()
    return re.search(r'"fullStaticUrl": "([^"]+)"', html).group(1)


def test_nginx_serves_front_end_files_compressed_and_from_its_cache(nginx):
    script = nginx + _static_url(nginx) + "/voila.js"
    status, headers, body = fetch(script)
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert "immutable" in headers["cache-control"]
    assert gzip.decompress(body).startswith(b"var _JUPYTERLAB")
    statuses = set()
    for _ in range(3):
        status, headers, _ = fetch(script)
        statuses.add(headers.get("x-cache-status"))
    assert "HIT" in statuses, statuses
    # A revalidated (unversioned) file is never served from nginx's cache.
    status, headers, _ = fetch(nginx + "/voila/static/voila.js")
    assert status == 200 and headers["cache-control"] == "no-cache"
    assert headers.get("x-cache-status") != "HIT"


def test_a_lesson_works_through_nginx(nginx, recorded_page):
    """The page streams through, its kernel WebSocket connects, a quiz answer round-trips."""
    page = recorded_page.page
    page.goto(nginx + lesson_url("/", "t1_quiz.ipynb"), wait_until="commit")
    quiz = page.locator(".dangxiao-quiz").first
    quiz.wait_for(state="visible", timeout=120_000)
    quiz.get_by_label("群众诉求渠道").check()
    quiz.get_by_role("button", name=re.compile("提交")).click()
    feedback = quiz.locator(".widget-html").last
    page.wait_for_function("el => el.innerText.includes('热线接收群众诉求')", arg=feedback.element_handle(),
                           timeout=30_000)
    assert recorded_page.external_requests == []
    assert recorded_page.errors == []
