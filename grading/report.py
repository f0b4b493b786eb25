"""Grade reports from nbgrader's gradebook: 总表, 题目分析, 成绩单, 学时, charts, Excel and CSV.

The gradebook is read through nbgrader's own `Gradebook` and its SQLAlchemy models (one query per
table, straight into pandas, so 10 000 trainees stay fast); it is opened read-only, so a report
never changes grades. Everything after loading is pandas/numpy on the frames of `GradebookData`.

    data = load_gradebook("assignments/gradebook.db")
    report = build_report(data, assignment="a01", catalog=load_catalog())
    write_excel(report, "report.xlsx"); write_csv(report, "report-csv/"); write_charts(report, "charts/")

Scores are nbgrader's: a grade's score is the manual score if set, else the auto score, plus extra
credit; an ungraded manual cell counts 0 and is counted in 待人工评分. The final score of a
submission subtracts nbgrader's late-submission penalty (never below 0). Times are shown in Beijing
time (nbgrader stores UTC). Item statistics: see `dangxiao.grading.itemstats`; 学时: `dangxiao.grading.credit`.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import Iterable
from urllib.parse import quote

import numpy as np
import pandas as pd

from dangxiao.errors import DangxiaoError
from dangxiao.grading.credit import CreditRule, credit_table, lesson_hours
from dangxiao.grading.itemstats import ItemThresholds, item_statistics, score_distribution
from dangxiao.grading.bank_report import BANK_COLUMNS, RELIABILITY_COLUMNS
from dangxiao.grading.transcripts import GRADUATION_COLUMNS, graduation_table
from dangxiao.records.exams import RESULT_COLUMNS
from dangxiao.records.study import STUDY_COLUMNS
from dangxiao.records.study import completions as study_completions

__all__ = [
    "GradebookData",
    "Report",
    "load_gradebook",
    "build_report",
    "write_excel",
    "write_csv",
    "write_charts",
    "plot_score_distribution",
    "plot_item_map",
    "figure_png",
    "SHEETS",
    "CSV_FILES",
    "CHART_FILES",
]

#: sheet name → attribute of `Report`, in workbook order
SHEETS = {"总表": "summary", "题目分析": "items", "成绩单": "transcript", "学时": "credit", "学习记录": "study",
          "测验成绩": "exams", "结业": "graduation", "题库分析": "bank_items", "试卷信度": "reliability"}
#: CSV file name (ASCII, safe on any file server) → attribute of `Report`
CSV_FILES = {"summary.csv": "summary", "items.csv": "items", "transcript.csv": "transcript", "credit.csv": "credit",
             "study.csv": "study", "exams.csv": "exams", "graduation.csv": "graduation", "bank_items.csv": "bank_items",
             "reliability.csv": "reliability"}
#: chart file names written by `write_charts`
CHART_FILES = ("score_distribution.png", "item_map.png")
BEIJING = pd.Timedelta(hours=8)  # China has no daylight saving time: a fixed offset is exact


@dataclass
class GradebookData:
    """The gradebook as flat tables (one row per assignment / graded cell / trainee / submission / grade)."""

    source: str
    assignments: pd.DataFrame  # assignment_id, 作业, duedate
    items: pd.DataFrame  # cell_id, assignment_id, 作业, 笔记本, 题目, 类型, 满分
    students: pd.DataFrame  # 学号, 姓名
    submissions: pd.DataFrame  # submission_id, assignment_id, 学号, timestamp, 作业, duedate, seconds_late, penalty, 待人工评分
    grades: pd.DataFrame  # submission (row of submissions), item (row of items), score


@dataclass
class Report:
    assignments: list[str]
    summary: pd.DataFrame
    items: pd.DataFrame
    transcript: pd.DataFrame
    credit: pd.DataFrame
    distribution: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    # 学习记录: one row per trainee and lesson from the site's learning record (empty without one)
    study: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=STUDY_COLUMNS))
    # 测验成绩: tests taken in the site (last attempt each); 结业: the class list (grading/transcripts.py)
    exams: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=RESULT_COLUMNS))
    graduation: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=GRADUATION_COLUMNS))
    # 题库分析 / 试卷信度: each question across the papers that held it, each test's reliability (bank_report.py)
    bank_items: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BANK_COLUMNS))
    reliability: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=RELIABILITY_COLUMNS))


# ---------------------------------------------------------------- loading


def _db_url(path_or_url: str | Path) -> tuple[str, str]:
    text = str(path_or_url)
    if "://" in text:
        return text, text
    path = Path(text)
    if path.is_dir():
        path = path / "gradebook.db"
    if not path.is_file():
        raise DangxiaoError(f"{path}: 成绩库不存在，请先收取并评分 / gradebook not found (collect and autograde first)")
    # Read-only: the report must never alter grades, and Gradebook() would otherwise create tables.
    # Quoted twice: SQLAlchemy decodes the URL once, SQLite decodes its file: URI again ('#', '?', '%').
    return f"sqlite:///file:{quote(quote(str(path.resolve())))}?mode=ro&uri=true", str(path)


def _name(first, last) -> str:
    first, last = (first or "").strip(), (last or "").strip()
    if first.isascii() and last.isascii():
        return " ".join(part for part in (first, last) if part)
    return f"{last}{first}"  # Chinese order: family name first, no space


def _rows(gradebook, statement) -> tuple[list[str], list[tuple]]:
    """Run a statement built from nbgrader's models on the DBAPI cursor: SQLAlchemy's result rows
    cost more than the query itself at 500 000 grades, and the SQL is still the models' own."""
    compiled = statement.compile(gradebook.engine)
    params = compiled.params if compiled.positiontup is None else [compiled.params[k] for k in compiled.positiontup]
    connection = gradebook.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(str(compiled), params)
        return [column[0] for column in cursor.description], cursor.fetchall()
    finally:
        connection.close()


