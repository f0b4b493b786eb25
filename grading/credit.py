"""学时 credit: study hours from completed lessons and passed tests.

The rule (tiers, test hours, pass mark, completion share) is `dangxiao.credit_rule.CreditRule`, set by a
YAML file (`dangxiao report --credit-rule FILE`); it is re-exported here.

Which lessons a trainee completed: the site's learning record (`dangxiao.records.study`), or a CSV the
centre exports from another platform, columns `lesson_id,student_id` (utf-8-sig or utf-8;
`dangxiao report --completions FILE`). Without either the report falls back to an explicit, labelled assumption: every catalog lesson
counts for every trainee who submitted at least one assignment (source column 来源 says which).
"""
from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from dangxiao.credit_rule import CreditRule, LessonTier, load_credit_rule
from dangxiao.errors import DangxiaoError

__all__ = [
    "LessonTier",
    "CreditRule",
    "load_credit_rule",
    "lesson_hours",
    "load_completions",
    "credit_table",
    "SOURCE_COMPLETIONS",
    "SOURCE_ASSUMED",
]

SOURCE_COMPLETIONS = "学习记录"
SOURCE_ASSUMED = "推定：已交作业者计全部课程"


def lesson_hours(catalog, rule: CreditRule) -> pd.DataFrame:
    """One row per catalog lesson: lesson_id, 课程 title, 时长（分钟）, 学时."""
    rows = [
        {"lesson_id": lesson.id, "课程": lesson.title, "时长（分钟）": lesson.minutes, "学时": rule.hours_for_lesson(lesson.minutes)}
        for lesson in catalog.lessons
    ]
    return pd.DataFrame(rows, columns=["lesson_id", "课程", "时长（分钟）", "学时"])


def load_completions(path: Path | str, known_lessons: set[str] | None = None) -> pd.DataFrame:
    """Read the centre's completion export (`lesson_id,student_id`); bad rows are errors naming the line."""
    path = Path(path)
    rows = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or not {"lesson_id", "student_id"} <= set(reader.fieldnames):
                raise DangxiaoError(f"{path}: 须有列 lesson_id,student_id / needs columns lesson_id,student_id")
            for line, row in enumerate(reader, 2):
                lesson, student = (row.get("lesson_id") or "").strip(), (row.get("student_id") or "").strip()
                if not lesson or not student:
                    raise DangxiaoError(f"{path}: 第 {line} 行缺少 lesson_id 或 student_id / line {line}: empty field")
                if known_lessons is not None and lesson not in known_lessons:
                    raise DangxiaoError(f"{path}: 第 {line} 行课程 '{lesson}' 不在课程目录中 / line {line}: unknown lesson")
                rows.append((lesson, student))
    except FileNotFoundError:
        raise DangxiaoError(f"{path}: 文件不存在 / file not found") from None
    except UnicodeDecodeError:
        raise DangxiaoError(f"{path}: 须为 UTF-8 编码 / must be UTF-8") from None
    return pd.DataFrame(rows, columns=["lesson_id", "student_id"]).drop_duplicates()


def credit_table(
    students: pd.DataFrame,
    lessons: pd.DataFrame,
    results: pd.DataFrame,
    rule: CreditRule,
    completions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """学时 per trainee.

    `students`: columns 学号, 姓名; `lessons`: from `lesson_hours`; `results`: one row per submission
    with columns 学号, 得分, 满分 (final scores); `completions`: lesson_id, student_id or None for the
    labelled assumption (all lessons for those who submitted something).
    """
    submitted = results.groupby("学号").size()
    passed = results[[rule.passed(s, m) for s, m in zip(results["得分"], results["满分"])]].groupby("学号").size()
    if completions is None:
        lesson_count = pd.Series(len(lessons), index=submitted.index, dtype=float)
        lesson_credit = pd.Series(float(lessons["学时"].sum()), index=submitted.index)
        source = SOURCE_ASSUMED
    else:
        merged = completions.merge(lessons[["lesson_id", "学时"]], on="lesson_id", how="inner")
        lesson_count = merged.groupby("student_id").size().astype(float)
        lesson_credit = merged.groupby("student_id")["学时"].sum()
        source = SOURCE_COMPLETIONS
    table = students[["学号", "姓名"]].copy()
    ids = table["学号"]
    table["完成课程数"] = ids.map(lesson_count).fillna(0).astype(int)
    table["课程学时"] = ids.map(lesson_credit).fillna(0.0)
    table["通过测验数"] = ids.map(passed).fillna(0).astype(int)
    table["测验学时"] = table["通过测验数"] * rule.passed_test_hours
    table["合计学时"] = table["课程学时"] + table["测验学时"]
    table["来源"] = source
    return table.reset_index(drop=True)
