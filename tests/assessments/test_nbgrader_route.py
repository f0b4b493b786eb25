"""Per-trainee papers graded by plain nbgrader: generate_assignment on the built source notebook,
write_submission for two trainees, `nbgrader autograde`, and the gradebook holds what score_paper says.

Real nbgrader (subprocesses in a temp copy of the course, as an instructor runs them) and real kernels.
"""
from __future__ import annotations

import datetime as dt
import json

import nbformat
import pandas as pd
import pytest

from dangxiao.assessments import draw_paper, load_blueprint, score_paper
from dangxiao.assessments.nbgrader_route import position_grade_id, write_source_notebook, write_submission
from dangxiao.errors import DangxiaoError
from dangxiao.questions import load_bank

pytestmark = pytest.mark.slow

QUIZ = """\
id: quiz
title: 小测（nbgrader）
points: {single: 2, multiple: 4, truefalse: 1, fill: 2, essay: 5}
draws:
  - {module: m1, type: single, count: 2}
  - {module: m2, type: single, count: 2}
  - {type: multiple, count: 2}
  - {type: truefalse, count: 3}
  - {type: fill, count: 1}
  - {type: essay, count: 1}
time_limit: 15
pass_mark: 60
"""
SUBMITTED_AT = dt.datetime(2026, 12, 20, 9, 38, 12, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def right(question):
    return list(question.answer) if question.type == "multiple" else question.answer


def wrong(item, question):
    if item.type == "single":
        return next(o for o in item.options if o != question.answer)
    if item.type == "multiple":
        return list(question.answer)[:1]  # one option short: no credit
    if item.type == "truefalse":
        return not question.answer
    return "不对"


def gradebook_scores(course, assignment, student):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        notebook = gb.find_submission_notebook(assignment, assignment, student)
        submission = gb.find_submission(assignment, student)
        grades = {g.name: (g.score, g.needs_manual_grade, g.max_score) for g in notebook.grades}
        return grades, submission.score, submission.timestamp


@pytest.fixture(scope="module")
def graded(tmp_path_factory, kit):
    root = tmp_path_factory.mktemp("exam")
    course = kit.temp_course(root / "course")
    bank = kit.make_bank({("m1", "single"): 4, ("m2", "single"): 4, ("m1", "multiple"): 3, ("m2", "multiple"): 2,
                          ("m3", "truefalse"): 6, ("m4", "fill"): 2, ("m4", "essay"): 2})
    blueprint = load_blueprint(kit.write_blueprint(root / "blueprints", "quiz", QUIZ), bank=bank)
    source = write_source_notebook(blueprint, bank, course)
    kit.nbgrader(course, "generate_assignment", "quiz")

    papers = {name: draw_paper(blueprint, bank, name) for name in ("zhang_san", "li_si")}
    answers = {}
    # zhang_san: everything right but the first single and the second multiple (one option short);
    # an answer of the wrong shape for the first truefalse; the fill by its accepted variant
    paper = papers["zhang_san"]
    first_single = next(i for i in paper.items if i.type == "single")
    second_multiple = [i for i in paper.items if i.type == "multiple"][1]
    first_tf = next(i for i in paper.items if i.type == "truefalse")
    a = {}
    for item in paper.items:
        q = bank[item.item_id]
        if item.type == "essay":
            a[item.item_id] = "党建引领 <script>alert(1)</script> [点我](javascript:alert(2)) 群众参与"
        elif item is first_single or item is second_multiple:
            a[item.item_id] = wrong(item, q)
        elif item is first_tf:
            a[item.item_id] = "也许"
        elif item.type == "fill":
            a[item.item_id] = q.accepted[0]
        else:
            a[item.item_id] = right(q)
    answers["zhang_san"] = a
    # li_si: every other item right, one left blank, the essay left blank
    paper = papers["li_si"]
    b = {}
    for n, item in enumerate(paper.items):
        q = bank[item.item_id]
        if item.type == "essay" or n == 3:
            continue
        b[item.item_id] = right(q) if n % 2 == 0 else wrong(item, q)
    answers["li_si"] = b

    for name, paper in papers.items():
        write_submission(course, name, paper, answers[name], SUBMITTED_AT, bank=bank)
    submitted_text = {name: (course / "submitted" / name / "quiz" / "quiz.ipynb").read_text(encoding="utf-8")
                      for name in papers}
    # a twin of the course as submitted, for `dangxiao autograde` (the sandboxed engine) to grade
    import shutil
    twin = root / "twin"
    shutil.copytree(course, twin)
    autograde = kit.nbgrader(course, "autograde", "quiz")
    return dict(kit=kit, course=course, bank=bank, blueprint=blueprint, source=source, papers=papers,
                answers=answers, submitted_text=submitted_text, twin=twin, log=autograde.stdout + autograde.stderr)


def test_gradebook_holds_what_score_paper_gives(graded):
    course, bank = graded["course"], graded["bank"]
    for name, paper in graded["papers"].items():
        result = score_paper(paper, bank, graded["answers"][name])
        grades, total, timestamp = gradebook_scores(course, "quiz", name)
        for item in result.items:
            score, manual, max_score = grades[position_grade_id(item.position)]
            assert max_score == item.points
            if item.type == "essay":
                assert manual is True  # waits for the formgrader
            else:
                assert (name, item.position, score) == (name, item.position, item.earned)
        assert total == result.total
        assert timestamp.replace(tzinfo=dt.timezone.utc) == SUBMITTED_AT
    # the two trainees earned different scores, neither full nor zero: the comparison can fail
    totals = {name: score_paper(p, bank, graded["answers"][name]).total for name, p in graded["papers"].items()}
    assert len(set(totals.values())) == 2 and all(0 < t < 20 for t in totals.values()), totals


def test_papers_differ_and_share_the_mix(graded):
    zhang, li = graded["papers"]["zhang_san"], graded["papers"]["li_si"]
    assert zhang.item_ids != li.item_ids
    assert [i.type for i in zhang.items] == [i.type for i in li.items]
    # singles are drawn per module: the same count per module; the other draws name no module
    singles = {cell: n for cell, n in zhang.mix().items() if cell[1] == "single"}
    assert singles == {cell: n for cell, n in li.mix().items() if cell[1] == "single"} == {("m1", "single"): 2, ("m2", "single"): 2}


def test_key_only_in_the_source_and_the_gradebook(graded):
    course, bank = graded["course"], graded["bank"]
    source = graded["source"].read_text(encoding="utf-8")
    release = (course / "release" / "quiz" / "quiz.ipynb").read_text(encoding="utf-8")
    assert "KEY = " in source and "BEGIN HIDDEN TESTS" in source
    fill_answers = [q.answer for q in bank.values() if q.type == "fill"]
    for text in [release, *graded["submitted_text"].values()]:
        assert "KEY" not in text and "HIDDEN" not in text and "SOLUTION" not in text
        assert "EXPLAIN" not in text  # no explanation of any item
        for answer in fill_answers:
            # a fill answer appears only where a trainee typed it (zhang_san typed an accepted variant)
            assert f'"{answer}"' not in text.replace("\\\"", '"')
    # the released data cell holds no sample paper (the source's example is answered by the key)
    released = nbformat.reads(release, as_version=4)
    data = next(c for c in released.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "paper")
    assert "PAPER = json.loads" not in data.source
    assert "PAPER = json.loads" in nbformat.reads(source, as_version=4).cells[2].source


def test_submission_shows_the_paper_and_keeps_trainee_text_as_text(graded):
    text = graded["submitted_text"]["zhang_san"]
    notebook = nbformat.reads(text, as_version=4)
    zhang = graded["papers"]["zhang_san"]
    for item in zhang.items:
        assert item.stem in text
    essay = next(i for i in zhang.items if i.type == "essay")
    cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == position_grade_id(essay.position))
    assert cell.cell_type == "markdown" and "&lt;script&gt;" in cell.source
    assert "\\[点我\\]\\(javascript" in cell.source  # a Markdown link stays text
    # no Markdown cell carries the trainee's HTML (the data cell is Python source, shown as code)
    assert not any("<script>" in c.source for c in notebook.cells if c.cell_type == "markdown")
    assert f"{essay.item_id} 要点一" in text  # the rubric, for the grader
    data = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "paper")
    namespace: dict = {}
    exec(data.source, namespace)  # the data cell is a literal: running it yields the paper, nothing else
    assert [i["id"] for i in namespace["PAPER"]["items"]] == zhang.item_ids
    first_tf = next(i for i in zhang.items if i.type == "truefalse")
    assert first_tf.item_id not in namespace["PAPER"]["answers"]  # the invalid answer was dropped: 0 points


