"""`dangxiao lab` starts JupyterLab on the course with the news feed and update check off."""
from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import urllib.request

import pytest

from dangxiao.commands.lab import lab_command, lab_environment

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode("utf-8")


def test_lab_runs_offline_without_news(kit, tmp_path):
    course = kit.copy_course(tmp_path / "course")
    port, token = _free_port(), "dangxiao-test-token"
    command = lab_command(course, port=port, open_browser=False) + [f"--IdentityProvider.token={token}"]
    process = subprocess.Popen(command, cwd=course, env=lab_environment(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                _get(f"{base}/api/status?token={token}")
                break
            except OSError:
                assert process.poll() is None, "JupyterLab exited"
                assert time.monotonic() < deadline, "JupyterLab did not start"
                time.sleep(1)
        page = _get(f"{base}/lab?token={token}")
        config = json.loads(re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                                      page, re.S).group(1))
        assert config["news"] == {"disabled": True}  # the opt-in prompt is never shown
        assert config["serverRoot"] == str(course) or config.get("rootUri", "").endswith(str(course))
        assert json.loads(_get(f"{base}/lab/api/news?token={token}"))["news"] == []
        assert json.loads(_get(f"{base}/lab/api/update?token={token}"))["notification"] is None
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
