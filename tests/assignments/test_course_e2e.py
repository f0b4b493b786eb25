"""End to end: release every assignment, grade trainees' submissions, check scores and feedback."""
from __future__ import annotations

import pytest
from nbgrader.api import Gradebook, MissingEntry

from dangxiao import cli
from dangxiao.grading.feedback import HIDDEN_FAILURE_NOTE, page_text

pytestmark = pytest.mark.slow

ASSIGNMENTS = ("a01", "a02", "a03", "a04")


def _submission(course, assignment, student):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        try:
            sub = gradebook.find_submission(assignment, student)
        except MissingEntry:
            return None
        return sub.score, sub.needs_manual_grade, sub.max_score


def test_scores_match_expectations(graded_course):
    course, expected, _, summary = graded_course
    for (assignment, student), score in expected.items():
        found = _submission(course, assignment, student)
        row = summary[assignment, student]
        if score is None:
            # the truncated file cannot be read: no score is recorded, the summary names file and cause
            assert found is None or found[0] == 0, (assignment, student, found)
            assert not row.ok and ".ipynb" in row.problem, row
        else:
            assert row.ok and row.score == pytest.approx(score), row
            assert found is not None, f"{assignment}/{student}: not graded"
            assert found[0] == pytest.approx(score), (assignment, student, found)


def test_reference_earns_all_autograded_points_and_blank_none(graded_course):
    course, _, _, _ = graded_course
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for assignment in ASSIGNMENTS:
            auto_max = sum(nb.max_code_score for nb in gradebook.find_assignment(assignment).notebooks)
            assert gradebook.find_submission(assignment, "ref").code_score == pytest.approx(auto_max)
            if assignment in ("a01", "a02", "a03"):
                assert gradebook.find_submission(assignment, "blank").score == 0


def test_essays_wait_for_the_formgrader_unless_blank(graded_course):
    course, _, _, _ = graded_course
    assert _submission(course, "a03", "ref")[1] is True      # written: a person must grade it
    assert _submission(course, "a03", "blank")[1] is False   # untouched answer cells: 0, nothing to grade
    assert _submission(course, "a04", "ref")[1] is True


def test_nothing_submitted_is_changed(graded_course, kit):
    course, _, before, _ = graded_course
    assert kit.snapshot(course / "submitted") == before


def test_release_holds_no_answer_key_or_hidden_tests(graded_course, kit):
    course, _, _, _ = graded_course
    for assignment in ASSIGNMENTS:
        hidden = kit.hidden_test_lines(course, assignment)
        if assignment in ("a01", "a02", "a04"):
            assert hidden, assignment  # the source really has hidden tests to hide
        folders = [course / "release" / assignment]
        outbound = course / "exchange" / "jiceng_zhili" / "outbound" / assignment
        if assignment == "a01":  # a test paper is taken on the site: never put where trainees fetch
            assert not outbound.exists()
        else:
            folders.append(outbound)
        for folder in folders:
            files = [p for p in folder.rglob("*") if p.is_file()]
            assert files, folder
            for path in files:
                text = path.read_text(encoding="utf-8")
                assert "HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text, path
                for line in hidden:
                    assert line not in text, (path, line)
    # a01: no answer of the key is anywhere in the release (its options are not either: the paper
    # arrives with each trainee's submission), nor in a submission the exam server wrote
    released = "".join(p.read_text(encoding="utf-8") for p in (course / "release" / "a01").rglob("*") if p.is_file())
    submitted = (course / "submitted" / "blank" / "a01" / "a01.ipynb").read_text(encoding="utf-8")
    for qid, key in kit.A01_KEY.items():
        for answer in key if isinstance(key, list) else [key]:
            assert repr(answer) not in released, qid
        assert f"{qid}" not in released and f"{qid}" in submitted, qid


def test_feedback_has_no_hidden_tests(graded_course, kit, capsys):
    course, _, _, _ = graded_course
    for assignment in ("a01", "a02", "a04"):
        release = ["--release"] if assignment == "a02" else []
        # a02's blank submission was copied in by hand, not collected: its feedback cannot go to the
        # exchange (exit 1); the collected ones' still do
        assert cli.main(["feedback", assignment, "--course", str(course), *release]) == (1 if release else 0)
        pages = sorted(course.glob(f"feedback/*/{assignment}/*.html"))
        assert "ref" in {p.parts[-3] for p in pages}
        hidden = [line.replace(" ", "") for line in kit.hidden_test_lines(course, assignment)]
        for page in pages:
            text = page_text(page, include_scripts=True).replace(" ", "").replace("\n", "")
            for line in hidden:
                assert line not in text, (page, line)
    # released to the exchange for `nbgrader fetch_feedback`, and as clean there
    exchanged = sorted((course / "exchange" / "jiceng_zhili" / "feedback").glob("*.html"))
    assert len(exchanged) == len(list(course.glob("feedback/*/a02/*.html"))) - 1  # all but blank
    assert "blank" in capsys.readouterr().out
    for page in exchanged:
        assert "HIDDEN" not in page.read_text(encoding="utf-8")
    # a01 partly: failed hidden tests are reported without their source
    (partly,) = course.glob("feedback/partly/a01/*.html")
    assert HIDDEN_FAILURE_NOTE in page_text(partly)


@pytest.mark.browser
def test_feedback_page_in_chromium_is_offline_and_hides_hidden_tests(graded_course, kit):
    """What a trainee sees: the page renders from file:// with no request leaving the machine."""
    from playwright.sync_api import sync_playwright

    course, _, _, _ = graded_course
    assert cli.main(["feedback", "a01", "--course", str(course), "--student", "partly"]) == 0
    (page_file,) = course.glob("feedback/partly/a01/*.html")
    outside = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"], timeout=120_000)
        try:
            page = browser.new_page()
            page.set_default_timeout(120_000)  # 2 shared cores under other helpers' load

            def refuse_outside(route):
                if not route.request.url.startswith(("file://", "data:")):
                    outside.append(route.request.url)
                    return route.abort()
                return route.continue_()

            page.route("**/*", refuse_outside)
            page.goto(page_file.as_uri(), wait_until="load")
            text = page.inner_text("body")
        finally:
            browser.close()
    assert outside == []
    assert "6.0 / 10.0" in text  # the total score shown to the trainee
    assert HIDDEN_FAILURE_NOTE in text
    for line in kit.hidden_test_lines(course, "a01"):
        assert line not in text


def test_formgrader_generate_feedback_is_offline_and_hides_hidden_tests(graded_course, kit):
    """The formgrader's "Generate Feedback" calls `NbGraderAPI.generate_feedback`, which forces
    nbgrader's `feedback` template: with the course's config alone, the page is still offline."""
    from dangxiao.grading.course import course_api

    course, _, _, _ = graded_course
    result = course_api(course).generate_feedback("a01", "partly")
    assert result["success"], result
    (page,) = course.glob("feedback/partly/a01/*.html")
    html = page.read_text(encoding="utf-8")
    assert "MathJax" in html and "MathJax 未加载" in html  # our mathjax.html.j2, not nbconvert's CDN one
    assert "cdn.jsdelivr.net" not in html and "cdnjs.cloudflare.com" not in html
    assert HIDDEN_FAILURE_NOTE in page_text(page)
    for line in kit.hidden_test_lines(course, "a01"):
        assert line not in page_text(page)