def _frame(gradebook, statement) -> pd.DataFrame:
    columns, rows = _rows(gradebook, statement)
    return pd.DataFrame(rows, columns=columns)


def _positions(keys: Iterable, targets: Iterable, count: int = -1) -> np.ndarray:
    """Position of each key in `targets` (−1 if absent)."""
    if isinstance(targets, pd.Series):
        targets = targets.tolist()  # iterating a Series element by element is far slower
    if isinstance(keys, pd.Series):
        keys = keys.tolist()
    lookup = {key: position for position, key in enumerate(targets)}
    return np.fromiter(map(lookup.get, keys, repeat(-1)), dtype=np.intp, count=count)


def _natural_key(column: pd.Series) -> pd.Series:
    """Sort key putting q2 before q10: nbgrader stores no cell order, grade ids are what instructors see."""
    return column.astype(str).str.replace(r"\d+", lambda match: match.group(0).zfill(9), regex=True)


def _intervals(values: pd.Series) -> pd.Series:
    """nbgrader's `extension` column as timedeltas. Read past SQLAlchemy, SQLite gives the text
    SQLAlchemy's `Interval` stores there: the epoch plus the interval ("1970-01-01 02:00:00.000000")."""
    def one(value):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return pd.Timedelta(0)
        if isinstance(value, str):
            return pd.Timestamp(value) - pd.Timestamp("1970-01-01")
        return pd.Timedelta(value)

    return pd.Series([one(v) for v in values], index=values.index, dtype="timedelta64[ns]")


