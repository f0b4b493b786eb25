"""The 学时 crediting rule (core: the site's 我的学习 and the cohort report both apply it).

The default rule is one provincial online academy's (see FIELD-NOTES): a lesson of ≥ 30 min earns
1 学时, over 15 and under 30 min 0.5, ≤ 15 min 0.25; each passed test (an nbgrader assignment whose
score reaches the pass mark, 60 % by default) earns 0.5. A lesson counts as completed, from the learning
record, when the trainee's active study time reaches `completion_share` (80 %) of its catalog minutes and
its self-test was attempted. A training centre changes any of it with a YAML file
(`dangxiao report --credit-rule FILE`, `dangxiao serve --credit-rule FILE`)::

    # 学时认定规则 / crediting rule
    lesson_tiers:            # first tier that matches wins, so list the longest first
      - {minutes: 30, hours: 1.0, inclusive: true}    # ≥ 30 min
      - {minutes: 15, hours: 0.5, inclusive: false}   # > 15 min
      - {minutes: 0,  hours: 0.25, inclusive: false}  # anything else (> 0 min)
    passed_test_hours: 0.5
    pass_mark: 0.6           # fraction of the full mark
    completion_share: 0.8    # active time / catalog minutes for a lesson to count
    require_self_test: true  # …and at least one answer to the lesson's questions
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from dangxiao.errors import DangxiaoError

__all__ = ["LessonTier", "CreditRule", "load_credit_rule"]


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
    completion_share: float = 0.8
    require_self_test: bool = True

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
    unknown = set(document) - {"lesson_tiers", "passed_test_hours", "pass_mark", "completion_share", "require_self_test"}
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
        completion_share=_number(path, "completion_share",
                                 document.get("completion_share", default.completion_share), 0.0, 1.0),
        require_self_test=_boolean(path, "require_self_test",
                                   document.get("require_self_test", default.require_self_test)),
    )


def _boolean(path, where: str, value) -> bool:
    if not isinstance(value, bool):
        raise DangxiaoError(f"{path}: {where}: 须为 true/false / must be a boolean, got {value!r}")
    return value
