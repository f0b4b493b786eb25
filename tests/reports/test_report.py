"""The report read from a real nbgrader gradebook: tables, Excel, CSV, charts, clear errors."""
from __future__ import annotations

import hashlib
import warnings

import openpyxl
import pandas as pd
import pytest

from dangxiao.cli import main
from dangxiao.errors import DangxiaoError
from dangxiao.grading.report import (
    CSV_FILES,
    SHEETS,
    build_report,
    load_gradebook,
    write_charts,
    write_csv,
    write_excel,
)


@pytest.fixture
def report(course):
    return build_report(load_gradebook(course))


def test_summary_scores_completion_and_late(report, students):
    summary = report.summary.set_index("学号")
    assert list(summary.index) == sorted(students)
    assert summary.loc["s2", "姓名"] == '王小,"明"'
    assert summary.loc["s1", ["a01 得分", "a02 得分"]].tolist() == [5.0, 3.0]
    assert summary.loc["s1", "总分"] == 8.0
    assert summary.loc["s1", "满分"] == 6 + 4 + 1
    assert summary["已交"].to_dict() == {"s1": 2, "s2": 1, "s3": 2, "s4": 1, "s5": 0}
    # s2 handed a01 in at 12:00 UTC, due 10:00 UTC + a one-hour extension: the only late submission.
    assert summary["迟交次数"].to_dict() == {"s1": 0, "s2": 1, "s3": 0, "s4": 0, "s5": 0}
    # s3's written answer to a02 has not been graded by hand yet.
    assert summary.loc["s3", "待人工评分"] == 1


def test_one_assignment_and_transcript(course, students):
    report = build_report(load_gradebook(course), "a01")
    assert report.assignments == ["a01"]
    assert [c for c in report.summary.columns if c.endswith("得分")] == ["a01 得分"]
    assert report.items["题目"].tolist() == ["q1", "q2", "q3", "q4"]
    transcript = report.transcript
    assert len(transcript) == len(students) * 3  # every trainee × every assignment
    late = transcript[(transcript["学号"] == "s2") & (transcript["作业"] == "a01")].iloc[0]
    assert late["迟交（小时）"] == 1.0  # 12:00 − (10:00 + 1 h extension)
    assert str(late["提交时间（北京时间）"]) == "2026-11-01 20:00:00"  # 12:00 UTC
    assert str(late["截止时间（北京时间）"]) == "2026-11-01 19:00:00"  # with the extension
    assert transcript.set_index(["学号", "作业"]).loc[("s4", "a01"), "及格"] == "否"  # 2/6 < 60 %
    assert transcript.set_index(["学号", "作业"]).loc[("s5", "a01"), "状态"] == "未提交"


def test_report_does_not_change_the_gradebook(course):
    before = hashlib.sha256((course / "gradebook.db").read_bytes()).hexdigest()
    build_report(load_gradebook(course))
    assert hashlib.sha256((course / "gradebook.db").read_bytes()).hexdigest() == before


def test_excel_has_four_sheets_with_the_right_rows(report, tmp_path, students):
    path = write_excel(report, tmp_path / "报表.xlsx")
    workbook = openpyxl.load_workbook(path, read_only=True)
    assert workbook.sheetnames == ["总表", "题目分析", "成绩单", "学时", "学习记录", "测验成绩", "结业", "题库分析", "试卷信度"]
    rows = {name: list(workbook[name].iter_rows(values_only=True)) for name in workbook.sheetnames}
    assert [r[0] for r in rows["总表"][1:]] == sorted(students)
    assert rows["总表"][0][:2] == ("学号", "姓名")
    assert [r[2] for r in rows["题目分析"][1:]] == ["q1", "q2", "q3", "q4", "answer"]  # a03: nobody submitted
    assert len(rows["成绩单"]) == 1 + len(students) * 3
    assert [r[0] for r in rows["学时"][1:]] == sorted(students)
    assert '王小,"明"' in [r[1] for r in rows["总表"]]