def load_gradebook(path_or_url: str | Path) -> GradebookData:
    """Read a gradebook (a `gradebook.db` file, a course folder holding one, or a database URL)."""
    from nbgrader import api
    from sqlalchemy import func, select
    from sqlalchemy.exc import SQLAlchemyError

    url, label = _db_url(path_or_url)
    try:
        gradebook = api.Gradebook(url, course_id="")  # "" = do not insert a course row
    except SQLAlchemyError as error:
        raise DangxiaoError(f"{label}: 不是可读的 nbgrader 成绩库 / not a readable nbgrader gradebook ({type(error).__name__})") from None
    try:
        assignments = _frame(gradebook, select(api.Assignment.id.label("assignment_id"), api.Assignment.name.label("作业"),
                                               api.Assignment.duedate.label("duedate")).order_by(api.Assignment.duedate, api.Assignment.name))
        cells = []
        for model in (api.GradeCell, api.TaskCell):
            cells.append(_frame(gradebook, select(
                model.id.label("cell_id"), api.Notebook.assignment_id, api.Notebook.name.label("笔记本"),
                model.name.label("题目"), model.cell_type.label("类型"), model.max_score.label("满分"),
            ).join(api.Notebook, model.notebook_id == api.Notebook.id)))
        students = _frame(gradebook, select(api.Student.id.label("学号"), api.Student.first_name, api.Student.last_name))
        submissions = _frame(gradebook, select(
            api.SubmittedAssignment.id.label("submission_id"), api.SubmittedAssignment.assignment_id,
            api.SubmittedAssignment.student_id.label("学号"), api.SubmittedAssignment.timestamp,
            api.SubmittedAssignment.extension,
        ))
        # Per submitted notebook (not nbgrader's per-submission column_property: its correlated
        # subquery has no index to use and takes minutes on 10 000 submissions).
        notebooks = _frame(gradebook, select(
            api.SubmittedNotebook.id.label("notebook_id"), api.SubmittedNotebook.assignment_id.label("submission_id"),
            api.SubmittedNotebook.late_submission_penalty.label("penalty"),
        ))
        _, grade_rows = _rows(gradebook, select(api.Grade.notebook_id, api.Grade.cell_id, api.Grade.score))
        manual = _frame(gradebook, select(api.Grade.notebook_id, func.count().label("n"))
                        .where(api.Grade.needs_manual_grade.is_(True)).group_by(api.Grade.notebook_id))
    except SQLAlchemyError as error:
        raise DangxiaoError(f"{label}: 读取成绩库失败 / cannot read the gradebook ({type(error).__name__})") from None
    finally:
        gradebook.close()

    items = pd.concat([c for c in cells if len(c)] or cells[:1], ignore_index=True)
    items = items.merge(assignments[["assignment_id", "作业"]], on="assignment_id", how="left")
    items["满分"] = items["满分"].astype(float)
    items = items.sort_values(["作业", "笔记本", "题目"], kind="stable", key=_natural_key).reset_index(drop=True)
    students["姓名"] = [_name(f, l) for f, l in zip(students["first_name"], students["last_name"])]
    students = students[["学号", "姓名"]].sort_values("学号", kind="stable").reset_index(drop=True)

    submissions = submissions.merge(assignments, on="assignment_id", how="left").reset_index(drop=True)
    timestamp = pd.to_datetime(submissions["timestamp"])
    extension = _intervals(submissions["extension"])
    submissions["timestamp"] = timestamp
    submissions["duedate"] = pd.to_datetime(submissions["duedate"]) + extension  # nbgrader's SubmittedAssignment.duedate
    late = (timestamp - submissions["duedate"]).dt.total_seconds()
    submissions["seconds_late"] = late.clip(lower=0).fillna(0.0)  # nbgrader's total_seconds_late
    notebook_submission = _positions(notebooks["submission_id"], submissions["submission_id"])
    size = len(submissions)
    penalty = pd.to_numeric(notebooks["penalty"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    submissions["penalty"] = np.bincount(notebook_submission[notebook_submission >= 0],
                                         penalty[notebook_submission >= 0], minlength=size)[:size]
    # A trailing −1 makes an unknown notebook (position −1) map to "no submission".
    via_notebook = np.append(notebook_submission, -1)
    manual_submission = via_notebook[_positions(manual["notebook_id"], notebooks["notebook_id"])]
    counts = manual["n"].to_numpy(dtype=float) if len(manual) else np.zeros(0)
    submissions["待人工评分"] = np.bincount(manual_submission[manual_submission >= 0], counts[manual_submission >= 0],
                                          minlength=size)[:size].astype(int)
    submissions = submissions.drop(columns=["extension"])

    # Grades as positions: row of `submissions`, row of `items` — no 32-character keys kept per grade.
    n = len(grade_rows)
    submission = via_notebook[_positions(map(itemgetter(0), grade_rows), notebooks["notebook_id"], n)]
    item = _positions(map(itemgetter(1), grade_rows), items["cell_id"], n)
    score = np.fromiter(map(itemgetter(2), grade_rows), dtype=float, count=n)
    keep = (submission >= 0) & (item >= 0)
    grades = pd.DataFrame({"submission": submission[keep], "item": item[keep], "score": score[keep]})
    return GradebookData(label, assignments, items, students, submissions, grades)


# ---------------------------------------------------------------- computing


def _score_matrix(data: GradebookData, item_rows: np.ndarray, submission_rows: np.ndarray) -> np.ndarray:
    """submissions × items matrix of grade scores (0 where a grade row is missing, as nbgrader counts it)."""
    row_of = np.full(len(data.submissions), -1)
    row_of[submission_rows] = np.arange(len(submission_rows))
    col_of = np.full(len(data.items), -1)
    col_of[item_rows] = np.arange(len(item_rows))
    rows = row_of[data.grades["submission"].to_numpy()]
    cols = col_of[data.grades["item"].to_numpy()]
    keep = (rows >= 0) & (cols >= 0)
    matrix = np.zeros((len(submission_rows), len(item_rows)))
    matrix[rows[keep], cols[keep]] = data.grades["score"].to_numpy()[keep]
    return matrix


def _beijing(times: pd.Series) -> pd.Series:
    return (pd.to_datetime(times) + BEIJING).dt.round("s")


def build_report(
    data: GradebookData,
    assignment: str | None = None,
    catalog=None,
    rule: CreditRule = CreditRule(),
    completions: pd.DataFrame | None = None,
    thresholds: ItemThresholds = ItemThresholds(),
    study: pd.DataFrame | None = None,
    lesson_attempts: pd.DataFrame | None = None,
    exams: pd.DataFrame | None = None,
    final_id: str = "final",
) -> Report:
    """Compute the four tables and the score distribution.

    `assignment` restricts 总表 and 题目分析 to one assignment; 成绩单 and 学时 always cover the whole
    course. `catalog` (from `dangxiao.catalog.load_catalog`) gives lesson durations; without it lessons
    earn no 学时. `study` (from `dangxiao.records.study.study_table`) is the learning record: without
    `completions` it decides which lessons count, and every trainee of the roster gets a 学时 row, submitted
    or not. `lesson_attempts` (学号, lesson_id, question_id, correct: first attempts at lesson questions)
    adds those questions to the item analysis, one block per lesson. `exams` (from
    `dangxiao.records.exams.exam_results`) fills 测验成绩, and with the record 结业 (the closing test
    `final_id`). Raises `DangxiaoError` (one line, in Chinese) for an empty gradebook, an unknown
    assignment, or an assignment nobody submitted.
    """
    names = list(data.assignments["作业"])
    if not names:
        raise DangxiaoError(f"{data.source}: 成绩库中没有作业，请先生成（release）作业 / the gradebook has no assignments")
    if assignment is not None and assignment not in names:
        raise DangxiaoError(f"{data.source}: 没有作业 '{assignment}'，已有：{'、'.join(names)} / no such assignment")
    if data.submissions.empty:
        raise DangxiaoError(f"{data.source}: 还没有学员提交任何作业 / nobody has submitted anything yet")
    selected = [assignment] if assignment else names
    if assignment and not (data.submissions["作业"] == assignment).any():
        raise DangxiaoError(f"{data.source}: 作业 '{assignment}' 尚无学员提交 / nobody has submitted '{assignment}'")

    max_by_assignment = data.items.groupby("作业")["满分"].sum().reindex(names).fillna(0.0)
    results = _submission_results(data, max_by_assignment)
    notes = []
    items = _item_table(data, selected, thresholds, notes)
    summary = _summary(data, results, selected, max_by_assignment)
    submitted = summary[summary["已交"] > 0]
    distribution = score_distribution(submitted["得分率（%）"])
    transcript = _transcript(data, results, names, max_by_assignment, rule)
    lessons = lesson_hours(catalog, rule) if catalog is not None else lesson_hours(_NoCatalog(), rule)
    if catalog is None:
        notes.append("未读取课程目录，课程学时记 0 / no catalog: lessons earn no 学时")
    students = data.students
    if study is not None and len(study):
        if completions is None:
            completions = study_completions(study)
        roster = study[["学号", "姓名"]].drop_duplicates("学号")
        students = pd.concat([students, roster[~roster["学号"].isin(students["学号"])]], ignore_index=True)
    if lesson_attempts is not None and len(lesson_attempts):
        items = pd.concat([items, _lesson_item_table(lesson_attempts, thresholds)], ignore_index=True)
    credit = credit_table(students, lessons, results, rule, completions)
    report = Report(selected, summary, items, transcript, credit, distribution, notes)
    if study is not None:
        times = {column: f"{column}（北京时间）" for column in ("首次学习", "最近学习")}
        report.study = study.assign(**{column: _beijing(study[column]) for column in times}).rename(columns=times)
    if exams is not None:
        report.exams = exams.assign(**{"交卷时间（UTC）": _beijing(exams["交卷时间（UTC）"])}).rename(
            columns={"交卷时间（UTC）": "交卷时间（北京时间）"})
        report.graduation = graduation_table(credit, exams, study if study is not None else report.study, final_id)
    return report


def _lesson_item_table(attempts: pd.DataFrame, thresholds: ItemThresholds) -> pd.DataFrame:
    """Item statistics of lesson questions from first attempts (1 right, 0 wrong), one block per lesson over
    the trainees who answered anything in it; a question they left unanswered counts 0."""
    frames = []
    judged = attempts[attempts["correct"].notna()]
    for lesson_id, rows in judged.groupby("lesson_id", sort=True):
        wide = rows.pivot_table(index="学号", columns="question_id", values="correct", aggfunc="first")
        matrix = wide.fillna(0).astype(float).to_numpy()
        stats = item_statistics(matrix, np.ones(matrix.shape[1]), list(wide.columns), thresholds)
        stats.insert(0, "作业", f"课程自测 {lesson_id}")
        stats.insert(1, "笔记本", lesson_id)
        stats.insert(3, "类型", "课程自测（首次作答）")
        frames.append(stats)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


class _NoCatalog:
    lessons: list = []


def _submission_results(data: GradebookData, max_by_assignment: pd.Series) -> pd.DataFrame:
    """One row per submission: 学号, 作业, 原始得分, 迟交扣分, 得分 (final), 满分, 待人工评分, times."""
    subs = data.submissions
    raw = np.bincount(data.grades["submission"].to_numpy(), data.grades["score"].to_numpy(), minlength=len(subs))
    results = pd.DataFrame({
        "submission_id": subs["submission_id"],
        "学号": subs["学号"],
        "作业": subs["作业"],
        "原始得分": raw[: len(subs)],
        "迟交扣分": subs["penalty"].to_numpy(),
        "满分": subs["作业"].map(max_by_assignment).to_numpy(dtype=float),
        "待人工评分": subs["待人工评分"].to_numpy(),
        "timestamp": subs["timestamp"],
        "duedate": subs["duedate"],
        "seconds_late": subs["seconds_late"],
    })
    results["得分"] = (results["原始得分"] - results["迟交扣分"]).clip(lower=0.0)
    return results


def _item_table(data: GradebookData, selected: list[str], thresholds: ItemThresholds, notes: list[str]) -> pd.DataFrame:
    frames = []
    for name in selected:
        item_rows = np.flatnonzero(data.items["作业"].to_numpy() == name)
        submission_rows = np.flatnonzero(data.submissions["作业"].to_numpy() == name)
        if not len(item_rows) or not len(submission_rows):
            notes.append(f"作业 {name}：{'无评分单元' if not len(item_rows) else '无人提交'}，未做题目分析 / no item analysis")
            continue
        items = data.items.iloc[item_rows].reset_index(drop=True)
        matrix = _score_matrix(data, item_rows, submission_rows)
        stats = item_statistics(matrix, items["满分"].to_numpy(dtype=float), list(items["题目"]), thresholds)
        stats.insert(0, "作业", name)
        stats.insert(1, "笔记本", items["笔记本"].to_numpy())
        stats.insert(3, "类型", items["类型"].map({"code": "代码", "markdown": "文字"}).fillna(items["类型"]).to_numpy())
        frames.append(stats)
    if not frames:
        return pd.DataFrame(columns=["作业", "笔记本", "题目", "类型", "满分", "人数", "平均分", "难度系数", "标准差", "区分度", "区分效率", "提示"])
    return pd.concat(frames, ignore_index=True)


def _summary(data: GradebookData, results: pd.DataFrame, selected: list[str], max_by_assignment: pd.Series) -> pd.DataFrame:
    chosen = results[results["作业"].isin(selected)]
    scores = chosen.pivot(index="学号", columns="作业", values="得分").reindex(columns=selected)
    summary = data.students[["学号", "姓名"]].copy()
    ids = summary["学号"]
    for name in selected:
        summary[f"{name} 得分"] = ids.map(scores[name]).to_numpy()
    total = summary[[f"{name} 得分" for name in selected]].sum(axis=1, min_count=0)
    full = float(max_by_assignment.reindex(selected).sum())
    summary["总分"] = total.to_numpy()
    summary["满分"] = full
    summary["得分率（%）"] = (100.0 * total / full).round(1) if full else np.nan
    by_student = chosen.groupby("学号")
    summary["已交"] = ids.map(by_student.size()).fillna(0).astype(int)
    summary["应交"] = len(selected)
    summary["迟交次数"] = ids.map(chosen[chosen["seconds_late"] > 0].groupby("学号").size()).fillna(0).astype(int)
    summary["待人工评分"] = ids.map(by_student["待人工评分"].sum()).fillna(0).astype(int)
    return summary


def _transcript(data: GradebookData, results: pd.DataFrame, names: list[str], max_by_assignment: pd.Series, rule: CreditRule) -> pd.DataFrame:
    grid = data.students[["学号", "姓名"]].merge(pd.DataFrame({"作业": names}), how="cross")
    grid = grid.merge(results, on=["学号", "作业"], how="left")
    submitted = grid["submission_id"].notna()
    duedates = data.assignments.set_index("作业")["duedate"]
    table = grid[["学号", "姓名", "作业"]].copy()
    table["状态"] = np.where(submitted, "已提交", "未提交")
    table["提交时间（北京时间）"] = _beijing(grid["timestamp"])
    table["截止时间（北京时间）"] = _beijing(pd.to_datetime(grid["duedate"]).combine_first(pd.to_datetime(grid["作业"].map(duedates))))
    table["迟交（小时）"] = (grid["seconds_late"] / 3600).round(1)
    table["原始得分"] = grid["原始得分"]
    table["迟交扣分"] = grid["迟交扣分"]
    table["得分"] = grid["得分"]
    table["满分"] = grid["作业"].map(max_by_assignment).to_numpy(dtype=float)
    table["得分率（%）"] = (100.0 * grid["得分"] / table["满分"].where(table["满分"] > 0)).round(1)
    passed = [rule.passed(s, m) if ok else False for s, m, ok in zip(grid["得分"], table["满分"], submitted)]
    table["及格"] = np.where(submitted, np.where(passed, "是", "否"), "")
    table["待人工评分"] = grid["待人工评分"].fillna(0).astype(int)
    return table


# ---------------------------------------------------------------- writing


def _excel_value(worksheet, value):
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, str) and value.startswith("="):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(worksheet, value=value)
        cell.data_type = "s"  # a name like "=1+1" is text, never a formula
        return cell
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_excel(report: Report, path: str | Path) -> Path:
    """One workbook, one sheet per table (总表, 题目分析, 成绩单, 学时, 学习记录, 测验成绩, 结业, 题库分析, 试卷信度).

    Streamed with openpyxl's write-only mode: pandas' `to_excel` styles every cell and takes
    several times longer on 10 000 trainees."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = Workbook(write_only=True)
    for sheet, attribute in SHEETS.items():
        frame: pd.DataFrame = getattr(report, attribute)
        worksheet = workbook.create_sheet(sheet)
        worksheet.freeze_panes = "A2"
        for index, column in enumerate(frame.columns, 1):
            # CJK characters are about two Latin widths wide.
            worksheet.column_dimensions[get_column_letter(index)].width = min(max(len(str(column)) * 2, 8) + 2, 40)
        worksheet.append([str(column) for column in frame.columns])
        for row in frame.astype(object).itertuples(index=False, name=None):
            worksheet.append([_excel_value(worksheet, value) for value in row])
    workbook.save(path)
    return path


def write_csv(report: Report, folder: str | Path) -> list[Path]:
    """The tables as CSV in utf-8-sig (Excel on Windows opens it with Chinese intact)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, attribute in CSV_FILES.items():
        target = folder / filename
        getattr(report, attribute).to_csv(target, index=False, encoding="utf-8-sig")
        written.append(target)
    return written


def _cjk_font() -> None:
    """Use the font the widgets package ships; without it, any CJK font matplotlib already knows."""
    try:
        from dangxiao.widgets.fonts import use_cjk_font
    except ImportError:
        use_cjk_font = None
    if use_cjk_font is not None:
        use_cjk_font()
        return
    import matplotlib
    from matplotlib import font_manager

    known = {font.name for font in font_manager.fontManager.ttflist}
    for family in ("Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Zen Hei", "Source Han Sans SC"):
        if family in known:
            matplotlib.rcParams["font.sans-serif"] = [family, *matplotlib.rcParams["font.sans-serif"]]
            matplotlib.rcParams["font.family"] = "sans-serif"
            break
    matplotlib.rcParams["axes.unicode_minus"] = False


def plot_score_distribution(report: Report):
    """Bar chart of trainees per score band (得分分布)."""
    from matplotlib.figure import Figure

    _cjk_font()
    figure = Figure(figsize=(7, 3.6), layout="constrained")
    axes = figure.add_subplot()
    dist = report.distribution
    axes.bar(range(len(dist)), dist["人数"], color="#b22222")
    axes.set_xticks(range(len(dist)), [label.replace("%", "") for label in dist["分数段"]], rotation=30)
    axes.set_xlabel("得分率（%）")
    axes.set_ylabel("人数")
    axes.set_title(f"得分分布 · {'、'.join(report.assignments)}（共 {int(dist['人数'].sum())} 人）")
    return figure


def plot_item_map(report: Report, thresholds: ItemThresholds = ItemThresholds()):
    """Scatter of item facility (x) against discrimination (y), thresholds dashed, flagged items named."""
    from matplotlib.figure import Figure

    _cjk_font()
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    axes = figure.add_subplot()
    items = report.items
    facility = 100 * items["难度系数"].astype(float)
    discrimination = items["区分度"].astype(float).fillna(0.0)
    flagged = items["提示"].astype(str) != ""
    axes.scatter(facility[~flagged], discrimination[~flagged], color="#2f6f4f", label="正常")
    axes.scatter(facility[flagged], discrimination[flagged], color="#c0392b", marker="x", label="需复查")
    for x, y, label in zip(facility[flagged], discrimination[flagged], items.loc[flagged, "题目"]):
        axes.annotate(str(label), (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    for x in (100 * thresholds.too_hard, 100 * thresholds.too_easy):
        axes.axvline(x, color="grey", linestyle="--", linewidth=0.8)
    axes.axhline(thresholds.low_discrimination, color="grey", linestyle="--", linewidth=0.8)
    axes.axhline(0, color="black", linewidth=0.6)
    axes.set_xlim(-2, 102)
    axes.set_ylim(min(-40, discrimination.min() - 5) if len(items) else -40, 100)
    axes.set_xlabel("难度系数（%，越高越容易）")
    axes.set_ylabel("区分度（无法计算记为 0）")
    axes.set_title("题目难度与区分度")
    axes.legend(loc="lower left", fontsize=8)
    return figure


def figure_png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def write_charts(report: Report, folder: str | Path) -> list[Path]:
    """score_distribution.png and item_map.png."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, figure in zip(CHART_FILES, (plot_score_distribution(report), plot_item_map(report))):
        target = folder / filename
        target.write_bytes(figure_png(figure))
        written.append(target)
    return written
