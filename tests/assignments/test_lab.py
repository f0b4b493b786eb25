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

pytestmark = [pytest.mark.slow, pytest.mark.browser]
NEWS_PROMPT = "Would you like to get notified about official Jupyter news?"


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
        # the page asks about news only while fetchNews is "none": the shipped default is "false"
        settings = json.loads(_get(
            f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification?token={token}"))
        properties = settings["schema"]["properties"]
        assert properties["fetchNews"]["default"] == "false"
        assert properties["checkForUpdates"]["default"] is False
        _check_page_in_chromium(f"{base}/lab?token={token}", base)
        assert json.loads(_get(f"{base}/lab/api/update?token={token}"))["notification"] is None
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _check_page_in_chromium(url: str, base: str) -> None:
    """JupyterLab loads with every request local and never shows the news opt-in prompt."""
    from playwright.sync_api import sync_playwright

    outside = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", timeout=120_000, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"])
        try:
            page = browser.new_page()
            page.set_default_timeout(180_000)

            def local_only(route):
                if route.request.url.startswith((base, "data:", "blob:")):
                    return route.continue_()
                outside.append(route.request.url)
                return route.abort()

            page.route("**/*", local_only)
            page.goto(url)
            page.wait_for_selector(".jp-LauncherCard")  # the app is restored and the launcher shown
            # the prompt is emitted right after restore; give it time to appear if it were coming
            page.wait_for_timeout(3000)
            shown = page.evaluate("() => document.body.innerText")
            notifications = page.evaluate(
                "async () => (await (await fetch('/lab/api/settings/@jupyterlab/apputils-extension:notification',"
                " {headers: {'Authorization': 'token ' + new URLSearchParams(location.search).get('token')}})).json())")
        finally:
            browser.close()
    assert NEWS_PROMPT not in shown
    assert notifications["schema"]["properties"]["fetchNews"]["default"] == "false"
    assert outside == []
