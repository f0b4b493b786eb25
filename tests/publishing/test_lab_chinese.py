"""JupyterLab in simplified Chinese by default: under `dangxiao lab` (instructors, the nbgrader course) and
with the configuration the hub gives its user servers (trainees), checked in Chromium."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dangxiao.commands.lab import lab_command, lab_environment

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
TOKEN = "dangxiao-lab-zh-token"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_lab(process, base: str) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=10):
                return
        except OSError:
            assert process.poll() is None, "JupyterLab exited"
            assert time.monotonic() < deadline, "JupyterLab did not start"
            time.sleep(1)


def _stop(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _menu_labels(playwright_driver, support, base: str) -> tuple[list[str], list[str]]:
    browser = support.launch(playwright_driver)
    outside: list[str] = []
    try:
        page = browser.new_page()
        page.set_default_timeout(180_000)

        def local_only(route):
            if route.request.url.startswith((base, "data:", "blob:")):
                return route.continue_()
            outside.append(route.request.url)
            return route.abort()

        page.route("**/*", local_only)
        page.goto(f"{base}/lab?token={TOKEN}")
        page.wait_for_selector(".jp-LauncherCard")
        labels = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
    finally:
        browser.close()
    return labels, outside


def _locale_setting(base: str) -> dict:
    url = f"{base}/lab/api/settings/@jupyterlab/translation-extension:plugin?token={TOKEN}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def _chinese_menus(command: list[str], cwd: Path, env: dict, port: int, playwright_driver, support):
    """Start the server `command` describes, check its default locale is zh_CN, and return the menu bar's
    labels and any request that left the machine; the server is stopped whatever happens."""
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_lab(process, base)
        assert _locale_setting(base)["schema"]["properties"]["locale"]["default"] == "zh_CN"
        return _menu_labels(playwright_driver, support, base)
    finally:
        _stop(process)


def test_dangxiao_lab_is_chinese(playwright_driver, support, tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    port = _free_port()
    command = lab_command(course, port=port, open_browser=False) + [f"--IdentityProvider.token={TOKEN}"]
    env = lab_environment()
    env["HOME"] = str(tmp_path / "home")  # no user settings of whoever runs the suite
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path / "home" / ".jupyter")
    labels, outside = _chinese_menus(command, course, env, port, playwright_driver, support)
    assert "文件" in labels and "编辑" in labels, labels
    assert "File" not in labels
    assert outside == []


def test_the_hubs_user_servers_are_chinese(playwright_driver, support, tmp_path):
    """The hub starts each user's server with JUPYTER_CONFIG_PATH at deploy/jupyterhub/jupyter
    (jupyterhub_config.py); the same configuration here, without the hub around it."""
    home = tmp_path / "home"
    home.mkdir()
    port = _free_port()
    env = dict(lab_environment())
    env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / ".jupyter"), DANGXIAO_SERVER_ROLE="user",
               JUPYTER_CONFIG_PATH=str(ROOT / "deploy" / "jupyterhub" / "jupyter"))
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.port={port}",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={home}", f"--IdentityProvider.token={TOKEN}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    labels, outside = _chinese_menus(command, home, env, port, playwright_driver, support)
    assert "文件" in labels, labels
    assert outside == []
