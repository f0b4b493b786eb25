"""学时 crediting rule: tiers, pass mark, YAML rule file, completion export, per-trainee table."""
from __future__ import annotations

import pandas as pd
import pytest

from dangxiao.catalog import Catalog, Lesson, Module
from dangxiao.errors import DangxiaoError
from dangxiao.grading.credit import (
    SOURCE_ASSUMED,
    SOURCE_COMPLETIONS,
    CreditRule,
    credit_table,
    lesson_hours,
    load_completions,
    load_credit_rule,
)


@pytest.mark.parametrize(
    "minutes, hours",
    [(90, 1.0), (40, 1.0), (30, 1.0), (29, 0.5), (16, 0.5), (15.5, 0.5), (15, 0.25), (5, 0.25)],
)
def test_default_tiers(minutes, hours):
    # ≥ 30 min = 1 学时; 15–30 min = 0.5; ≤ 15 min = 0.25 (15 itself is "≤ 15").
    assert CreditRule().hours_for_lesson(minutes) == hours


def test_pass_mark():
    rule = CreditRule()
    assert rule.passed(6, 10) and not rule.passed(5.9, 10)
    assert not rule.passed(0, 0)  # an assignment with no points cannot be passed


def test_rule_from_yaml(tmp_path):
    path = tmp_path / "rule.yaml"
    path.write_text(
        "lesson_tiers:\n"
        "  - {minutes: 45, hours: 1}\n"
        "  - {minutes: 0, hours: 0.5, inclusive: false}\n"
        "passed_test_hours: 1\n"
        "pass_mark: 0.8\n",
        encoding="utf-8",
    )
    rule = load_credit_rule(path)
    assert [rule.hours_for_lesson(m) for m in (45, 44, 1)] == [1.0, 0.5, 0.5]
    assert rule.passed_test_hours == 1.0 and rule.pass_mark == 0.8
    path.write_text("pass_mark: 60\n", encoding="utf-8")
    with pytest.raises(DangxiaoError, match="pass_mark"):
        load_credit_rule(path)
    path.write_text("lesson_tier: []\n", encoding="utf-8")
    with pytest.raises(DangxiaoError, match="rule.yaml: 未知字段"):
        load_credit_rule(path)


def _catalog(tmp_path) -> Catalog:
    lessons = (Lesson("l1", "导学", "l1.ipynb", 15, "m"), Lesson("l2", "党建引领", "l2.ipynb", 40, "m"),
               Lesson("l3", "法治", "l3.ipynb", 20, "m"))
    return Catalog("课程", (Module("m", "模块", lessons),), tmp_path)


def test_credit_table_with_completions_and_tests(tmp_path):
    rule = CreditRule()
    lessons = lesson_hours(_catalog(tmp_path), rule)
    assert lessons["学时"].tolist() == [0.25, 1.0, 0.5]
    export = tmp_path / "completions.csv"
    export.write_text("lesson_id,student_id\nl1,s1\nl2,s1\nl2,s1\nl3,s2\n", encoding="utf-8-sig")
    completions = load_completions(export, set(lessons["lesson_id"]))
    students = pd.DataFrame({"学号": ["s1", "s2", "s3"], "姓名": ["张三", "李四", "王五"]})
    results = pd.DataFrame({"学号": ["s1", "s1", "s2"], "得分": [6.0, 3.0, 10.0], "满分": [10.0, 10.0, 10.0]})
    table = credit_table(students, lessons, results, rule, completions).set_index("学号")
    # s1: l1 0.25 + l2 1 (the duplicate row counts once) + one passed test 0.5 = 1.75
    assert table.loc["s1", ["完成课程数", "课程学时", "通过测验数", "合计学时"]].tolist() == [2, 1.25, 1, 1.75]
    # s2: l3 0.5 + one passed test 0.5
    assert table.loc["s2", "合计学时"] == 1.0
    assert table.loc["s3", "合计学时"] == 0.0
    assert set(table["来源"]) == {SOURCE_COMPLETIONS}
    # Without an export: the labelled assumption, all lessons for those who submitted something.
    assumed = credit_table(students, lessons, results, rule).set_index("学号")
    assert assumed["课程学时"].tolist() == [1.75, 1.75, 0.0]
    assert set(assumed["来源"]) == {SOURCE_ASSUMED}


def test_completion_export_errors_name_file_and_line(tmp_path):
    export = tmp_path / "completions.csv"
    export.write_text("lesson_id,student_id\nl1,s1\nl9,s2\n", encoding="utf-8")
    with pytest.raises(DangxiaoError, match=r"completions.csv: 第 3 行.*l9"):
        load_completions(export, {"l1"})
    export.write_text("lesson,student\nl1,s1\n", encoding="utf-8")
    with pytest.raises(DangxiaoError, match="lesson_id,student_id"):
        load_completions(export)
