"""Two `dangxiao serve` processes on one PostgreSQL record store, as behind nginx in a centre: a trainee
signed in on one is signed in on both, studies on both, and the record has one trainee with the time of
both (heartbeats of one account are credited once, whichever process receives them)."""
from __future__ import annotations

import http.cookiejar
import json
import re
import time
import urllib.parse
import urllib.request

import pytest

pytestmark = pytest.mark.slow


class Browserless:
    """Cookies shared across ports, as a browser shares them across the ports of one host."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, url: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, str]:
        """Status and body, redirects followed (`self.url` is where it ended)."""
        request = urllib.request.Request(url, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=120) as response:
                self.url = response.geturl()
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            self.url = error.geturl()
            return error.code, error.read().decode()

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.jar if c.name == name)

    def sign_in(self, base: str, account: str, password: str) -> None:
        _, page = self.request(base + "/login")
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"username": account, "password": password, "_xsrf": xsrf, "next": "/"})
        status, page = self.request(base + "/login", body.encode())
        assert status == 200 and "退出登录" in page, page[:300]

    def beat(self, base: str, seconds_ago: float, event_id: str) -> dict:
        events = [{"id": event_id, "kind": "heartbeat", "at": time.time() - seconds_ago, "active_seconds": 30}]
        body = json.dumps({"lesson": "/voila/render/rec_lesson.ipynb", "events": events}).encode()
        status, text = self.request(base + "/dangxiao/api/events", body,
                                    {"Content-Type": "application/json", "X-XSRFToken": self.cookie("_xsrf")})
        assert status == 200, text
        return json.loads(text)


def test_two_servers_one_postgres_one_record(postgres_database, tmp_path, support):
    from dangxiao.records import open_store
    from dangxiao.records.roster import RosterRow

    courses = tmp_path / "courses"
    support.notebook(courses / "rec_lesson.ipynb", [("md", "# 两台服务器"), ("code", "print('第一课')")])
    (courses / "catalog.yaml").write_text(
        "title: 目录\nmodules:\n  - id: r1\n    title: 模块一\n    lessons:\n"
        "      - {id: r1-rec, title: 记录测试课, notebook: rec_lesson.ipynb, minutes: 2}\n", encoding="utf-8")
    store = open_store(postgres_database)
    store.import_roster([RosterRow("t001", "测试学员甲", "一班", password="trainee-pass-1")])
    first = support.server(courses, ["--db", postgres_database, "--pool-size", "0"]).start()
    second = support.server(courses, ["--db", postgres_database, "--pool-size", "0"]).start()
    try:
        trainee = Browserless()
        trainee.sign_in(first.url, "t001", "trainee-pass-1")
        status, page = trainee.request(second.url + "/")
        assert status == 200 and "测试学员甲" in page, "the sign-in on one server holds on the other"
        for server in (first, second):
            status, _ = trainee.request(server.url + "/voila/render/rec_lesson.ipynb")
            assert status == 200
        # Four beats 30 s apart, alternating between the servers: 120 s of study.
        beats = [(first, 120, "beat-0001"), (second, 90, "beat-0002"), (first, 60, "beat-0003"), (second, 30, "beat-0004")]
        assert [trainee.beat(s.url, ago, i)["kept"] for s, ago, i in beats] == [1, 1, 1, 1]
        # The same beats again, each to the other server (a page retrying after a blip): nothing added.
        assert [trainee.beat((second if s is first else first).url, ago, i)["kept"] for s, ago, i in beats] == [0] * 4
        progress = {p.lesson_id: p for p in store.progress("t001")}["r1-rec"]
        assert progress.opens == 2
        assert progress.active_seconds == pytest.approx(120, abs=1)
        # Signing out on one server signs out on both.
        trainee.request(second.url + "/logout")
        trainee.request(first.url + "/dangxiao/me")
        assert "/login" in trainee.url
    finally:
        first.stop()
        second.stop()