def test_existing_submission_is_not_overwritten(graded):
    course = graded["course"]
    zhang = graded["papers"]["zhang_san"]
    with pytest.raises(DangxiaoError, match="已有提交"):
        write_submission(course, "zhang_san", zhang, {}, SUBMITTED_AT)
    before = (course / "submitted" / "zhang_san" / "quiz" / "quiz.ipynb").read_bytes()
    later = SUBMITTED_AT + dt.timedelta(minutes=1)
    write_submission(course, "zhang_san", zhang, {}, later, replace=True)
    (archived,) = (course / "exam_archive" / "zhang_san" / "quiz").iterdir()
    assert (archived / "quiz.ipynb").read_bytes() == before


def test_bad_submissions_are_refused(graded, tmp_path):
    course, blueprint, bank = graded["course"], graded["blueprint"], graded["bank"]
    zhang = graded["papers"]["zhang_san"]
    with pytest.raises(DangxiaoError, match="another trainee"):
        write_submission(course, "li_si", zhang, {}, SUBMITTED_AT)
    with pytest.raises(DangxiaoError, match="ASCII"):
        write_submission(course, "../x", zhang, {}, SUBMITTED_AT)
    with pytest.raises(DangxiaoError, match="时区"):
        write_submission(course, "zhang_san", zhang, {}, SUBMITTED_AT.replace(tzinfo=None))
    with pytest.raises(DangxiaoError, match="不在这份试卷上"):
        write_submission(course, "zhang_san", zhang, {"m9-x": 1}, SUBMITTED_AT, replace=True)
    with pytest.raises(DangxiaoError, match="找不到发布版"):
        write_submission(tmp_path, "zhang_san", zhang, {}, SUBMITTED_AT)


