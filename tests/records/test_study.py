"""`dangxiao.records.study`: the study table (a lesson counts when its active time reaches the share of its
catalog minutes and, where it has a quiz, a question was attempted), completions and the 错题本, on
records made by hand and on a tiny catalog."""
from __future__ import annotations

from datetime import timedelta

import pytest

from dangxiao.credit_rule import CreditRule
from dangxiao.records.models import LessonProgress, QuizAttempt
from dangxiao.records.store import utcnow
from dangxiao.records.study import STUDY_COLUMNS, completions, lessons_with_questions, rule_text, study_table, wrong_answers


def progress(store, account_id, lesson_id, minutes, opens=1, read_to_end=False):
    now = utcnow()
    with store.session() as db, db.begin():
        db.add(LessonProgress(account_id=account_id, lesson_id=lesson_id, first_opened_at=now - timedelta(hours=1),
                              last_seen_at=now, opens=opens, active_seconds=minutes * 60.0,
                              completed_at=now if read_to_end else None))


def attempted(store, account_id, lesson_id, question_id="q-one", correct=True, answer="A", minutes_ago=0):
    with store.session() as db, db.begin():
        earlier = db.query(QuizAttempt).filter_by(account_id=account_id, question_id=question_id).count()
        db.add(QuizAttempt(event_id=f"e-{account_id}-{question_id}-{earlier}-{minutes_ago}", account_id=account_id,
                           lesson_id=lesson_id, question_id=question_id, answer=answer, correct=correct,
                           first=earlier == 0, at=utcnow() - timedelta(minutes=minutes_ago)))


@pytest.fixture
def studied(record_store, kit):
    """Three trainees of two classes and an instructor; l1 40 min + quiz, l2 20 min + quiz, l3 10 min."""
    store = record_store
    kit.add_trainees(store, "a1", "a2")
    kit.add_trainees(store, "b1", class_name="二班")
    store.add_staff("jiaoyuan", "教员（模拟）", "instructor", "staff-pass-123")
    progress(store, "a1", "l1", 32.0)          # exactly 80 % of 40 min, quiz tried: counts
    attempted(store, "a1", "l1")
    progress(store, "a1", "l2", 16.0)          # 80 % of 20 min but its quiz never tried: does not count
    progress(store, "a1", "l3", 8.0)           # 80 % of 10 min, no quiz in the lesson: counts
    progress(store, "a2", "l1", 31.9, read_to_end=True)  # a little short, even though read to the end
    attempted(store, "a2", "l1")
    attempted(store, "a2", "l2")               # quiz tried without studying: does not count
    progress(store, "b1", "l2", 25.0)
    attempted(store, "b1", "l2", "q-two", correct=False)
    return store


def _cell(table, account, lesson, column):
    rows = table[(table["学号"] == account) & (table["lesson_id"] == lesson)]
    assert len(rows) == 1
    return rows.iloc[0][column]


def test_lessons_with_a_quiz_are_found_from_their_notebooks(tiny_catalog):
    assert lessons_with_questions(tiny_catalog) == {"l1", "l2"}


def test_study_table_has_a_row_per_trainee_and_lesson_and_applies_the_rule(studied, tiny_catalog):
    table = study_table(studied, tiny_catalog, CreditRule())
    assert list(table.columns) == STUDY_COLUMNS
    assert sorted(set(table["学号"])) == ["a1", "a2", "b1"]  # trainees only, the instructor has no row
    assert len(table) == 3 * 3
    done = {(r["学号"], r["lesson_id"]) for _, r in table[table["已完成"]].iterrows()}
    assert done == {("a1", "l1"), ("a1", "l3"), ("b1", "l2")}
    assert _cell(table, "a1", "l1", "学时") == 1.0      # ≥ 30 min lesson
    assert _cell(table, "b1", "l2", "学时") == 0.5      # > 15 min lesson
    assert _cell(table, "a1", "l3", "学时") == 0.25     # a short lesson
    assert _cell(table, "a1", "l2", "学时") == 0.0
    assert _cell(table, "a1", "l2", "学习时长（分钟）") == 16.0
    assert bool(_cell(table, "a2", "l1", "已读完")) and not bool(_cell(table, "a2", "l1", "已完成"))
    assert bool(_cell(table, "a2", "l2", "已做自测")) and not bool(_cell(table, "a2", "l2", "已打开"))
    assert not bool(_cell(table, "a2", "l3", "已打开")) and _cell(table, "a2", "l3", "学习时长（分钟）") == 0.0
    assert _cell(table, "a1", "l1", "模块") == "模块甲" and _cell(table, "a1", "l3", "课程") == "第三课"
    assert table.groupby("学号")["学时"].sum().to_dict() == {"a1": 1.25, "a2": 0.0, "b1": 0.5}


