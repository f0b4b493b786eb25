"""The learning record end to end, in Chromium: two trainees from an imported roster, one lesson.

The first studies (heartbeats on a fast-forwarded page clock), answers the quiz wrong then right, types a
思考题 answer, reloads (the text is back), the server restarts (still signed in, everything kept), and
我的学习 shows the lesson completed with its minutes, 学时, the note and the 错题本 entry. The second
trainee sees none of it by any address, and cannot reach the first one's kernel. The instructor's class
page and `dangxiao report` show it. Run on SQLite and, where the PostgreSQL fixture is available, on a
real PostgreSQL server.
"""
from __future__ import annotations

import asyncio
import csv
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LESSON = [
    ("md", "# 记录测试课\n\n这是一节用来测试学习记录的课。"),
    ("code",
     "from dangxiao.widgets import Quiz, Reflection\n"
     "Quiz.inline(id='rec-q1', type='single', stem='网格员首先要做什么？',\n"
     "            options=['走访居民', '填写报表'], answer='走访居民',\n"
     "            explanation='先摸清情况。', source='测试', reveal=True)"),
    ("code", "Reflection('rec-r1', '你所在社区最需要解决的一件事是什么？')"),
    ("md", "本课结束。"),
]
NOTE = "我们社区最需要解决的是老旧小区加装电梯的协商。"


def _cli(*args: str, env=None) -> str:
    result = subprocess.run([sys.executable, "-m", "dangxiao", *args], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(params=["sqlite", "postgresql"])
def records_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'records.sqlite'}"
    return request.getfixturevalue("postgres_database")


@pytest.fixture
def site(records_url, tmp_path, support):
    courses = tmp_path / "courses"
    support.notebook(courses / "rec_lesson.ipynb", LESSON)
    (courses / "catalog.yaml").write_text(
        "title: 记录测试目录\nmodules:\n  - id: r1\n    title: 模块一　记录\n    lessons:\n"
        "      - {id: r1-rec, title: 记录测试课, notebook: rec_lesson.ipynb, minutes: 1}\n", encoding="utf-8")
    roster = tmp_path / "名单.csv"
    roster.write_text("学号,姓名,班级\nt001,测试学员甲,一班\nt002,测试学员乙,一班\n", encoding="utf-8-sig")
    sheet = tmp_path / "账号单"
    _cli("roster", "--db", records_url, "import", str(roster), "--sheet", str(sheet))
    _cli("roster", "--db", records_url, "add-staff", "teach", "--name", "测试教员", "--password", "teach-pass-1")
    with open(sheet.with_suffix(".csv"), encoding="utf-8-sig") as handle:
        passwords = {row["学号"]: row["初始密码"] for row in csv.DictReader(handle)}
    passwords["teach"] = "teach-pass-1"
    server = support.server(courses, ["--db", records_url, "--pool-size", "1"]).start()
    yield server, passwords, courses, records_url
    server.stop()


def _sign_in(page, url: str, account: str, password: str) -> None:
    page.goto(url + "/")
    page.wait_for_url(re.compile(r"/login"))
    page.fill("input[name=username]", account)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")


def _open_lesson(page, url: str) -> None:
    page.goto(url + "/voila/render/rec_lesson.ipynb")
    page.wait_for_selector(".dangxiao-reflection textarea", timeout=90_000)
    page.wait_for_selector("#dx-account .dx-who", timeout=30_000)


def _kernel_id(page) -> str:
    return json.loads(page.locator("#jupyter-config-data").text_content())["kernelId"]


def _answer(page, option: str) -> None:
    page.get_by_role("radio", name=option).check()
    page.get_by_role("button", name="提交").click()