def test_formgrader_sees_key_point_hints_above_each_essay(graded, capsys):
    """Autograde puts jieba's key-point hints (the bank item's key_points) just above the essay's answer
    cell of the autograded notebook, which is what the formgrader shows; `dangxiao report --hints` prints
    the same; the score of the essay stays the grader's."""
    from dangxiao.cli import main
    from dangxiao.grading.essay_hints import HINT_TITLE

    course = graded["course"]
    for name, covered in (("zhang_san", {"党建引领": True, "群众参与": True, "法治保障": False}),
                          ("li_si", {"党建引领": False, "群众参与": False, "法治保障": False})):
        essay = next(i for i in graded["papers"][name].items if i.type == "essay")
        notebook = nbformat.read(course / "autograded" / name / "quiz" / "quiz.ipynb", as_version=4)
        gids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in notebook.cells]
        answer_at = gids.index(position_grade_id(essay.position))
        hint = notebook.cells[answer_at - 1]
        assert hint.cell_type == "markdown" and hint.source.startswith(HINT_TITLE), hint.source
        assert sum(c.source.startswith(HINT_TITLE) for c in notebook.cells if c.cell_type == "markdown") == 1
        for point, found in covered.items():
            assert f"{'✓' if found else '✗'} {point}" in hint.source, (name, hint.source)
        assert gradebook_scores(course, "quiz", name)[0][position_grade_id(essay.position)][1] is True  # still manual

    assert main(["report", "quiz", "--course", str(course), "--no-records", "--hints"]) == 0
    printed = capsys.readouterr().out
    assert "zhang_san · quiz · item_" in printed and "✓ 党建引领（依据：党建引领）" in printed and "✗ 法治保障" in printed
    # the trainee's feedback page has neither the hints nor the rubric (the essay comes back in later papers)
    assert main(["feedback", "quiz", "--course", str(course), "--student", "zhang_san"]) == 0
    (page,) = course.glob("feedback/zhang_san/quiz/*.html")
    html = page.read_text(encoding="utf-8")
    essay = next(i for i in graded["papers"]["zhang_san"].items if i.type == "essay")
    assert essay.stem in html and "要点提示" not in html and "评分要点" not in html
    assert "党建引领" in html  # her own answer is still there


