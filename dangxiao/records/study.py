"""What the record says of each trainee's study: per lesson active minutes, read to the end, self-test
attempted, completed by the crediting rule, and the 学时 earned; the 错题本; the notes.

The same table serves 我的学习 (one trainee), the class page (one class) and `dangxiao report` (everyone),
so the three never disagree.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pandas as pd

from dangxiao.catalog import Catalog
from dangxiao.credit_rule import CreditRule
from dangxiao.records.store import RecordStore

__all__ = ["STUDY_COLUMNS", "study_table", "completions", "wrong_answers", "lessons_with_questions", "rule_text"]

STUDY_COLUMNS = [
    "学号", "姓名", "班级", "模块", "lesson_id", "课程", "课程时长（分钟）", "学习时长（分钟）",
    "已打开", "已读完", "已做自测", "已完成", "学时", "首次学习", "最近学习",
]


@lru_cache(maxsize=256)
def _notebook_has_quiz(path: str, mtime: float) -> bool:
    try:
        cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return False
    return any(c.get("cell_type") == "code" and "Quiz" in "".join(c.get("source", "")) for c in cells)


def lessons_with_questions(catalog: Catalog) -> set[str]:
    """Lessons whose notebook shows a quiz: only those need an attempted self-test to count."""
    found = set()
    for lesson in catalog.lessons:
        path = catalog.root / lesson.notebook
        if path.is_file() and _notebook_has_quiz(str(path), path.stat().st_mtime):
            found.add(lesson.id)
    return found


def rule_text(rule: CreditRule) -> str:
    """The crediting rule in one sentence, as 我的学习 shows it."""
    tiers = "，".join(
        f"{'≥' if t.inclusive else '>'} {t.minutes:g} 分钟的课计 {t.hours:g} 学时" for t in rule.lesson_tiers)
    test = "并做过课后自测" if rule.require_self_test else ""
    return (f"一课的学习时长达到课程时长的 {rule.completion_share:.0%}{test}，即算完成；"
            f"完成的课按时长计学时：{tiers}。")


def study_table(store: RecordStore, catalog: Catalog, rule: CreditRule, account_id: str | None = None,
                class_name: str | None = None) -> pd.DataFrame:
    """One row per trainee and catalog lesson (every trainee of the roster, studied or not). Built with
    pandas joins over plain rows: 10 000 trainees × 14 lessons in a few seconds (benchmarks/records.py)."""
    accounts = [a for a in store.accounts(role="trainee")
                if (account_id is None or a.id == account_id) and (class_name is None or a.class_name == class_name)]
    if account_id is not None and not accounts:
        account = store.account(account_id)
        accounts = [account] if account else []
    if not accounts:
        return pd.DataFrame(columns=STUDY_COLUMNS)
    with_questions = lessons_with_questions(catalog)
    modules = {m.id: m.title for m in catalog.modules}
    people = pd.DataFrame([(a.id, a.name, a.class_name) for a in accounts], columns=["学号", "姓名", "班级"])
    lessons = pd.DataFrame(
        [(modules.get(l.module_id, l.module_id), l.id, l.title, l.minutes, l.id in with_questions,
          rule.hours_for_lesson(l.minutes)) for l in catalog.lessons],
        columns=["模块", "lesson_id", "课程", "课程时长（分钟）", "_has_quiz", "_hours"])
    progress = pd.DataFrame(store.progress_rows(account_id),
                            columns=["学号", "lesson_id", "_opens", "_seconds", "_completed", "首次学习", "最近学习"])
    tried = pd.DataFrame(store.attempted_lessons(account_id), columns=["学号", "lesson_id"]).assign(已做自测=True)
    table = people.merge(lessons, how="cross").merge(progress, on=["学号", "lesson_id"], how="left") \
        .merge(tried, on=["学号", "lesson_id"], how="left")
    studied = table["_opens"].notna()
    minutes = table["_seconds"].fillna(0.0) / 60
    table["学习时长（分钟）"] = minutes.round(1)
    table["已打开"] = studied & (table["_opens"].fillna(0) > 0)
    table["已读完"] = table["_completed"].notna()
    table["已做自测"] = table["已做自测"].fillna(False).astype(bool)
    needs_test = table["_has_quiz"] & rule.require_self_test
    table["已完成"] = studied & (minutes >= rule.completion_share * table["课程时长（分钟）"] - 1e-9) \
        & (table["已做自测"] | ~needs_test)
    table["学时"] = table["_hours"].where(table["已完成"], 0.0).astype(float)
    for column in ("首次学习", "最近学习"):
        table[column] = table[column].astype(object).where(table[column].notna(), None)
    return table[STUDY_COLUMNS].reset_index(drop=True)


def completions(table: pd.DataFrame) -> pd.DataFrame:
    """The completed lessons of a study table, in the `lesson_id,student_id` shape of `credit_table`."""
    done = table[table["已完成"]]
    return pd.DataFrame({"lesson_id": done["lesson_id"], "student_id": done["学号"]}).reset_index(drop=True)


def wrong_answers(store: RecordStore, account_id: str) -> list[dict]:
    """The 错题本: every lesson question the trainee answered wrong at least once, newest first, with
    whether a later attempt got it right."""
    by_question: dict[str, dict] = {}
    for attempt in store.attempts(account_id):
        entry = by_question.setdefault(attempt.question_id, {
            "question_id": attempt.question_id, "lesson_id": attempt.lesson_id, "wrong": 0,
            "last_wrong_answer": None, "last_wrong_at": None, "corrected": False})
        if attempt.correct is False:
            entry["wrong"] += 1
            entry["last_wrong_answer"], entry["last_wrong_at"] = attempt.answer, attempt.at
            entry["corrected"] = False
        elif attempt.correct and entry["wrong"]:
            entry["corrected"] = True
    wrong = [e for e in by_question.values() if e["wrong"]]
    return sorted(wrong, key=lambda e: e["last_wrong_at"], reverse=True)