def test_trainee_record_survives_reload_and_restart_and_stays_private(site, browser, support, tmp_path, monkeypatch):
    server, passwords, courses, records_url = site
    # nbgrader runs `alembic` from PATH when it makes the gradebook the report reads.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    first = browser.new_context(locale="zh-CN")
    page = first.new_page()
    # The page clock starts ten minutes in the past, so fast-forwarded heartbeats carry times the server
    # believes (it never credits a beat dated after its own clock).
    page.clock.install(time=time.time() - 600)
    _sign_in(page, server.url, "t001", passwords["t001"])
    assert "测试学员甲" in page.text_content(".dx-account")
    _open_lesson(page, server.url)
    assert "测试学员甲（t001）" in page.text_content("#dx-account")
    kernel_a = _kernel_id(page)

    _answer(page, "填写报表")
    page.wait_for_selector("text=回答有误")
    _answer(page, "走访居民")
    page.wait_for_selector("text=回答正确")
    page.fill(".dangxiao-reflection textarea", NOTE)
    page.wait_for_selector("text=已自动保存到学习记录")
    for _ in range(3):  # three heartbeats of 30 s, each with input just before it
        page.mouse.move(100, 200)
        page.clock.run_for(31_000)
    page.wait_for_function("() => !localStorage.getItem('dangxiao-events:t001') || "
                           "JSON.parse(localStorage.getItem('dangxiao-events:t001')).length === 0", timeout=30_000)
    time.sleep(2)  # the kernel's debounced note

    page.reload()
    _open_lesson(page, server.url)
    page.wait_for_function(f"() => document.querySelector('.dangxiao-reflection textarea').value === {json.dumps(NOTE)}",
                           timeout=30_000)
    # the breadcrumb shows the trainee's progress in the module: this lesson is now completed
    page.wait_for_selector("#dx-module-progress:not([hidden])")
    assert page.text_content("#dx-module-progress") == "本模块已完成 1 / 1 课"

    server.stop()
    server.start()
    page.goto(server.url + "/dangxiao/me")
    assert "/login" not in page.url, "a server restart must not sign trainees out"
    row = page.locator("tr[data-lesson-id=r1-rec]")
    minutes = float(row.locator(".dx-lesson-minutes").text_content())
    assert minutes >= 0.8, f"{minutes} active minutes recorded"
    assert row.locator(".dx-lesson-done").text_content() == "已完成"
    assert float(page.text_content("#dx-hours")) > 0
    assert NOTE in page.text_content("#dx-notes")
    wrong = page.locator("#dx-wrong tr[data-question-id=rec-q1]")
    assert "填写报表" in wrong.text_content() and "已改对" in wrong.text_content()

    # The second trainee: nothing of the first, by any address.
    second = browser.new_context(locale="zh-CN")
    other = second.new_page()
    _sign_in(other, server.url, "t002", passwords["t002"])
    other.goto(server.url + "/dangxiao/me")
    text = other.text_content("body")
    assert NOTE not in text and "填写报表" not in text and "测试学员甲" not in text
    for path in ("/dangxiao/class", "/dangxiao/class/t001"):
        assert other.request.get(server.url + path).status == 403
    notes_docx = other.request.get(server.url + "/dangxiao/me/notes.docx").body()
    assert NOTE.encode() not in notes_docx
    assert other.request.get(server.url + f"/api/kernels/{kernel_a}").status in (403, 404)
    probe = other.evaluate("""(kernel) => new Promise((resolve) => {
        const ws = new WebSocket(location.origin.replace('http', 'ws') + '/api/kernels/' + kernel + '/channels');
        ws.onopen = () => resolve('open'); ws.onerror = () => resolve('refused'); ws.onclose = () => resolve('refused');
    })""", kernel_a)
    assert probe == "refused"
    second.close()

    # The instructor sees the class and the trainee's notes.
    staff = browser.new_context(locale="zh-CN")
    teacher = staff.new_page()
    _sign_in(teacher, server.url, "teach", passwords["teach"])
    teacher.goto(server.url + "/dangxiao/class")
    trainee_row = teacher.locator("#dx-trainees tr[data-trainee-id=t001]")
    assert "测试学员甲" in trainee_row.text_content()
    assert "测试学员乙" in teacher.text_content("#dx-not-started")
    teacher.goto(server.url + "/dangxiao/class/t001")
    assert NOTE in teacher.text_content("body")
    staff.close()
    first.close()

    # The centre's report: 学时 and the study record from the same store.
    out = tmp_path / "report"
    course = _graded_course(tmp_path)
    _cli("report", "--course", str(course), "--courses", str(courses), "--records", records_url, "--csv", str(out))
    import pandas as pd

    study = pd.read_csv(out / "study.csv", encoding="utf-8-sig", dtype={"学号": str})
    mine = study[(study["学号"] == "t001") & (study["lesson_id"] == "r1-rec")].iloc[0]
    assert bool(mine["已完成"]) and mine["学习时长（分钟）"] >= 0.8
    credit = pd.read_csv(out / "credit.csv", encoding="utf-8-sig", dtype={"学号": str}).set_index("学号")
    assert credit.loc["t001", "课程学时"] > 0 and credit.loc["t002", "课程学时"] == 0
    assert (credit["来源"] == "学习记录").all()


def _pool_kernels(server) -> list[str]:
    return re.findall(r"Kernel started: ([0-9a-f-]{36})", server.log())


def _graded_course(tmp_path: Path) -> Path:
    """A gradebook with one assignment and one submission, as `dangxiao report` needs one."""
    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    course.mkdir()
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        gradebook.add_assignment("a01")
        gradebook.add_student("t001", first_name="", last_name="测试学员甲")
        notebook = gradebook.add_notebook("a01", "a01")
        cell = gradebook.add_grade_cell("q1", "a01", "a01", max_score=1, cell_type="code")
        submission = gradebook.add_submission("a01", "t001")
        grade = gradebook.find_grade("q1", "a01", "a01", "t001")
        grade.auto_score = 1
        gradebook.db.commit()
        del notebook, cell, submission
    return course


