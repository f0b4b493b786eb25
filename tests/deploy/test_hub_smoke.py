"""Smoke test of deploy/jupyterhub: a real JupyterHub, real system accounts, nbgrader's real exchange.

One course flow, every step through the hub (login, tokens, servers, the course's formgrader service):
the instructor releases a02 (`dangxiao release` in the course's formgrader service), two trainees
fetch it through their own server's nbgrader assignment-list API, write their code into the fetched
notebook (the contents API, as JupyterLab saves it) and submit; the instructor collects (formgrader API) and autogrades
(`dangxiao autograde` in the service). Then: the gradebook holds both graded submissions; one trainee
cannot see the other's submission; each course's formgrader is closed to everyone but its graders;
lessons render with Voila at /user/<name>/voila/; the home page shows the Chinese course titles.
The learning record: a trainee's lesson time, quiz answer and note reach the hub's records service
through her own server, and the centre's report and her 我的学习 show them; nobody else's token reads them.

Run it alone: `pytest -m hub`.
"""
from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.hub, pytest.mark.slow, pytest.mark.timeout(900)]

ASSIGNMENT = "a02"  # a code assignment: a01 is a test taken on the site (assessments/a01.yaml)
NOTEBOOK = "a02_wuhan_shuzi.ipynb"
SOURCE = Path(__file__).resolve().parents[2] / "assignments" / "source" / ASSIGNMENT / NOTEBOOK
# Trainee A writes the instructor's solution into every answer cell; trainee B leaves q4 (2 points) as
# released, so its test fails and q1–q3 still count.
LEFT_AS_RELEASED = {"trainee_a": set(), "trainee_b": {"q4_answer"}}
EXPECTED_SCORE = {"trainee_a": 8.0, "trainee_b": 6.0}
REPO_COURSES = Path(__file__).resolve().parents[2] / "courses"


def ok_json(response, hub):
    """The JSON body of a 200 response; otherwise fail with the hub's log (it holds the servers' logs)."""
    assert response.status_code == 200, \
        f"{response.request.method} {response.url}: {response.status_code} {response.text[:300]}\n{hub.log_tail()}"
    return response.json()


def solutions() -> dict[str, str]:
    """grade_id -> the source's solution cell (markers included: a submission may keep them)."""
    source = json.loads(SOURCE.read_text(encoding="utf-8"))
    return {cell["metadata"]["nbgrader"]["grade_id"]: "".join(cell["source"]) for cell in source["cells"]
            if cell["metadata"].get("nbgrader", {}).get("solution")}


def render_lesson(session, path: str, attempts: int = 2, deadline_s: float = 240) -> str:
    """The Voila page at `path`, read with a wall-clock deadline (a page whose kernel dies keeps the
    connection open, Voila #1458-like). A second attempt covers a kernel that died at start because
    another process on this busy machine took its random port (ZMQError: Address already in use)."""
    import time

    failures = []
    for _ in range(attempts):
        deadline = time.monotonic() + deadline_s
        try:
            with session.api("GET", path, stream=True, timeout=(30, 60)) as response:
                chunks = []
                for chunk in response.iter_content(chunk_size=None):
                    chunks.append(chunk)
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"page not finished in {deadline_s} s")
                text = b"".join(chunks).decode("utf-8")
            if response.status_code == 200 and "</html>" in text:
                return text
            failures.append(f"{response.status_code}: {text[-300:]}")
        except (OSError, TimeoutError) as error:  # requests' errors are OSErrors
            failures.append(repr(error))
    pytest.fail(f"Voila page {path} failed {attempts} times: {failures}")