def test_csv_round_trips_commas_quotes_and_chinese(report, tmp_path, students):
    written = write_csv(report, tmp_path / "csv")
    assert sorted(p.name for p in written) == sorted(CSV_FILES)
    raw = (tmp_path / "csv" / "summary.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # utf-8-sig: Excel on Windows reads the Chinese
    back = pd.read_csv(tmp_path / "csv" / "summary.csv", encoding="utf-8-sig", dtype={"学号": str})
    assert back["姓名"].tolist() == report.summary["姓名"].tolist()
    assert len(back) == len(students)
    items = pd.read_csv(tmp_path / "csv" / "items.csv", encoding="utf-8-sig", keep_default_na=False)
    assert items["提示"].tolist()[:3] == ["过易；区分度无法计算", "", "负区分度；区分效率低"]


def test_charts_render_chinese_without_missing_glyphs(report, tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = write_charts(report, tmp_path / "charts")
    assert [p.name for p in paths] == ["score_distribution.png", "item_map.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") and p.stat().st_size > 5000 for p in paths)
    assert not [w for w in caught if "missing from font" in str(w.message) or "Glyph" in str(w.message)]


def test_empty_gradebook_and_unsubmitted_assignment_are_clear_errors(tmp_path, course, empty_course):
    with pytest.raises(DangxiaoError, match="没有作业"):
        build_report(load_gradebook(empty_course))
    with pytest.raises(DangxiaoError, match="尚无学员提交"):
        build_report(load_gradebook(course), "a03")
    with pytest.raises(DangxiaoError, match="没有作业 'a09'"):
        build_report(load_gradebook(course), "a09")
    with pytest.raises(DangxiaoError, match="成绩库不存在"):
        load_gradebook(tmp_path / "missing")
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_text("这不是数据库", encoding="utf-8")
    with pytest.raises(DangxiaoError, match="nbgrader"):
        load_gradebook(not_a_db)


@pytest.mark.parametrize("argv, message", [(["a03"], "尚无学员提交"), ([], "没有作业")])
def test_cli_gives_one_chinese_line_and_non_zero_exit(course, empty_course, capsys, argv, message):
    folder = course if argv else empty_course
    code = main(["report", *argv, "--course", str(folder)])
    captured = capsys.readouterr()
    assert code != 0
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in captured.err


def test_cli_writes_all_outputs(course, tmp_path, capsys):
    code = main(["report", "a01", "--course", str(course), "--xlsx", str(tmp_path / "r.xlsx"),
                 "--csv", str(tmp_path / "csv"), "--charts", str(tmp_path / "png"), "--pass-mark", "0.7"])
    out = capsys.readouterr().out
    assert code == 0
    assert "题目分析" in out and "负区分度" in out
    assert (tmp_path / "r.xlsx").is_file() and (tmp_path / "png" / "item_map.png").is_file()
    transcript = pd.read_csv(tmp_path / "csv" / "transcript.csv", encoding="utf-8-sig", keep_default_na=False)
    # pass mark 70 %: s2 and s3 (4/6 = 66.7 %) no longer pass a01.
    a01 = transcript[transcript["作业"] == "a01"].set_index("学号")["及格"].to_dict()
    assert a01 == {"s1": "是", "s2": "否", "s3": "否", "s4": "否", "s5": ""}


def test_excel_keeps_formula_like_names_as_text(report, tmp_path):
    report.summary.loc[0, "姓名"] = "=1+1"
    path = write_excel(report, tmp_path / "r.xlsx")
    cell = openpyxl.load_workbook(path)["总表"]["B2"]
    assert cell.value == "=1+1" and cell.data_type == "s"


def test_cli_names_an_unwritable_output(course, tmp_path, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    code = main(["report", "a01", "--course", str(course), "--csv", str(blocker / "csv")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "not-a-folder" in err[0] and "无法写入" in err[0]


def test_gradebook_in_a_folder_with_spaces_hash_and_chinese(course, tmp_path):
    folder = tmp_path / "培训 班#1 100%"
    folder.mkdir()
    (folder / "gradebook.db").write_bytes((course / "gradebook.db").read_bytes())
    assert list(load_gradebook(folder).assignments["作业"]) == ["a01", "a02", "a03"]


def test_items_in_natural_order(empty_course):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{empty_course / 'gradebook.db'}") as gb:
        gb.add_assignment("b01")
        gb.add_notebook("nb", "b01")
        for name in ("q10", "q2", "q1"):
            gb.add_grade_cell(name, "nb", "b01", max_score=1.0, cell_type="code")
        gb.add_student("s1")
        gb.add_submission("b01", "s1")
    report = build_report(load_gradebook(empty_course), "b01")
    assert report.items["题目"].tolist() == ["q1", "q2", "q10"]