def test_practice_is_not_written_to_nbgrader(graded, kit, tmp_path):
    text = QUIZ.replace("id: quiz", "id: quiz_p") + "mode: practice\n"
    practice = load_blueprint(kit.write_blueprint(tmp_path, "quiz_p", text), bank=graded["bank"])
    with pytest.raises(DangxiaoError, match="练习"):
        write_source_notebook(practice, graded["bank"], tmp_path)
    paper = draw_paper(practice, graded["bank"], "zhang_san", 7)
    with pytest.raises(DangxiaoError, match="练习"):
        write_submission(graded["course"], "zhang_san", paper, {}, SUBMITTED_AT)


def test_reliability_reads_the_same_positions_from_the_gradebook(graded):
    from dangxiao.grading.reliability import gradebook_position_scores, position_scores

    course, bank = graded["course"], graded["bank"]
    results = [score_paper(p, bank, graded["answers"][name]) for name, p in graded["papers"].items()]
    expected = position_scores(results)
    expected.columns = [position_grade_id(k) for k in expected.columns]
    from_gradebook = gradebook_position_scores(f"sqlite:///{course / 'gradebook.db'}", "quiz")
    # (the gradebook is as autograded in the fixture: later tests write submissions but grade nothing)
    pd.testing.assert_frame_equal(from_gradebook.sort_index(), expected.astype(float).sort_index())
    assert (from_gradebook.isna().sum(axis=1) == 1).all()  # the essay waits for the formgrader


def test_dangxiao_autograde_gives_the_same_scores(graded):
    """The sandboxed parallel engine (`dangxiao autograde`) on a twin of the submitted course."""
    from dangxiao import cli

    twin, bank = graded["twin"], graded["bank"]
    assert cli.main(["autograde", "quiz", "--course", str(twin), "--jobs", "2"]) == 0
    for name, paper in graded["papers"].items():
        result = score_paper(paper, bank, graded["answers"][name])
        grades, total, _ = gradebook_scores(twin, "quiz", name)
        assert total == result.total
        assert [grades[position_grade_id(i.position)][0] for i in result.items if i.type != "essay"] == \
            [i.earned for i in result.items if i.type != "essay"]


def test_a_data_cell_with_code_is_emptied_by_check_paper_cell(graded, tmp_path):
    """A forged submission whose data cell also replaces `judge` gets full marks from plain nbgrader
    (OverwriteCells restores test cells, not the data cell); with CheckPaperCell selected in the course
    config it gets nothing. The edited test cell is restored by nbgrader either way."""
    kit, bank, blueprint = graded["kit"], graded["bank"], graded["blueprint"]
    course = kit.temp_course(tmp_path / "course")
    config = course / "nbgrader_config.py"
    shipped = config.read_text(encoding="utf-8")
    assert "c.Autograde.sanitize_preprocessors = SANITIZE_PREPROCESSORS" in shipped  # the course ships it on
    config.write_text(shipped.replace("c.Autograde.sanitize_preprocessors = SANITIZE_PREPROCESSORS", ""),
                      encoding="utf-8")  # off, to show what it stops
    write_source_notebook(blueprint, bank, course)
    kit.nbgrader(course, "generate_assignment", "quiz")
    paper = draw_paper(blueprint, bank, "mallory")
    answers = {item.item_id: wrong(item, bank[item.item_id]) for item in paper.items if item.type != "essay"}
    folder = write_submission(course, "mallory", paper, answers, SUBMITTED_AT)
    path = folder / "quiz.ipynb"
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid == "paper":
            cell.source += "\njudge = lambda *args, **kwargs: True"
        elif gid == "item_01":
            cell.source = "pass"
    nbformat.write(notebook, path)
    auto_points = sum(i.points for i in paper.items if i.type != "essay")
    assert score_paper(paper, bank, answers).total == 0

    kit.nbgrader(course, "autograde", "quiz")
    assert gradebook_scores(course, "quiz", "mallory")[1] == auto_points  # the threat is real

    config.write_text(shipped, encoding="utf-8")
    result = kit.nbgrader(course, "autograde", "quiz", "--force")
    assert "不是考试系统写入的格式" in result.stdout + result.stderr
    assert gradebook_scores(course, "quiz", "mallory")[1] == 0
    # the sandboxed engine reads the same course config
    from dangxiao import cli

    (course / "gradebook.db").unlink()
    import shutil
    shutil.rmtree(course / "autograded")
    kit.nbgrader(course, "generate_assignment", "quiz", "--force")
    assert cli.main(["autograde", "quiz", "--course", str(course), "--jobs", "1"]) == 0
    assert gradebook_scores(course, "quiz", "mallory")[1] == 0
    # honest submissions are untouched by the check
    assert "不是考试系统写入的格式" not in graded["log"]


