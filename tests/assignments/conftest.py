"""A copy of the course in a tmp folder, released, with trainees' submissions built from the release."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import nbformat
import pytest

from dangxiao import cli
from dangxiao.grading.course import check_result, course_api
from dangxiao.paths import assignments_dir

ASSIGNMENTS = ("a01", "a02", "a03", "a04")
# seconds: bounds the endless-loop submission; long enough for the setup cells' imports on a
# loaded 2-core machine (importing pandas + ipywidgets took ~10 s wall with 8 helpers at work)
CELL_TIMEOUT = 20

# The a01 answer key, as the hidden tests hold it (the release must not).
A01_KEY = {
    "a01-q1": "坚持规模扩张",
    "a01-q2": ["坚持党的全面领导", "坚持法治思维", "坚持改革创新"],
    "a01-q3": True,
    "a01-q4": "战斗堡垒",
    "a01-q5": "一居（村）一律师",
}
# Wrong choices for a01's items, one per item.
A01_WRONG = {
    "a01-q1": "坚持法治思维",
    "a01-q2": ["坚持法治思维"],  # one option of three: no credit
    "a01-q3": False,
    "a01-q4": "前线指挥所",
    "a01-q5": "一街道一法庭",
}
SUBMITTED_AT = dt.datetime(2026, 12, 20, 9, 38, tzinfo=dt.timezone.utc)  # when the exam server took a01 in


def copy_course(target: Path) -> Path:
    """The committed course (config and sources only) copied to `target`, with a short cell timeout."""
    source = assignments_dir()
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "nbgrader_config.py", target / "nbgrader_config.py")
    shutil.copytree(source / "source", target / "source")
    with open(target / "nbgrader_config.py", "a", encoding="utf-8") as handle:
        handle.write(f"\nc.Execute.timeout = {CELL_TIMEOUT}\n")
    return target


def release_all(course: Path) -> None:
    for assignment in ASSIGNMENTS:
        assert cli.main(["release", assignment, "--course", str(course)]) == 0


def released_notebook(course: Path, assignment: str) -> Path:
    (path,) = sorted((course / "release" / assignment).glob("*.ipynb"))
    return path


def source_notebook(course: Path, assignment: str) -> nbformat.NotebookNode:
    (path,) = sorted((course / "source" / assignment).glob("*.ipynb"))
    return nbformat.read(path, as_version=4)


def grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def hidden_test_lines(course: Path, assignment: str) -> list[str]:
    """Non-trivial lines inside hidden-test regions of the SOURCE notebook."""
    from dangxiao.grading.feedback import hidden_lines

    lines = []
    for cell in source_notebook(course, assignment).cells:
        lines.extend(hidden_lines(cell.source))
    return lines


def reference_answers(course: Path, assignment: str) -> dict[str, str]:
    """grade_id -> the instructor's solution source, for every solution cell."""
    return {
        grade_id(cell): cell.source
        for cell in source_notebook(course, assignment).cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


def write_submission(course: Path, student: str, assignment: str, answers: dict[str, str] | None = None,
                     tamper: dict[str, str] | None = None, store: dict | None = None,
                     truncate: bool = False) -> Path:
    """submitted/<student>/<assignment>/ from the released notebook: `answers` replace solution cells,
    `tamper` replaces locked cells (a trainee editing a test), `store` is written as answers.json."""
    release = released_notebook(course, assignment)
    notebook = nbformat.read(release, as_version=4)
    for cell in notebook.cells:
        gid = grade_id(cell)
        if answers and gid in answers:
            cell.source = answers[gid]
        if tamper and gid in tamper:
            cell.source = tamper[gid]
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / release.name
    text = nbformat.writes(notebook)
    if truncate:
        text = text[: len(text) // 2]
    target.write_text(text, encoding="utf-8")
    if store is not None:
        (folder / "answers.json").write_text(json.dumps(store, ensure_ascii=False), encoding="utf-8")
    return folder


def submit_through_exchange(course: Path, student: str, assignment: str, answers: dict[str, str]) -> None:
    """A trainee's round trip with nbgrader's own exchange: fetch the released assignment into their
    folder, answer, submit to the inbound folder (collected later with `nbgrader collect`)."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default import ExchangeFetchAssignment, ExchangeSubmit

    from dangxiao.grading.course import load_course_config

    home = course.parent / "trainees" / student
    home.mkdir(parents=True, exist_ok=True)
    config = load_course_config(course)
    config.Exchange.assignment_dir = str(home)
    config.Exchange.cache = str(course.parent / "trainees" / ".nbgrader_cache")
    config.CourseDirectory.assignment_id = assignment
    config.CourseDirectory.student_id = student
    coursedir = CourseDirectory(config=config)
    authenticator = Authenticator(config=config)
    ExchangeFetchAssignment(coursedir=coursedir, authenticator=authenticator, config=config).start()
    (path,) = (home / assignment).glob("*.ipynb")
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
    nbformat.write(notebook, path)
    ExchangeSubmit(coursedir=coursedir, authenticator=authenticator, config=config).start()


def build_submissions(course: Path) -> dict[tuple[str, str], float | None]:
    """Write every submission; return (assignment, student) -> the expected autograded score
    (None: the file cannot be graded)."""
    expected: dict[tuple[str, str], float | None] = {}

    # a01 is a test taken on the site: the exam server writes each trainee's paper and answers as the
    # submission (dangxiao.assessments.nbgrader_route.write_submission); here the same call writes them.
    write_paper_submission(course, "ref", A01_KEY)
    expected["a01", "ref"] = 10
    write_paper_submission(course, "blank", {})
    expected["a01", "blank"] = 0
    write_paper_submission(course, "partly", dict(A01_KEY, **{q: A01_WRONG[q] for q in ("a01-q2", "a01-q4")}))
    expected["a01", "partly"] = 6
    # q2 answered wrong, and its locked test cell edited to `pass`: nbgrader restores the test.
    folder = write_paper_submission(course, "tampered", dict(A01_KEY, **{"a01-q2": A01_WRONG["a01-q2"]}))
    _edit_cells(folder, {position_of(course, "tampered", "a01-q2"): "pass"})
    expected["a01", "tampered"] = 8

    ref02 = reference_answers(course, "a02")
    submit_through_exchange(course, "ref", "a02", answers=ref02)
    expected["a02", "ref"] = 8
    write_submission(course, "blank", "a02")  # copied in by hand, not through the exchange
    expected["a02", "blank"] = 0
    # q4 never finishes (the loop comes before the answer): the cell times out, q1-q3 still count.
    looping = dict(ref02, q4_answer="while True:\n    pass\n" + ref02["q4_answer"])
    submit_through_exchange(course, "loop", "a02", answers=looping)
    expected["a02", "loop"] = 6
    check_result(course_api(course).collect("a02"), "nbgrader collect a02")

    write_submission(course, "ref", "a03", answers=reference_answers(course, "a03"))
    expected["a03", "ref"] = 0  # all manual: nothing autograded, waits for the formgrader
    write_submission(course, "blank", "a03")
    expected["a03", "blank"] = 0

    ref04 = reference_answers(course, "a04")
    write_submission(course, "ref", "a04", answers=ref04)
    expected["a04", "ref"] = 6
    # a04's no-code route: the notebook as released, the answers in the quiz widgets' answers.json
    write_submission(course, "nocode", "a04", store=a04_widget_answers())
    expected["a04", "nocode"] = 6
    write_submission(course, "truncated", "a04", answers=ref04, truncate=True)
    expected["a04", "truncated"] = None
    return expected


def a01_paper(course: Path, student: str):
    """The trainee's a01 paper as the exam server draws it (the shipped blueprint and bank)."""
    from dangxiao.assessments import assessment_bank, draw_paper, load_blueprint
    from dangxiao.questions import load_bank

    bank = load_bank()
    blueprint = load_blueprint("a01", bank=bank)
    full = assessment_bank(blueprint, bank)
    return draw_paper(blueprint, full, student), full


def write_paper_submission(course: Path, student: str, answers: dict) -> Path:
    from dangxiao.assessments.nbgrader_route import write_submission as write_paper

    paper, full = a01_paper(course, student)
    return write_paper(course, student, paper, answers, SUBMITTED_AT, bank=full)


def position_of(course: Path, student: str, item_id: str) -> str:
    """The grade id of the test cell that grades `item_id` on this trainee's paper."""
    from dangxiao.assessments.nbgrader_route import position_grade_id

    paper, _ = a01_paper(course, student)
    return position_grade_id(next(i.position for i in paper.items if i.item_id == item_id))


def _edit_cells(folder: Path, sources: dict[str, str]) -> None:
    (path,) = folder.glob("*.ipynb")
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if grade_id(cell) in sources:
            cell.source = sources[grade_id(cell)]
    nbformat.write(notebook, path)


def a04_widget_answers() -> dict:
    """a04's right answers as its quiz widgets store them, computed from the data set."""
    from dangxiao import data

    calls = data.hotline()
    counts = calls["category"].value_counts()
    means = calls.groupby("district")["satisfaction"].mean()
    closed = calls[calls["closed_at"].notna()]
    hours = (closed["closed_at"] - closed["received_at"]).dt.total_seconds() / 3600
    return {"a04-q1-top": counts.idxmax(), "a04-q1-count": int(counts.max()), "a04-q2-lowest": means.idxmin(),
            "a04-q2-value": round(float(means.min()), 2), "a04-q3-median": round(float(hours.median()), 1)}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def autograde(course: Path, assignment: str) -> dict:
    """Grade every submission of `assignment` with `dangxiao autograde`'s engine (2 at a time);
    student -> its summary row."""
    from dangxiao.grading.autograde import GradingOptions, grade_assignment

    results = grade_assignment(GradingOptions(course=course, assignment=assignment, jobs=2))
    return {result.student: result for result in results}


@pytest.fixture(scope="session")
def graded_course(tmp_path_factory):
    """(course, expected scores, submitted files before grading, summary rows by (assignment, student))."""
    course = copy_course(tmp_path_factory.mktemp("course") / "course")
    release_all(course)
    # A teacher tried a04's no-code route after releasing it and left wrong answers in source/: autograde
    # must keep each trainee's own answers.json (Autograde.exclude_overwriting), or nocode would score 0.
    wrong = {key: "（老师试做）" for key in a04_widget_answers()}
    (course / "source" / "a04" / "answers.json").write_text(json.dumps(wrong, ensure_ascii=False), encoding="utf-8")
    expected = build_submissions(course)
    before = snapshot(course / "submitted")
    summary = {}
    for assignment in ASSIGNMENTS:
        for student, row in autograde(course, assignment).items():
            summary[assignment, student] = row
    return course, expected, before, summary


@pytest.fixture(scope="session")
def kit():
    """This module's helpers and constants (test modules cannot import conftest in importlib mode)."""
    import sys

    return sys.modules[__name__]
