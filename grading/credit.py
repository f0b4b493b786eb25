"""学时 credit: study hours from completed lessons and passed tests.

The default rule is one provincial online academy's (see FIELD-NOTES): a lesson of ≥ 30 min earns
1 学时, over 15 and under 30 min 0.5, ≤ 15 min 0.25; each passed test (an nbgrader assignment whose
score reaches the pass mark, 60 % by default) earns 0.5. A training centre changes it with a YAML
file (`dangxiao report --credit-rule FILE`)::

    # 学时认定规则 / crediting rule
    lesson_tiers:            # first tier that matches wins, so list the longest first
      - {minutes: 30, hours: 1.0, inclusive: true}    # ≥ 30 min
      - {minutes: 15, hours: 0.5, inclusive: false}   # > 15 min
      - {minutes: 0,  hours: 0.25, inclusive: false}  # anything else (> 0 min)
    passed_test_hours: 0.5
    pass_mark: 0.6           # fraction of the full mark

Which lessons a trainee completed: a CSV the centre exports from its attendance or learning
platform, columns `lesson_id,student_id` (utf-8-sig or utf-8; `dangxiao report --completions FILE`).
Without that file the report falls back to an explicit, labelled assumption: every catalog lesson
counts for every trainee who submitted at least one assignment (source column 来源 says which).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

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


@dataclass(frozen=True)
class LessonTier:
    """A lesson lasting at least (`inclusive`) or more than `minutes` earns `hours` 学时."""

    minutes: float
    hours: float
    inclusive: bool = True

    def matches(self, minutes: float) -> bool:
        return minutes >= self.minutes if self.inclusive else minutes > self.minutes


@dataclass(frozen=True)
class CreditRule:
    lesson_tiers: tuple[LessonTier, ...] = (
        LessonTier(30, 1.0, True),
        LessonTier(15, 0.5, False),
        LessonTier(0, 0.25, False),
    )
    passed_test_hours: float = 0.5
    pass_mark: float = 0.6

    def hours_for_lesson(self, minutes: float) -> float:
        for tier in self.lesson_tiers:
            if tier.matches(minutes):
                return tier.hours
        return 0.0

    def passed(self, score: float, max_score: float) -> bool:
        return max_score > 0 and score / max_score >= self.pass_mark - 1e-9


def _number(path, where: str, value, low: float = 0.0, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low or (high is not None and value > high):
        bound = f"{low}–{high}" if high is not None else f"≥ {low}"
        raise DangxiaoError(f"{path}: {where}: 须为数值 {bound} / must be a number {bound}, got {value!r}")
    return float(value)


def load_credit_rule(path: Path | str) -> CreditRule:
    """Read and validate a crediting rule from YAML; missing keys keep the defaults."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise DangxiaoError(f"{path}: 文件不存在 / file not found") from None
    except yaml.YAMLError:
        raise DangxiaoError(f"{path}: YAML 格式错误 / malformed YAML") from None
    if not isinstance(document, dict):
        raise DangxiaoError(f"{path}: 须为键值映射 / must be a mapping")
    unknown = set(document) - {"lesson_tiers", "passed_test_hours", "pass_mark"}
    if unknown:
        raise DangxiaoError(f"{path}: 未知字段 {sorted(unknown)} / unknown keys")
    default = CreditRule()
    tiers = default.lesson_tiers
    if "lesson_tiers" in document:
        raw_tiers = document["lesson_tiers"]
        if not isinstance(raw_tiers, list) or not raw_tiers:
            raise DangxiaoError(f"{path}: lesson_tiers 须为非空列表 / must be a non-empty list")
        tiers = []
        for index, raw in enumerate(raw_tiers, 1):
            where = f"lesson_tiers[{index}]"
            if not isinstance(raw, dict) or set(raw) - {"minutes", "hours", "inclusive"}:
                raise DangxiaoError(f"{path}: {where}: 须含 minutes, hours, inclusive / needs minutes, hours, inclusive")
            inclusive = raw.get("inclusive", True)
            if not isinstance(inclusive, bool):
                raise DangxiaoError(f"{path}: {where}.inclusive: 须为 true/false / must be a boolean")
            tiers.append(LessonTier(_number(path, f"{where}.minutes", raw.get("minutes")),
                                    _number(path, f"{where}.hours", raw.get("hours")), inclusive))
        tiers = tuple(tiers)
    return CreditRule(
        lesson_tiers=tiers,
        passed_test_hours=_number(path, "passed_test_hours", document.get("passed_test_hours", default.passed_test_hours)),
        pass_mark=_number(path, "pass_mark", document.get("pass_mark", default.pass_mark), 0.0, 1.0),
    )


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
