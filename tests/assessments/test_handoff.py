"""Tests taken on JupyterHub: the records service leaves each finished paper in its course's outbox folder
(`OutboxExporter`, `dangxiao.assessments.handoff`), and the course's grader turns the files into nbgrader
submissions with `dangxiao exam collect <id> --outbox DIR`. The whole walk on a real hub, with real
accounts and permissions: tests/deploy/test_hub_smoke.py::test_a01_taken_on_the_hub_is_graded_in_the_course."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import stat

import pytest

from dangxiao.assessments import assessment_bank, assessments_dir, load_blueprint, score_paper
from dangxiao.assessments.handoff import attempt_files
from dangxiao.cli import main
from dangxiao.paths import assignments_dir
from dangxiao.publishing.exam_handlers import ExamCatalog, OutboxExporter
from dangxiao.questions import load_bank
from dangxiao.records import exams, open_store
from dangxiao.records.roster import RosterRow

NOW = dt.datetime(2026, 12, 20, 9, 0, tzinfo=dt.timezone.utc)


def _key(question):
    return list(question.answer) if question.type == "multiple" else question.answer


def take_a01(tmp_path):
    """t001 answers a01 by the key, t002 leaves it blank, t003 (in no course) and li.si (a name nbgrader
    cannot take) answer too; the papers are handed on twice, as two sweeps would."""
    store = open_store(f"sqlite:///{tmp_path / 'records.sqlite'}")
    store.import_roster([RosterRow(f"t00{n}", f"测试学员{n}（模拟）", "一班", password=f"trainee-pass-{n}") for n in (1, 2, 3)])
    bank = load_bank()
    a01 = load_blueprint("a01", bank=bank)
    full = assessment_bank(a01, bank)
    outbox = tmp_path / "outbox"
    (outbox / "c1").mkdir(parents=True)
    (outbox / "c1").chmod(0o2750)  # as setup_centre.py makes it: setgid, so papers keep the grader's group
    store.ensure_account("li.si", "li.si", "trainee")  # a hub name nbgrader cannot take as a folder name
    catalog = ExamCatalog(assessments_dir(), None, OutboxExporter(outbox, {"t001": "c1", "t002": "c1", "li.si": "c1"}))
    for trainee in ("t001", "t002", "t003", "li.si"):
        attempt = exams.start_attempt(store, a01, bank, trainee, NOW)
        if trainee != "t002":
            for item in attempt.paper.items:
                exams.save_answer(store, attempt.id, trainee, item.item_id, _key(full[item.item_id]), NOW)
        exams.finish(store, a01, bank, attempt.id, trainee, NOW + dt.timedelta(minutes=5))
    catalog.export(store, a01)
    catalog.export(store, a01)  # the next sweep: what failed is retried, and not logged again
    return store, a01, full, outbox / "c1"


@pytest.fixture
def taken(tmp_path):
    return take_a01(tmp_path)


def test_the_service_leaves_each_paper_in_its_course_folder(taken):
    store, a01, full, folder = taken
    files = attempt_files(folder, "a01")
    assert [p.name for p in files] == ["t001.json", "t002.json"]  # t003 is in no course: kept in the record
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o640 for p in files)
    assert stat.S_IMODE(folder.joinpath("a01").stat().st_mode) == 0o2750  # setgid passed on, no other access
    assert {p.stat().st_gid for p in files} == {folder.stat().st_gid}
    record = json.loads(files[0].read_text(encoding="utf-8"))
    assert (record["trainee"], record["attempt"], len(record["answers"])) == ("t001", 1, 5)
    unsent = sorted(a.account_id for a in exams.attempts_of(store, None, "a01") if a.exported_at is None)
    assert unsent == ["li.si", "t003"]
    # handed on once: another sweep rewrites nothing
    before = {p.name: p.stat().st_mtime_ns for p in files}
    ExamCatalog(assessments_dir(), None, OutboxExporter(folder.parent, {"t001": "c1", "t002": "c1"})).export(store, a01)
    assert {p.name: p.stat().st_mtime_ns for p in attempt_files(folder, "a01")} == before


def test_the_grader_collects_them_once_and_refuses_forged_files(taken, tmp_path, kit, capsys):
    store, a01, full, folder = taken
    course = kit.temp_course(tmp_path / "course")
    shutil.copytree(assignments_dir() / "source" / "a01", course / "source" / "a01")
    assert main(["release", "a01", "--course", str(course)]) == 0
    collect = ["exam", "collect", "a01", "--outbox", str(folder), "--course", str(course)]

    # the outbox's root instead of the course's folder: said, nothing collected
    assert main(["exam", "collect", "a01", "--outbox", str(folder.parent), "--course", str(course)]) == 1
    assert "上一级" in capsys.readouterr().err and not (course / "submitted").exists()

    assert main(collect) == 0
    assert "写出 2 份提交" in capsys.readouterr().out
    for trainee in ("t001", "t002"):
        assert (course / "submitted" / trainee / "a01" / "a01.ipynb").is_file()
    stamp = (course / "submitted" / "t001" / "a01" / "timestamp.txt").read_text(encoding="utf-8")
    assert stamp.startswith("2026-12-20 09:05:00")  # when she handed it in, not when it was collected
    written = (course / "submitted" / "t001" / "a01" / "a01.ipynb").read_bytes()
    assert main(collect) == 0
    assert "已收取过 2 份" in capsys.readouterr().out
    assert (course / "submitted" / "t001" / "a01" / "a01.ipynb").read_bytes() == written

    # A file claiming another trainee's paper, and one that is not a paper at all: refused by name.
    forged = json.loads((folder / "a01" / "t001.json").read_text(encoding="utf-8"))
    forged["trainee"] = "t009"
    (folder / "a01" / "t009.json").write_text(json.dumps(forged, ensure_ascii=False), encoding="utf-8")
    (folder / "a01" / "t008.json").write_text("{}", encoding="utf-8")
    assert main(collect) == 1
    out = capsys.readouterr().out
    assert "t009.json" in out and "为该学员第 1 次作答抽出的试卷" in out
    assert "t008.json" in out and "已收取过 2 份" in out
    assert not (course / "submitted" / "t009").exists()
    # the submission holds her paper and her answers, which earn what the key gives (autograde: tests/assignments)
    import nbformat

    from dangxiao.assessments.nbgrader_route import read_paper_literal

    notebook = nbformat.read(course / "submitted" / "t001" / "a01" / "a01.ipynb", as_version=4)
    data = next(read_paper_literal(c.source) for c in notebook.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "paper")
    (t001,) = exams.attempts_of(store, "t001", "a01")
    assert [i["id"] for i in data["items"]] == t001.paper.item_ids
    assert score_paper(t001.paper, full, data["answers"]).total == 10


def test_a_paper_that_cannot_be_handed_on_is_logged_once_and_kept(tmp_path, caplog):
    with caplog.at_level("ERROR", logger="dangxiao.publishing.exam_handlers"):
        store, a01, _, _ = take_a01(tmp_path)
    problems = [r.getMessage() for r in caplog.records if "export failed" in r.getMessage()]
    assert len(problems) == 2, problems  # two exports, two papers that fail (t003, li.si): each said once
    assert any("t003" in p and "不在任何课程" in p for p in problems)
    assert any("li.si" in p and "ASCII" in p for p in problems)
    assert all(a.submitted_at is not None for a in exams.attempts_of(store, None, "a01"))  # nothing lost
