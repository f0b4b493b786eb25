"""dangxiao autograde: parallel = sequential, timeouts, bad files, the sandbox, nothing submitted lost."""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import nbformat
import psutil
import pytest
from nbgrader.api import Gradebook

from dangxiao.cli import main
from dangxiao.grading.autograde import STATUS_FAILED, STATUS_OK, GradingOptions, grade_assignment
from dangxiao.grading.autograde_report import summary_table
from dangxiao.grading.sample_course import ASSIGNMENT, MAX_SCORE, NOTEBOOK, write_submission
from dangxiao.grading.sandbox import SandboxLimits

pytestmark = pytest.mark.skipif(not os.access("/usr/bin/bwrap", os.X_OK), reason="bubblewrap (/usr/bin/bwrap) not installed")


def gradebook_scores(course: Path) -> dict:
    """Every grade row nbgrader keeps: (student, notebook, grade cell) -> (auto, max, manual)."""
    rows = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "dangxiao_test") as gb:
        assignment = gb.find_assignment(ASSIGNMENT)
        for submission in assignment.submissions:
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    rows[(submission.student.id, notebook.name, grade.cell.name)] = (
                        grade.auto_score, grade.max_score, grade.manual_score)
    return rows


def by_student(results):
    return {result.student: result for result in results}