def test_the_rule_from_the_yaml_changes_what_counts(studied, tiny_catalog):
    no_test = study_table(studied, tiny_catalog, CreditRule(require_self_test=False))
    assert bool(_cell(no_test, "a1", "l2", "已完成")) and _cell(no_test, "a1", "l2", "学时") == 0.5
    half = study_table(studied, tiny_catalog, CreditRule(completion_share=0.5))
    assert not bool(_cell(half, "a2", "l2", "已完成"))  # tried, but never studied it at all
    assert bool(_cell(half, "a2", "l1", "已完成"))
    strict = study_table(studied, tiny_catalog, CreditRule(completion_share=1.0))
    assert [tuple(r) for r in strict[strict["已完成"]][["学号", "lesson_id"]].values.tolist()] == [("b1", "l2")]


def test_study_table_for_one_trainee_or_one_class(studied, tiny_catalog):
    mine = study_table(studied, tiny_catalog, CreditRule(), account_id="a2")
    assert set(mine["学号"]) == {"a2"} and len(mine) == 3
    second_class = study_table(studied, tiny_catalog, CreditRule(), class_name="二班")
    assert set(second_class["学号"]) == {"b1"}
    staff = study_table(studied, tiny_catalog, CreditRule(), account_id="jiaoyuan")  # an instructor's own page
    assert set(staff["学号"]) == {"jiaoyuan"} and not staff["已完成"].any()
    assert study_table(studied, tiny_catalog, CreditRule(), account_id="nobody").empty


def test_completions_have_the_shape_credit_table_reads(studied, tiny_catalog):
    table = study_table(studied, tiny_catalog, CreditRule())
    done = completions(table)
    assert list(done.columns) == ["lesson_id", "student_id"]
    assert sorted(map(tuple, done[["lesson_id", "student_id"]].values.tolist())) == [
        ("l1", "a1"), ("l2", "b1"), ("l3", "a1")]


def test_events_from_a_study_session_make_a_completed_lesson(record_store, kit, tiny_catalog):
    """The whole path from what a page and a kernel send to a counted lesson."""
    store = record_store
    kit.add_trainees(store, "a1")
    beats = [kit.beat(kit.base + 60 * n, 60) for n in range(16)]  # sixteen minutes on l2
    store.record_events("a1", "l2", beats)
    table = study_table(store, tiny_catalog, CreditRule())
    assert _cell(table, "a1", "l2", "学习时长（分钟）") == 16.0 and not bool(_cell(table, "a1", "l2", "已完成"))
    store.record_events("a1", "l2", [kit.attempt(kit.base + 1000, "q-one", False)])
    table = study_table(store, tiny_catalog, CreditRule())
    assert bool(_cell(table, "a1", "l2", "已完成")) and _cell(table, "a1", "l2", "学时") == 0.5
    assert list(completions(table).itertuples(index=False, name=None)) == [("l2", "a1")]


def test_wrong_answers_list_each_question_got_wrong_newest_first(record_store, kit):
    store = record_store
    kit.add_trainees(store, "a1", "a2")
    attempted(store, "a1", "l1", "q-one", correct=False, answer="B", minutes_ago=50)
    attempted(store, "a1", "l1", "q-one", correct=True, answer="A", minutes_ago=40)   # corrected later
    attempted(store, "a1", "l2", "q-two", correct=False, answer=["A", "C"], minutes_ago=30)
    attempted(store, "a1", "l2", "q-two", correct=False, answer=["C"], minutes_ago=20)
    attempted(store, "a1", "l2", "q-three", correct=True, minutes_ago=10)            # never wrong
    attempted(store, "a1", "l2", "q-four", correct=None, minutes_ago=5)              # not judged
    attempted(store, "a2", "l1", "q-five", correct=False, minutes_ago=1)             # someone else's
    wrong = wrong_answers(store, "a1")
    assert [(w["question_id"], w["lesson_id"], w["wrong"], w["last_wrong_answer"], w["corrected"]) for w in wrong] == [
        ("q-two", "l2", 2, ["C"], False), ("q-one", "l1", 1, "B", True)]
    assert wrong[0]["last_wrong_at"] > wrong[1]["last_wrong_at"]
    assert [w["question_id"] for w in wrong_answers(store, "a2")] == ["q-five"]
    assert wrong_answers(store, "nobody") == []


def test_wrong_again_after_being_right_is_not_corrected(record_store, kit):
    store = record_store
    kit.add_trainees(store, "a1")
    attempted(store, "a1", "l1", "q-one", correct=False, minutes_ago=30)
    attempted(store, "a1", "l1", "q-one", correct=True, minutes_ago=20)
    attempted(store, "a1", "l1", "q-one", correct=False, answer="D", minutes_ago=10)
    (entry,) = wrong_answers(store, "a1")
    assert (entry["wrong"], entry["last_wrong_answer"], entry["corrected"]) == (2, "D", False)


def test_rule_text_states_the_share_and_the_tiers():
    text = rule_text(CreditRule())
    assert "80%" in text and "并做过课后自测" in text and "≥ 30 分钟的课计 1 学时" in text
    assert "并做过课后自测" not in rule_text(CreditRule(require_self_test=False))