def test_a_site_with_a_roster_refuses_everything_to_strangers(site, support):
    server, *_ = site
    status, _ = support.get(server.url + "/voila/render/rec_lesson.ipynb")
    assert status == 302
    request = urllib.request.Request(server.url + "/dangxiao/api/events", data=b"{}", method="POST")
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("events accepted without sign-in")
    except urllib.error.HTTPError as error:
        assert error.code == 403
    for path in ("/dangxiao/me", "/dangxiao/class", "/dangxiao/me/notes.docx", "/dangxiao/api/me"):
        status, _ = support.get(server.url + path)
        assert status in (302, 403), path
    kernel = next(iter(_pool_kernels(server)), None)
    if kernel:
        status, _ = support.get(server.url + f"/api/kernels/{kernel}")
        assert status == 403
        url = server.url.replace("http", "ws") + f"/api/kernels/{kernel}/channels"
        # In a thread of its own: Playwright's sync API holds this thread's event loop.
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(asyncio.run, _websocket(url)).result() == "refused"


async def _websocket(url: str) -> str:
    from tornado.websocket import websocket_connect

    try:
        connection = await websocket_connect(url)
    except Exception:  # noqa: BLE001 -- any refusal (403 on the upgrade) is the expected outcome
        return "refused"
    connection.close()
    return "open"


def test_a_kernel_started_for_the_page_belongs_to_its_trainee(tmp_path, support, browser):
    """Without a pool, Voila starts the page's kernel during the request: it must still be the trainee's
    (its widgets answer, the attempt reaches the record). The hand-over does not depend on the database."""
    records_url = f"sqlite:///{tmp_path / 'records.sqlite'}"
    courses = tmp_path / "courses"
    support.notebook(courses / "rec_lesson.ipynb", LESSON)
    (courses / "catalog.yaml").write_text(
        "title: 目录\nmodules:\n  - id: r1\n    title: 模块一\n    lessons:\n"
        "      - {id: r1-rec, title: 记录测试课, notebook: rec_lesson.ipynb, minutes: 1}\n", encoding="utf-8")
    _cli("roster", "--db", records_url, "add-staff", "teach", "--name", "测试教员", "--password", "teach-pass-1")
    from dangxiao.records import open_store
    from dangxiao.records.roster import RosterRow

    open_store(records_url).import_roster([RosterRow("t009", "测试学员丙", "二班", password="trainee-pass-9")])
    server = support.server(courses, ["--db", records_url, "--pool-size", "0"]).start()
    try:
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        _sign_in(page, server.url, "t009", "trainee-pass-9")
        _open_lesson(page, server.url)
        _answer(page, "填写报表")
        page.wait_for_selector("text=回答有误")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not open_store(records_url).attempts("t009"):
            time.sleep(0.5)
        attempts = open_store(records_url).attempts("t009")
        assert [(a.question_id, a.answer, a.correct, a.first) for a in attempts] == [("rec-q1", "填写报表", False, True)]
        context.close()
    finally:
        server.stop()


def test_an_open_site_says_it_records_nothing(fixture_server, recorded_page):
    assert "不记录任何学习情况" in fixture_server.log()
    page = recorded_page.page
    page.goto(fixture_server.url + "/")
    assert "学习情况不会被保存" in page.text_content(".dx-not-recording")
    page.goto(fixture_server.url + "/voila/render/t2_plain.ipynb")
    page.wait_for_selector("#dx-account .dx-not-recording", timeout=90_000)
    assert page.locator("a.dx-logout").count() == 0


def test_demo_site_signs_in_with_the_printed_sample_accounts(support, browser):
    server = support.server(support.root / "courses", ["--demo", "--pool-size", "0"]).start()
    try:
        accounts = dict(re.findall(r"(?:学员|教员) (\S+)  密码 (\S+)", server.log()))
        assert len(accounts) == 4 and "jiaoyuan" in accounts
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        trainee = next(a for a in accounts if a != "jiaoyuan")
        _sign_in(page, server.url, trainee, accounts[trainee])
        assert "模拟学员" in page.text_content(".dx-account")
        page.goto(server.url + "/dangxiao/class")
        assert "403" in page.title() or page.locator("#dx-trainees").count() == 0
        page.goto(server.url + "/logout")
        _sign_in(page, server.url, "jiaoyuan", accounts["jiaoyuan"])
        page.goto(server.url + "/dangxiao/class")
        assert page.locator("#dx-trainees tr[data-trainee-id]").count() == 3
        context.close()
    finally:
        server.stop()