@pytest.mark.slow
def test_parallel_grading_writes_exactly_the_sequential_scores(make_course):
    # t5 pollutes its kernel (builtins, pandas); t6, graded right after it, would gain 3 points
    # if anything carried over from one forked kernel to the next
    kinds = {"t1": "reference", "t2": "blank", "t3": "partial", "t4": "reference", "t5": "polluter",
             "t6": "no_rate"}
    courses = []
    # sequential with kernels forked from the pre-imported template vs parallel with kernels
    # started from scratch (as stock nbgrader does): same gradebook rows
    for jobs, fork in ((1, True), (2, False)):
        course = make_course()
        for student, kind in kinds.items():
            write_submission(course, student, kind)
        results = grade_assignment(GradingOptions(course, ASSIGNMENT, jobs=jobs, fork_kernels=fork))
        assert all(result.ok for result in results), [r.problem for r in results]
        courses.append(course)
    sequential, parallel = (gradebook_scores(course) for course in courses)
    assert sequential == parallel
    assert len(sequential) == len(kinds) * 2  # 2 grade cells each
    totals = {s: sum(v[0] for k, v in sequential.items() if k[0] == s) for s in kinds}
    assert totals == {"t1": MAX_SCORE, "t2": 0.0, "t3": 2.0, "t4": MAX_SCORE, "t5": MAX_SCORE, "t6": 2.0}
    # the graded notebooks exist where nbgrader's own tools (formgrader, feedback) look for them
    for course in courses:
        for student in kinds:
            assert (course / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb").is_file()


@pytest.mark.slow
def test_bad_submissions_fail_alone_and_nothing_submitted_is_lost(make_course, capsys, tree_hashes, no_leftovers):
    course = make_course()
    kinds = {"ok": "reference", "loop": "loop", "deaf": "sigint", "broken": "malformed",
             "cut": "truncated", "crash": "crash", "flood": "flood", "hog": "memory", "link": "reference"}
    for student, kind in kinds.items():
        write_submission(course, student, kind)
    (course / "submitted" / "link" / ASSIGNMENT / "data.csv").symlink_to(course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    # an earlier result of a submission that will now fail must survive (stock nbgrader deletes it)
    earlier = course / "autograded" / "broken" / ASSIGNMENT
    earlier.mkdir(parents=True)
    (earlier / "previous-result.txt").write_text("上次的评分结果", encoding="utf-8")
    submitted_before = tree_hashes(course / "submitted")

    code = main(["autograde", ASSIGNMENT, "--course", str(course), "--jobs", "2",
                 "--timeout", "3", "--notebook-timeout", "40"])
    out = capsys.readouterr().out
    assert code == 1  # some submissions failed

    assert tree_hashes(course / "submitted") == submitted_before
    assert (earlier / "previous-result.txt").read_text(encoding="utf-8") == "上次的评分结果"
    assert no_leftovers() == [], "sandboxed processes outlived grading"

    csv_files = list((course / "reports" / "autograde").glob(f"{ASSIGNMENT}-*.csv"))
    assert len(csv_files) == 1
    assert csv_files[0].read_bytes().startswith(b"\xef\xbb\xbf")
    with open(csv_files[0], encoding="utf-8-sig", newline="") as handle:
        rows = {row["学员"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(kinds)

    assert rows["ok"]["状态"] == STATUS_OK and rows["ok"]["得分"] == "5/5"
    # the plain loop is interrupted by the per-cell timeout: graded, its part lost, noted
    assert rows["loop"]["状态"] == STATUS_OK and rows["loop"]["得分"] == "3/5"
    assert "超时" in rows["loop"]["问题"]
    # a loop that ignores SIGINT cannot be interrupted: the kernel is killed, the submission fails
    assert rows["deaf"]["状态"] == STATUS_FAILED and "SIGINT" in rows["deaf"]["问题"]
    for student in ("broken", "cut"):
        assert rows[student]["状态"] == STATUS_FAILED
        assert f"submitted/{student}/{ASSIGNMENT}/{NOTEBOOK}.ipynb" in rows[student]["问题"]
        assert "JSON" in rows[student]["问题"]
    assert rows["crash"]["状态"] == STATUS_FAILED and "内核" in rows["crash"]["问题"]
    # the memory limit turns a 4 GB allocation into a MemoryError in that cell
    assert rows["hog"]["状态"] == STATUS_OK and rows["hog"]["得分"] == "3/5"
    hog = nbformat.read(course / "autograded" / "hog" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    assert "MemoryError" in json.dumps([cell.get("outputs", []) for cell in hog.cells])
    # a symlink in a submission could make the grader copy a file the trainee cannot read
    assert rows["link"]["状态"] == STATUS_FAILED and "data.csv" in rows["link"]["问题"]
    assert not (course / "autograded" / "link").exists()
    # huge output is cut while it arrives; the submission is still graded
    assert rows["flood"]["状态"] == STATUS_OK and "截断" in rows["flood"]["问题"]
    flooded = nbformat.read(course / "autograded" / "flood" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    assert sum(len(json.dumps(cell.get("outputs", []))) for cell in flooded.cells) < 3_000_000

    # the printed summary names the same problems
    assert "问题" in out and f"submitted/broken/{ASSIGNMENT}/{NOTEBOOK}.ipynb" in out
    # no staging left behind in the course
    assert not (course / ".dangxiao-staging").exists()


def test_missing_student_and_options_are_reported(make_course):
    course = make_course()
    results = grade_assignment(GradingOptions(course, ASSIGNMENT, students=["nobody"]))
    assert [r.status for r in results] == ["未找到"] and "nobody" in results[0].problem
    with pytest.raises(ValueError):
        GradingOptions(course, ASSIGNMENT, jobs=0)
    with pytest.raises(ValueError):
        SandboxLimits(memory_mb=0)
    assert main(["autograde", "zz99", "--course", str(course)]) == 1  # unknown assignment: one line


def test_summary_table_aligns_chinese(make_course):
    from dangxiao.grading.autograde import SubmissionResult

    table = summary_table([
        SubmissionResult("张三", "a01", STATUS_OK, score=4, max_score=5),
        SubmissionResult("li", "a01", STATUS_FAILED, max_score=5, problem_file="submitted/li/a01/x.ipynb",
                         cause="不是合法的 notebook JSON"),
    ])
    lines = table.splitlines()
    assert lines[0].startswith("学员") and "问题" in lines[0]
    assert "4/5" in lines[2] and "submitted/li/a01/x.ipynb: 不是合法的 notebook JSON" in lines[3]
    # the status column starts at the same display column in every row
    from dangxiao.grading.autograde_report import _width

    starts = {_width(line[: line.index(status)]) for line, status in ((lines[2], STATUS_OK), (lines[3], STATUS_FAILED))}
    assert len(starts) == 1


def test_whole_notebook_cap_stops_a_notebook_of_slow_cells(make_course, no_leftovers):
    course = make_course()
    write_submission(course, "slow", "loop")
    # the per-cell limit (30 s) would let it run on; the whole-notebook cap (3 s) does not
    result, = grade_assignment(GradingOptions(course, ASSIGNMENT, jobs=1, cell_timeout=30,
                                              notebook_timeout=3))
    assert result.status == STATUS_FAILED and "3 秒" in result.cause
    assert result.problem_file == f"submitted/slow/{ASSIGNMENT}/{NOTEBOOK}.ipynb"
    assert not (course / "autograded" / "slow").exists()
    assert no_leftovers() == []