@contextlib.contextmanager
def signed_in_page(hub, name: str, prepare=None, **page_options):
    """A headless Chromium page signed in through the hub's login form as `name`; `prepare(page)` runs
    before the sign-in (a route, a fake clock)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"])
        try:
            page = browser.new_page(**page_options)
            page.set_default_timeout(120_000)
            if prepare is not None:
                prepare(page)
            page.goto(f"{hub.url}/hub/login")
            page.fill("#username_input", name)
            page.fill("#password_input", hub.password)
            page.click("#login_submit")
            page.wait_for_load_state()
            yield page
        finally:
            browser.close()


def run_command(session, base: str, command: list[str], cwd: str) -> dict:
    """Run a command in a kernel of the server at `base` (as that server's account); return its result."""
    code = (
        "import json, subprocess\n"
        f"r = subprocess.run({command!r}, cwd={cwd!r}, capture_output=True, text=True)\n"
        "print(json.dumps({'rc': r.returncode, 'out': r.stdout[-4000:], 'err': r.stderr[-4000:]}))\n"
    )
    return json.loads(session.execute(base, code).strip().splitlines()[-1])


@pytest.fixture(scope="module")
def graded(centre_hub, login):
    """The whole flow; returns what the checks need."""
    hub = centre_hub
    course = hub.courses[0]
    service = f"/services/{course}/"
    course_dir = str(hub.course_root / course)
    instructor = login("instructor")

    # 1. the instructor releases a02 from the course's formgrader service
    status = instructor.api("GET", f"{service}formgrader/api/status")
    assert status.status_code == 200, f"formgrader: {status.status_code} {status.text[:300]}"
    released = run_command(instructor, service, ["dangxiao", "release", ASSIGNMENT], course_dir)
    assert released["rc"] == 0, released
    listing = ok_json(instructor.api("GET", f"{service}formgrader/api/assignment/{ASSIGNMENT}"), hub)
    assert listing["status"] == "released", listing

    # 2. two trainees fetch, answer and submit through their own servers
    trainees = {}
    for role in ("trainee_a", "trainee_b"):
        trainee = login(role)
        base = f"/user/{trainee.name}/"
        assert trainee.start_server().rstrip("/") == base.rstrip("/")
        offered = ok_json(trainee.api("GET", f"{base}assignments", params={"course_id": course}), hub)
        assert offered["success"], offered
        assert [(a["course_id"], a["assignment_id"], a["status"]) for a in offered["value"]] == \
            [(course, ASSIGNMENT, "released")]
        fetched = ok_json(trainee.api("POST", f"{base}assignments/fetch",
                                      data={"course_id": course, "assignment_id": ASSIGNMENT}), hub)
        assert fetched["success"], fetched
        path = f"{base}api/contents/{course}/{ASSIGNMENT}/{NOTEBOOK}"
        model = ok_json(trainee.api("GET", path, params={"content": "1"}), hub)
        answers = {k: v for k, v in solutions().items() if k not in LEFT_AS_RELEASED[role]}
        for cell in model["content"]["cells"]:
            grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell["source"] = answers[grade_id]
        saved = trainee.api("PUT", path, json={"type": "notebook", "format": "json", "content": model["content"]})
        assert saved.status_code == 200, f"save: {saved.status_code} {saved.text[:300]}"
        submitted = ok_json(trainee.api("POST", f"{base}assignments/submit",
                                        data={"course_id": course, "assignment_id": ASSIGNMENT}), hub)
        assert submitted["success"], submitted
        trainees[role] = trainee

    # 3. the instructor collects (formgrader API) and autogrades (dangxiao autograde, same service)
    collected = ok_json(instructor.api("POST", f"{service}formgrader/api/assignment/{ASSIGNMENT}/collect"), hub)
    assert collected["success"], collected
    autograded = run_command(instructor, service, ["dangxiao", "autograde", ASSIGNMENT, "-j", "2", "--course", course_dir], course_dir)
    return {"course": course, "course_dir": course_dir, "trainees": trainees, "instructor": instructor,
            "autograde": autograded}


def test_both_submissions_graded_in_gradebook(centre_hub, graded):
    from nbgrader.api import Gradebook

    assert graded["autograde"]["rc"] == 0, graded["autograde"]
    database = f"sqlite:///{graded['course_dir']}/gradebook.db"
    with Gradebook(database, course_id=graded["course"]) as gradebook:
        for role, expected in EXPECTED_SCORE.items():
            submission = gradebook.find_submission(ASSIGNMENT, centre_hub.roster[role])
            assert submission.score == expected, (role, submission.score)
            assert not submission.needs_manual_grade
        assert gradebook.assignment_submissions(ASSIGNMENT)
        assert sorted(s.student.id for s in gradebook.assignment_submissions(ASSIGNMENT)) == \
            sorted(centre_hub.roster[r] for r in EXPECTED_SCORE)


def test_trainee_cannot_read_the_other_submission(centre_hub, graded):
    """nbgrader's exchange model, on real accounts: the inbound folder is 2733 (anyone may drop a
    submission, only the grader may list it) and each submission folder has a random suffix, so a
    trainee cannot find another's submission; homes are 0700, so the fetched copy, the answers and
    nbgrader's submission cache stay private; course folders (gradebook, sources with hidden tests)
    are the grader's alone."""
    hub = centre_hub
    a, b = graded["trainees"]["trainee_a"], graded["trainees"]["trainee_b"]
    inbound = hub.exchange / graded["course"] / "inbound"
    (theirs,) = [p for p in inbound.iterdir() if p.name.startswith(f"{b.name}+{ASSIGNMENT}+")]
    assert len(theirs.name.split("+")) == 4 and len(theirs.name.split("+")[3]) >= 12, theirs.name  # random suffix
    b_home = hub.home(b.name)
    course_dir = hub.course_root / graded["course"]
    probes = {
        "list inbound": f"os.listdir({str(inbound)!r})",
        "list B's home": f"os.listdir({str(b_home)!r})",
        "read B's answers": f"open({str(b_home / graded['course'] / ASSIGNMENT / NOTEBOOK)!r}).read()",
        "list B's submission cache": f"os.listdir({str(b_home / '.local/share/jupyter/nbgrader_cache')!r})",
        "read the gradebook": f"open({str(course_dir / 'gradebook.db')!r}, 'rb').read()",
        "read the source": f"open({str(course_dir / 'source' / ASSIGNMENT / NOTEBOOK)!r}).read()",
        "list B's submission by prefix": f"__import__('glob').glob({str(inbound)!r} + '/{b.name}+*') or "
                                         "(_ for _ in ()).throw(PermissionError())",
    }
    code = "import json, os\nresults = {}\n"
    for name, probe in probes.items():
        code += (f"try:\n    {probe}\n    results[{name!r}] = 'read'\n"
                 f"except PermissionError:\n    results[{name!r}] = 'PermissionError'\n"
                 f"except Exception as e:\n    results[{name!r}] = type(e).__name__\n")
    code += "print(json.dumps(results))\n"
    results = json.loads(a.execute(f"/user/{a.name}/", code).strip().splitlines()[-1])
    assert results == {name: "PermissionError" for name in probes}
    # ... and her token does not open B's server
    assert a.api("GET", f"/user/{b.name}/api/contents", allow_redirects=False).status_code in (403, 404)


def test_formgrader_is_only_for_the_course_graders(centre_hub, graded, login):
    first, second = centre_hub.courses
    trainee = graded["trainees"]["trainee_a"]
    assert trainee.api("GET", f"/services/{first}/formgrader/api/status",
                       allow_redirects=False).status_code == 403
    instructor2 = login("instructor2")
    assert instructor2.api("GET", f"/services/{first}/formgrader/api/status",
                           allow_redirects=False).status_code == 403
    assert instructor2.api("GET", f"/services/{second}/formgrader/api/status").status_code == 200
    # the second course's trainees list (none) is its own: a's assignments are not offered there
    offered = trainee.api("GET", f"/user/{trainee.name}/assignments", params={"course_id": second}).json()
    assert offered["value"] == [] or not offered["success"], offered


def test_trainee_server_has_lab_voila_and_limits(centre_hub, graded):
    trainee = graded["trainees"]["trainee_a"]
    base = f"/user/{trainee.name}/"
    assert trainee.api("GET", f"{base}lab").status_code == 200
    page = render_lesson(trainee, f"{base}voila/render/lessons/m0_start.ipynb")
    assert "<title>m0_start</title>" in page  # rendered by Voila from ~/lessons (content: the browser test)
    assert "cdn.jsdelivr.net" not in page and "unpkg.com" not in page  # the offline template
    # Chinese for a browser without a CJK font: the page asks the trainee's own server for the font
    from dangxiao.widgets.fonts import FONT_PATH

    font = f"{base}voila/templates/dangxiao/static/fonts/{FONT_PATH.name}"
    assert f'url("{font}?v=' in page
    served = trainee.api("GET", font)
    assert served.status_code == 200 and served.content == FONT_PATH.read_bytes()
    # the formgrader runs as the course's service, never inside a trainee's server
    assert trainee.api("GET", f"{base}formgrader/api/status").status_code == 404
    limits = trainee.execute(base, "import os\nprint(os.environ.get('MEM_LIMIT'), os.environ.get('CPU_LIMIT'))")
    assert limits.split() == [str(768 * 1024 ** 2), "1.0"]


def test_home_page_shows_chinese_course_title(centre_hub, graded, login):
    instructor = graded["instructor"]
    page = instructor.web.get(f"{centre_hub.url}/hub/home", timeout=60)
    assert page.status_code == 200
    text = page.content.decode("utf-8")  # the hub sends no charset; the page declares utf-8
    assert "基层治理能力提升专题培训（测试一期）" in text
    assert "基层治理能力提升专题培训（测试二期）" not in text  # not her course
    assert f'href="/services/{centre_hub.courses[0]}/formgrader/"' in text  # its own tab (#1870)
    assert f'href="/user/{instructor.name}/voila/render/lessons/m0_start.ipynb"' in text


@pytest.mark.browser
def test_browser_login_home_page_and_voila_lesson(centre_hub, graded):
    """In Chromium: log in through the hub's form, see the course's Chinese title on the home page,
    follow the lesson link to Voila under /user/<name>/voila/ and see the lesson and a live widget."""
    from playwright.sync_api import expect

    hub = centre_hub
    trainee = graded["trainees"]["trainee_a"]
    outside: list[str] = []

    def only_loopback(route):
        if route.request.url.startswith(hub.url):
            route.continue_()
        else:  # offline first: nothing may come from outside
            outside.append(route.request.url)
            route.abort()

    with signed_in_page(hub, trainee.name, prepare=lambda p: p.route("**/*", only_loopback)) as page:
        page.goto(f"{hub.url}/hub/home")
        courses = page.locator("#dangxiao-courses")
        expect(courses.get_by_text("基层治理能力提升专题培训（测试一期）")).to_be_visible()
        expect(courses.get_by_text("基层治理能力提升专题培训（测试二期）")).to_have_count(0)
        expect(courses.get_by_role("link", name="Formgrader")).to_have_count(0)  # a trainee does not grade
        lesson = courses.get_by_role("link", name="从这里开始：课程介绍与使用方法")
        href = lesson.get_attribute("href")
        assert href == f"/user/{trainee.name}/voila/render/lessons/m0_start.ipynb"
        page.goto(hub.url + href)
        expect(page.get_by_role("heading", name="导学：从这里开始")).to_be_visible()
        expect(page.locator(".jupyter-widgets").first).to_be_attached()
    assert outside == []


RECORDS = "/services/dangxiao-records/"
LESSON_PAGE = "voila/render/lessons/m0_start.ipynb"
HUB_NOTE = "社区里最难的是停车位的协商。"


def _server_token(session) -> str:
    """The user server's own hub token, as its lesson kernels and the extension hold it."""
    return session.execute(f"/user/{session.name}/", "import os\nprint(os.environ['JUPYTERHUB_API_TOKEN'])").strip()


@pytest.mark.browser
def test_lesson_time_reaches_the_records_service_and_the_report(centre_hub, graded, tmp_path, monkeypatch):
    """A trainee signed in through the hub studies m0_start in Voila: the account bar names her (no second
    sign-in), her quiz answer and her heartbeats reach the hub's records service through her server, and
    the centre's report and her 我的学习 show her time. Trainee B's server token reads B's record only;
    a request without a hub token gets nothing."""
    import time

    import pandas as pd
    import requests
    from playwright.sync_api import expect

    hub = centre_hub
    a, b = graded["trainees"]["trainee_a"], graded["trainees"]["trainee_b"]
    lesson_url = f"{hub.url}/user/{a.name}/{LESSON_PAGE}"
    # Ten minutes in the past: fast-forwarded heartbeats carry times the service believes.
    with signed_in_page(hub, a.name, locale="zh-CN", prepare=lambda p: p.clock.install(time=time.time() - 600)) as page:
        page.goto(f"{hub.url}/hub/home")
        expect(page.locator("#dangxiao-my-study a")).to_have_attribute("href", f"{RECORDS}me")
        page.goto(lesson_url)
        try:
            expect(page.locator("#dx-account .dx-who")).to_have_text(f"{a.name}（{a.name}）", timeout=180_000)
        except AssertionError:
            log = "\n".join(line for line in hub.log_tail(400_000).splitlines()
                             if "dangxiao" in line or "records" in line or "Traceback" in line or "Error" in line)
            pytest.fail(f"no account bar on the lesson page:\n{log[-12000:]}")
        assert "/hub/login" not in page.url  # the hub's sign-in carried over: nobody signs in twice
        expect(page.locator("#dx-account a", has_text="我的学习")).to_have_attribute("href", f"{RECORDS}me")
        quiz = page.locator(".dangxiao-quiz").first
        quiz.get_by_role("radio", name="Shift + Enter").check()
        quiz.get_by_role("button", name="提交").click()
        expect(quiz.get_by_text("回答正确")).to_be_visible()
        page.fill(".dangxiao-reflection textarea", HUB_NOTE)
        for _ in range(3):  # three heartbeats of 30 s, each with input just before it
            page.mouse.move(100, 200)
            page.clock.run_for(31_000)
        page.wait_for_function(f"() => !localStorage.getItem('dangxiao-events:{a.name}') || "
                               f"JSON.parse(localStorage.getItem('dangxiao-events:{a.name}')).length === 0",
                               timeout=60_000)
        page.wait_for_timeout(3000)  # the kernel's debounced note and its send loop
        page.goto(f"{hub.url}{RECORDS}me")
        row = page.locator("tr[data-lesson-id=m0-start]")
        assert float(row.locator(".dx-lesson-minutes").text_content()) >= 1.0
        assert HUB_NOTE in page.text_content("#dx-notes")
        expect(page.locator(".dx-account .dx-who")).to_have_text(f"{a.name}（{a.name}）")
        # the page font comes from the service itself (offline first)
        font = page.request.get(f"{hub.url}{RECORDS}voila/templates/dangxiao/static/fonts/"
                                "NotoSansCJKsc-Regular-subset.otf")
        assert font.status == 200 and len(font.body()) > 100_000
        assert page.request.get(f"{hub.url}{RECORDS}class").status == 403  # a trainee

    # Privacy: each server token reads its owner's record only; no token, nothing.
    page_path = f"/user/{a.name}/{LESSON_PAGE}"
    state = {}
    for session in (a, b):
        response = requests.get(f"{hub.url}{RECORDS}api/lesson-state", params={"lesson": page_path},
                                headers={"Authorization": f"token {_server_token(session)}"}, timeout=60)
        assert response.status_code == 200, response.text
        state[session.name] = response.json()
    assert state[a.name]["responses"]["m0-start-r1"]["value"] == HUB_NOTE
    assert state[b.name] == {"lesson_id": "m0-start", "responses": {}}
    assert requests.get(f"{hub.url}{RECORDS}api/lesson-state", params={"lesson": page_path},
                        timeout=60, allow_redirects=False).status_code == 403
    assert requests.post(f"{hub.url}{RECORDS}api/events", data=b"{}", timeout=60,
                         allow_redirects=False).status_code == 403
    # A's server takes kernel events only signed by one of its kernels, page events only from A.
    assert requests.post(f"{hub.url}/user/{a.name}/dangxiao/api/kernel-events", timeout=60, data=b"{}",
                         headers={"X-Dangxiao-Kernel": "0" * 8 + "-0000-0000-0000-" + "0" * 12,
                                  "X-Dangxiao-Signature": "0" * 64}).status_code == 403
    assert b.api("POST", f"/user/{a.name}/dangxiao/api/events", data=b"{}",
                 allow_redirects=False).status_code in (302, 403)
    b_token = {"Authorization": f"token {_server_token(b)}"}
    for path in ("class", f"class/{a.name}"):  # instructor pages: not for a trainee
        assert requests.get(f"{hub.url}{RECORDS}{path}", headers=b_token, timeout=60).status_code == 403
    # The course's instructor (instructor role from courses.yaml) sees her class and her note.
    instructor = graded["instructor"]
    progress = instructor.api("GET", f"{RECORDS}class")
    assert progress.status_code == 200, progress.text[:300]
    assert f'data-trainee-id="{a.name}"' in progress.text and "基层治理能力提升专题培训（测试一期）" in progress.text
    assert HUB_NOTE in instructor.api("GET", f"{RECORDS}class/{a.name}").text
    me_page = requests.get(f"{hub.url}{RECORDS}me", timeout=60, allow_redirects=False)
    assert me_page.status_code == 302 and "/hub/api/oauth2/authorize" in me_page.headers["Location"]
    # The centre's report, from the service's database.
    monkeypatch.setenv("PATH", f"{sys.executable.rsplit('/', 1)[0]}:{__import__('os').environ['PATH']}")
    import subprocess

    # The service runs as its own account, never root: the store is in that account's private home.
    import pwd

    store = hub.home(hub.roster["records"]) / "records.sqlite"
    assert store.stat().st_uid == pwd.getpwnam(hub.roster["records"]).pw_uid
    assert store.parent.stat().st_mode & 0o777 == 0o700
    database = f"sqlite:///{store}"
    out = tmp_path / "report"
    report = subprocess.run([sys.executable, "-m", "dangxiao", "report", "--records", database, "--courses",
                             str(REPO_COURSES), "--course", graded["course_dir"], "--csv", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert report.returncode == 0, report.stderr
    study = pd.read_csv(out / "study.csv", encoding="utf-8-sig", dtype={"学号": str})
    mine = study[(study["学号"] == a.name) & (study["lesson_id"] == "m0-start")].iloc[0]
    assert mine["学习时长（分钟）"] >= 1.0 and bool(mine["已做自测"]) and bool(mine["已打开"]), mine.to_dict()

    b_only = study[study["学号"] == b.name]
    assert (b_only["学习时长（分钟）"] == 0).all()


A01_KEY = {  # the a01 blueprint's own items (assignments/assessments/a01.yaml)
    "a01-q1": "坚持规模扩张",
    "a01-q2": ["坚持党的全面领导", "坚持法治思维", "坚持改革创新"],
    "a01-q3": True,
    "a01-q4": "战斗堡垒",
    "a01-q5": "一居（村）一律师",
}


@pytest.mark.browser
def test_a01_taken_on_the_hub_is_graded_in_the_course(centre_hub, graded, login):
    """A test without code on the hub: trainee A takes a01 in Chromium at the records service (signed in by
    the hub, her own server not needed) and answers by the key; the finished paper lands in her course's
    outbox folder, readable by the course's grader and nobody else; the instructor collects it in the
    course's formgrader service and `dangxiao autograde a01` gives it the 10 points the key gives."""
    import pwd
    import stat

    from playwright.sync_api import expect

    hub = centre_hub
    a, b = graded["trainees"]["trainee_a"], graded["trainees"]["trainee_b"]
    course, course_dir = graded["course"], graded["course_dir"]
    home = graded["instructor"].web.get(f"{hub.url}/hub/home", timeout=60).content.decode("utf-8")
    assert f'href="{RECORDS}exam/a01"' in home  # the hub home page lists the tests
    # trainees run code from the same installation as the bank: the service says the keys are not secret here
    assert "计分测验的答案在这里不保密" in hub.log_tail(2_000_000), "no warning that the bank is readable"
    with signed_in_page(hub, a.name, locale="zh-CN") as page:
        page.goto(f"{hub.url}{RECORDS}exam/a01")
        page.click("#dx-start")
        page.wait_for_selector(".dx-item")
        # the hub checks XSRF on a script's cookie-authenticated GET too: send the token as exam.js does
        state = page.evaluate("url => { const m = document.cookie.match(/(?:^|;\\s*)_xsrf=([^;]*)/); "
                              "return fetch(url, {headers: {'X-XSRFToken': m ? decodeURIComponent(m[1]) : ''}})"
                              ".then(r => r.json()); }", f"{RECORDS}dangxiao/api/exam/a01")
        for item in state["paper"]["items"]:
            key = A01_KEY[item["id"]]
            if item["type"] == "truefalse":
                key = item["options"][0] if key else item["options"][1]
            for option in key if isinstance(key, list) else [key]:
                page.locator(f"article[data-item-id='{item['id']}'] input[value='{option}']").check()
            page.wait_for_selector(f"[data-saved-for='{item['id']}']:has-text('已保存')")
        page.click("#dx-submit")
        page.click("#dx-confirm-yes")
        expect(page.locator("#dx-result")).to_contain_text("10")  # a01 shows the score at once

    # The paper is in her course's outbox folder: the grader's group may read it, nobody else.
    paper = hub.exam_outbox / course / "a01" / f"{a.name}.json"
    assert paper.is_file(), sorted(str(p) for p in hub.exam_outbox.rglob("*"))
    grader = pwd.getpwnam(hub.roster["grader"])
    assert paper.stat().st_gid == grader.pw_gid and stat.S_IMODE(paper.stat().st_mode) == 0o640
    assert stat.S_IMODE(paper.parent.stat().st_mode) & 0o007 == 0
    probes = {"read A's paper": f"open({str(paper)!r}).read()",
              "list the outbox": f"os.listdir({str(hub.exam_outbox / course)!r})"}
    code = "import json, os\nresults = {}\n"
    for name, probe in probes.items():
        code += (f"try:\n    {probe}\n    results[{name!r}] = 'read'\n"
                 f"except PermissionError:\n    results[{name!r}] = 'PermissionError'\n")
    code += "print(json.dumps(results))\n"
    assert json.loads(b.execute(f"/user/{b.name}/", code).strip().splitlines()[-1]) == \
        {name: "PermissionError" for name in probes}
    # B's token sees B's own test state, none of A's paper
    mine = b.api("GET", f"{RECORDS}dangxiao/api/exam/a01")
    assert mine.status_code == 200 and mine.json().get("attempts_used") == 0, mine.text[:300]

    # The instructor, in the course's formgrader service: release, collect from the outbox, autograde.
    instructor = graded["instructor"]
    service = f"/services/{course}/"
    collect = ["dangxiao", "exam", "collect", "a01", "--outbox", str(hub.exam_outbox / course), "--course", course_dir]
    outputs = []
    for command in (["dangxiao", "release", "a01"], collect, collect, ["dangxiao", "autograde", "a01", "--course", course_dir]):
        done = run_command(instructor, service, command, course_dir)
        assert done["rc"] == 0, (command, done)
        outputs.append(done["out"])
    assert "写出 1 份提交" in outputs[1] and "已收取过 1 份" in outputs[2]  # collecting again changes nothing
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course_dir}/gradebook.db", course_id=course) as gradebook:
        assert gradebook.find_submission("a01", a.name).score == 10.0


def test_formgrader_autograde_button_grades_in_the_sandbox(centre_hub, graded):
    """The formgrader's Autograde button (its HTTP API, on the course's service, as the instructor's
    browser calls it) grades inside the sandbox too: a submission whose answer cell tries to read the
    gradebook next to it gets an error in its own output, never the file, and keeps its score."""
    import nbformat

    hub = centre_hub
    b = graded["trainees"]["trainee_b"]
    course_dir = Path(graded["course_dir"])
    gradebook = course_dir / "gradebook.db"
    (submission,) = (course_dir / "submitted" / b.name / ASSIGNMENT).glob("*.ipynb")
    notebook = nbformat.read(submission, as_version=4)
    probe = (f"try:\n    open({str(gradebook)!r}, 'rb').read()\n    print('GRADEBOOK READ')\n"
             "except OSError as error:\n    print('GRADEBOOK BLOCKED', type(error).__name__)\n")
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "q4_answer":
            cell.source = probe + cell.source  # B's unanswered cell, as if she had written this
    nbformat.write(notebook, submission)
    service = f"/services/{graded['course']}/"
    response = graded["instructor"].api("POST", f"{service}formgrader/api/submission/{ASSIGNMENT}/{b.name}/autograde",
                                        timeout=600)
    assert response.status_code == 200 and response.json()["success"], response.text[:2000]
    graded_copy = nbformat.read(course_dir / "autograded" / b.name / ASSIGNMENT / submission.name, as_version=4)
    printed = "".join(o.get("text", "") for c in graded_copy.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "GRADEBOOK BLOCKED" in printed and "GRADEBOOK READ" not in printed, printed[-2000:]
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{gradebook}", course_id=graded["course"]) as book:
        assert book.find_submission(ASSIGNMENT, hub.roster["trainee_b"]).score == EXPECTED_SCORE["trainee_b"]


@pytest.mark.browser
def test_instructor_follows_and_releases_tests_on_the_hub(centre_hub, graded):
    """The hub's class page lists the tests (a01: trainee A's paper, shown at once); the instructor's
    公布成绩 for `final` goes through the hub's XSRF check on a cookie-authenticated form."""
    hub, instructor = centre_hub, graded["instructor"]
    with signed_in_page(hub, instructor.name, locale="zh-CN") as page:
        page.goto(f"{hub.url}{RECORDS}class")
        a01 = page.locator("#dx-class-exams tr[data-exam-id=a01]")
        assert "交卷即显示" in a01.text_content()
        final = page.locator("#dx-class-exams tr[data-exam-id=final]")
        page.once("dialog", lambda dialog: dialog.accept())
        final.get_by_role("button", name="公布成绩").click()
        page.wait_for_url(f"{hub.url}{RECORDS}class")
        assert "已公布" in page.locator("#dx-class-exams tr[data-exam-id=final]").text_content()
    # a trainee cannot do it: the form's address refuses her
    trainee = graded["trainees"]["trainee_b"]
    refused = trainee.api("POST", f"{RECORDS}dangxiao/class/exam/final/release-results", allow_redirects=False)
    assert refused.status_code == 403, refused.status_code