def test_paper_literal_check():
    from dangxiao.assessments.nbgrader_route import is_paper_literal

    good = 'import json\nPAPER = json.loads(\'{"items": []}\')'
    assert is_paper_literal("# 注释\n" + good)
    for bad in (good + "\nx = 1", good.replace("json.loads", "eval"), 'import json\nPAPER = json.loads(open("x").read())',
                'import json as j\nPAPER = j.loads("{}")', 'import json\nPAPER = json.loads("[1]")', "PAPER = {", ""):
        assert not is_paper_literal(bad), bad


def test_source_notebook_passes_its_own_tests(graded):
    """The source's example paper, answered by the key, passes every test cell (nbgrader validate runs
    the notebook in a kernel, hidden tests included): the keys and the judge agree."""
    result = graded["kit"].nbgrader(graded["course"], "validate", str(graded["source"]))
    assert "Success! Your notebook passes all the tests." in result.stdout, result.stdout


def test_shipped_final_through_plain_nbgrader(kit, tmp_path):
    """The shipped `final` blueprint end to end: the shipped bank once it can serve it, until then a
    fixture bank of three times the mix. Two trainees, `nbgrader generate_assignment final` and
    `nbgrader autograde final`; the gradebook equals score_paper for both."""
    from dangxiao.assessments import check_blueprint

    final = load_blueprint("final")
    bank = load_bank()
    try:
        check_blueprint(final, bank)
    except DangxiaoError:
        bank = load_bank(kit.write_bank_files(tmp_path / "bank", {c: 3 * n for c, n in kit.FINAL_MIX.items()}))
    course = kit.temp_course(tmp_path / "course")
    write_source_notebook(final, bank, course)
    kit.nbgrader(course, "generate_assignment", "final")
    expected = {}
    for name, every in (("trainee_a", 1), ("trainee_b", 3)):
        paper = draw_paper(final, bank, name)
        # trainee_a answers everything by the key but the multiples; trainee_b every third item only
        answers = {item.item_id: right(bank[item.item_id]) for n, item in enumerate(paper.items)
                   if n % every == 0 and not (every == 1 and item.type == "multiple")}
        write_submission(course, name, paper, answers, SUBMITTED_AT)
        expected[name] = score_paper(paper, bank, answers)
    kit.nbgrader(course, "autograde", "final")
    assert expected["trainee_a"].total == 75 and expected["trainee_a"].passed
    assert expected["trainee_b"].passed is False
    for name, result in expected.items():
        grades, total, _ = gradebook_scores(course, "final", name)
        assert total == result.total
        assert [grades[position_grade_id(i.position)][0] for i in result.items] == [i.earned for i in result.items]


def test_feedback_pages_hold_no_key(graded):
    """`dangxiao feedback` on exam submissions: a page per trainee, hidden tests (the keys) stripped and
    the page checked line by line against them."""
    from dangxiao import cli
    from dangxiao.grading.feedback import page_text

    course = graded["course"]
    assert cli.main(["feedback", "quiz", "--course", str(course)]) == 0
    for name, paper in graded["papers"].items():
        (page,) = (course / "feedback" / name / "quiz").glob("*.html")
        text = page_text(page, include_scripts=True)
        assert "KEY" not in text and "EXPLAIN" not in text
        assert paper.items[0].stem in text
        others = set(graded["papers"]["li_si" if name == "zhang_san" else "zhang_san"].item_ids) - set(paper.item_ids)
        assert not any(f"'{qid}'" in text or f'"{qid}"' in text for qid in others)  # no other paper's items
