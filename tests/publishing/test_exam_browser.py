"""The 结业测试 in the published site, in Chromium: two trainees from a roster take `final` (and a one-minute
test for the time-up path). Their papers match the blueprint's mix and differ; a reload keeps the
answers; nothing the page received before 交卷 holds a key, an explanation or the other paper; 交卷 asks
first; time-up submits by itself and a late answer is refused; the submissions graded by plain
`nbgrader autograde` earn what the key gives; a phone (360 px, touch) can answer without scrolling
sideways.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUICK = """\
id: quick
title: 一分钟小测（测试）
mode: exam
points: {single: 1, truefalse: 1}
draws:
  - {module: m1, type: single, count: 2}
  - {module: m2, type: truefalse, count: 2}
time_limit: 1
attempts: 1
pass_mark: 60
show_results: immediately
"""


def _cli(*args: str, cwd=None) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    result = subprocess.run([sys.executable, "-m", "dangxiao", *args], capture_output=True, text=True, env=env, cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def exam_site(tmp_path_factory, support):
    root = tmp_path_factory.mktemp("exam-site")
    course = root / "course"
    shipped = support.root / "assignments"
    (course / "source").mkdir(parents=True)
    shutil.copytree(shipped / "assessments", course / "assessments")
    shutil.copytree(shipped / "source" / "final", course / "source" / "final")
    shutil.copy(shipped / "nbgrader_config.py", course / "nbgrader_config.py")
    (course / "assessments" / "quick.yaml").write_text(QUICK, encoding="utf-8")
    _cli("exam", "build", "quick", "--blueprints", str(course / "assessments"), "--course", str(course))
    for assessment in ("final", "quick"):
        _cli("release", assessment, "--no-exchange", "--course", str(course))
    db = f"sqlite:///{root / 'records.sqlite'}"
    from dangxiao.records import open_store
    from dangxiao.records.roster import RosterRow

    open_store(db).import_roster([RosterRow("t001", "测试学员甲", "一班", password="trainee-pass-1"),
                                  RosterRow("t002", "测试学员乙", "一班", password="trainee-pass-2")])
    open_store(db).add_staff("teach", "测试教员", "instructor", "teach-pass-1")
    server = support.server(support.root / "courses", ["--db", db, "--course", str(course), "--pool-size", "0"]).start()
    yield server, course, db
    server.stop()


def _sign_in(page, url: str, account: str, password: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=username]", account)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")


def _received(page) -> list[tuple[str, str]]:
    """(address, body) of everything the page receives."""
    bodies: list[tuple[str, str]] = []

    def keep(response):
        try:
            bodies.append((response.url, response.text()))
        except Exception:  # noqa: BLE001 -- redirects and aborted loads have no body
            pass

    page.on("response", keep)
    return bodies


def _start(page, url: str, assessment: str) -> dict:
    page.goto(f"{url}/exam/{assessment}")
    page.click("#dx-start")
    page.wait_for_selector(".dx-item")
    return page.evaluate(f"() => fetch('/dangxiao/api/exam/{assessment}').then(r => r.json())")


def _choose(page, item_id: str, index: int = 0, tap: bool = False) -> None:
    choice = page.locator(f"article[data-item-id='{item_id}'] .dx-choice").nth(index)
    choice.tap() if tap else choice.click()
    page.wait_for_selector(f"[data-saved-for='{item_id}']:has-text('已保存')")


def test_two_trainees_take_the_final(exam_site, browser, support):
    server, course, db = exam_site
    from dangxiao.assessments import assessment_bank, load_blueprint, score_paper
    from dangxiao.questions import load_bank
    from dangxiao.records import open_store
    from dangxiao.records.exams import answers_of, attempts_of

    bank = load_bank()
    final = load_blueprint(course / "assessments" / "final.yaml", bank=bank)
    first = browser.new_context(locale="zh-CN")
    phone = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True)
    page_a, page_b = first.new_page(), phone.new_page()
    bodies_a = _received(page_a)
    _sign_in(page_a, server.url, "t001", "trainee-pass-1")
    _sign_in(page_b, server.url, "t002", "trainee-pass-2")
    state_a = _start(page_a, server.url, "final")
    state_b = _start(page_b, server.url, "final")
    items_a = [item["id"] for item in state_a["paper"]["items"]]
    items_b = [item["id"] for item in state_b["paper"]["items"]]
    assert len(items_a) == len(items_b) == 30
    assert items_a != items_b, "two trainees, two papers"

    def mix(ids):
        counts = {}
        for qid in ids:
            key = (bank[qid].module, bank[qid].type)
            counts[key] = counts.get(key, 0) + 1
        return counts

    expected = {(d.module[0], d.type): d.count for d in final.draws}
    assert mix(items_a) == mix(items_b) == expected
    assert page_a.text_content("#dx-progress") == "已答 0 / 30"

    # Answers are kept as given: three on the desktop, one by touch on the phone.
    for item_id in items_a[:3]:
        _choose(page_a, item_id)
    assert page_a.text_content("#dx-progress") == "已答 3 / 30"
    _choose(page_b, items_b[0], tap=True)
    assert page_b.evaluate("() => document.documentElement.scrollWidth") <= 360
    box = page_b.locator(f"article[data-item-id='{items_b[0]}'] .dx-choice").first.bounding_box()
    assert box["height"] >= 40, "touch targets of at least 40 px"
    page_a.reload()
    page_a.wait_for_selector(".dx-item")
    assert page_a.text_content("#dx-progress") == "已答 3 / 30"
    for item_id in items_a[:3]:
        assert page_a.locator(f"article[data-item-id='{item_id}'] input:checked").count() >= 1

    # Nothing received before 交卷 carries a key, an explanation or the other trainee's paper.
    received = "\n".join(body for _, body in bodies_a)
    for item_id in items_a:
        assert bank[item_id].explanation not in received
    for item_id in set(items_b) - set(items_a):
        assert item_id not in received and bank[item_id].stem not in received
    papers = [body for url, body in bodies_a if re.search(r"/dangxiao/api/exam/final(/start)?$", url)]
    assert papers and not any(re.search(r'"(answer|explanation|source)":', body) for body in papers)

    # 交卷 asks first; then the paper is closed and a late answer is refused.
    page_a.click("#dx-submit")
    assert "27 题未作答" in page_a.text_content("#dx-confirm-text")
    page_a.click("#dx-confirm-no")
    assert page_a.locator(".dx-item").count() == 30
    page_a.click("#dx-submit")
    page_a.click("#dx-confirm-yes")
    page_a.wait_for_selector("#dx-result")
    assert "成绩由教员统一发布" in page_a.text_content("#dx-result")  # final: results on release
    late = page_a.request.post(server.url + "/dangxiao/api/exam/final/answer",
                               data=json.dumps({"attempt_id": state_a["attempt_id"], "item_id": items_a[5],
                                                "answer": state_a["paper"]["items"][5]["options"][0]}),
                               headers={"Content-Type": "application/json", "X-XSRFToken": _xsrf(first)})
    assert late.status == 409
    # another trainee's attempt is not reachable
    other = page_b.request.post(server.url + "/dangxiao/api/exam/final/submit",
                                data=json.dumps({"attempt_id": state_a["attempt_id"]}),
                                headers={"Content-Type": "application/json", "X-XSRFToken": _xsrf(phone)})
    assert other.status == 404
    page_b.click("#dx-submit")
    page_b.click("#dx-confirm-yes")
    page_b.wait_for_selector("#dx-result")

    # Graded by stock nbgrader in the course: what the key gives each of them.
    submitted = sorted(p.name for p in (course / "submitted").iterdir())
    assert submitted == ["t001", "t002"]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    subprocess.run(["nbgrader", "autograde", "final"], cwd=course, env=env, check=True, capture_output=True)
    from nbgrader.api import Gradebook

    store = open_store(db)
    full = assessment_bank(final, bank)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for trainee in ("t001", "t002"):
            attempt = attempts_of(store, trainee, "final")[0]
            expected_score = score_paper(attempt.paper, full, answers_of(store, attempt.id)).total
            assert gradebook.find_submission("final", trainee).score == pytest.approx(expected_score)
            assert attempt.result["total"] == pytest.approx(expected_score)
    first.close()
    phone.close()

    # The centre's report: 测验成绩, the 结业 class list and one transcript per trainee.
    out, transcripts = course.parent / "report", course.parent / "transcripts"
    _cli("report", "--course", str(course), "--courses", str(support.root / "courses"), "--records", db,
         "--csv", str(out), "--transcripts", str(transcripts))
    import pandas as pd
    from docx import Document

    graduation = pd.read_csv(out / "graduation.csv", encoding="utf-8-sig", dtype={"学号": str}).set_index("学号")
    scores = pd.read_csv(out / "exams.csv", encoding="utf-8-sig", dtype={"学号": str}).set_index("学号")
    for trainee in ("t001", "t002"):
        attempt = attempts_of(store, trainee, "final")[0]
        assert scores.loc[trainee, "得分"] == pytest.approx(attempt.result["total"])
        assert graduation.loc[trainee, "结业"] == ("合格" if attempt.result["passed"] else "不合格")
        text = "\n".join(p.text for p in Document(str(next(transcripts.glob(f"{trainee}-*.docx")))).paragraphs)
        assert f"{attempt.result['total']:g} / 100 分" in text and "合计学时" in text

    # The instructor's class page: the final's two papers, and 公布成绩; then the trainee sees her score.
    teacher = browser.new_context(locale="zh-CN")
    page_t = teacher.new_page()
    _sign_in(page_t, server.url, "teach", "teach-pass-1")
    page_t.goto(server.url + "/dangxiao/class")
    row = page_t.locator("#dx-class-exams tr[data-exam-id=final]")
    assert [c.strip() for c in row.locator("td").all_text_contents()[1:3]] == ["2", "0"]
    page_t.once("dialog", lambda dialog: dialog.accept())  # 确认公布？
    row.get_by_role("button", name="公布成绩").click()
    page_t.wait_for_url(server.url + "/dangxiao/class")
    assert "已公布" in page_t.locator("#dx-class-exams tr[data-exam-id=final]").text_content()
    teacher.close()
    again = browser.new_context(locale="zh-CN")
    page_a = again.new_page()
    _sign_in(page_a, server.url, "t001", "trainee-pass-1")
    page_a.goto(f"{server.url}/exam/final")
    page_a.wait_for_selector("#dx-result")
    attempt = attempts_of(store, "t001", "final")[0]
    assert f"{attempt.result['total']:g}" in page_a.text_content("#dx-score")
    assert "成绩由教员统一发布" not in page_a.text_content("#dx-result")
    again.close()


def _xsrf(context) -> str:
    return next(c["value"] for c in context.cookies() if c["name"] == "_xsrf")


def test_time_up_submits_by_itself_and_refuses_late_answers(exam_site, browser):
    server, course, db = exam_site
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    _sign_in(page, server.url, "t001", "trainee-pass-1")
    state = _start(page, server.url, "quick")
    assert re.search(r"剩余 [01] 分", page.text_content("#dx-countdown"))
    first_item = state["paper"]["items"][0]["id"]
    _choose(page, first_item)
    page.wait_for_selector("#dx-result", timeout=90_000)  # the countdown reaches zero and submits
    assert "时间到，已自动交卷" in page.text_content("#dx-result")
    assert "得分" in page.text_content("#dx-score")  # quick shows results at once, with explanations
    late = page.request.post(server.url + "/dangxiao/api/exam/quick/answer",
                             data=json.dumps({"attempt_id": state["attempt_id"], "item_id": first_item,
                                              "answer": state["paper"]["items"][0]["options"][1]}),
                             headers={"Content-Type": "application/json", "X-XSRFToken": _xsrf(context)})
    assert late.status == 409
    assert (course / "submitted" / "t001" / "quick" / "quick.ipynb").is_file()
    context.close()
