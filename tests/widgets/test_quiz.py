"""Question widgets driven from Python as a trainee would: controls set, 提交 pressed."""
from __future__ import annotations

import json

import pytest

from dangxiao.questions import QuestionBankError
from dangxiao.widgets import AnswerStore, Quiz, QuizGroup
from dangxiao.widgets.quiz import PLEASE_ANSWER, RECORDED

IDS = ["t1-single", "t1-multiple", "t1-truefalse", "t1-fill", "t1-numeric", "t1-matching", "t1-ordering"]


@pytest.mark.parametrize("qid", IDS)
def test_right_answer_is_judged_right_with_explanation_and_source(bank, qid, answer, right):
    quiz = Quiz.from_bank(qid, folder=bank)
    answer(quiz, right[qid])
    assert quiz.response == right[qid]
    quiz.submit_button.click()
    assert quiz.correct is True
    assert quiz.feedback.startswith("✔ 回答正确")
    assert "解析：" + quiz.spec.explanation in quiz.feedback
    assert "出处：" in quiz.feedback
    assert "回答正确" in quiz.feedback_html.value


@pytest.mark.parametrize("qid", IDS)
def test_wrong_answer_reveals_the_key_only_when_asked(bank, qid, answer, wrong):
    lesson = Quiz.from_bank(qid, reveal=True, folder=bank)
    answer(lesson, wrong[qid])
    assert lesson.submit() is False and lesson.correct is False
    assert "✘ 回答有误" in lesson.feedback and "正确答案：" in lesson.feedback
    assert "解析：" in lesson.feedback

    graded = Quiz.from_bank(qid, reveal=False, folder=bank)
    answer(graded, wrong[qid])
    assert graded.submit() is False
    assert "正确答案" not in graded.feedback and "解析" not in graded.feedback


@pytest.mark.parametrize("qid", IDS)
def test_store_saves_every_change_and_a_new_widget_loads_it(bank, tmp_path, qid, answer, right):
    store = AnswerStore(tmp_path / "answers.json")
    quiz = Quiz.from_bank(qid, store=store, folder=bank)
    answer(quiz, right[qid])
    saved = json.loads((tmp_path / "answers.json").read_text(encoding="utf-8"))
    assert saved[qid] == right[qid]  # saved on change, before any 提交

    again = Quiz.from_bank(qid, store=AnswerStore(tmp_path / "answers.json"), folder=bank)
    assert again.response == right[qid]
    assert "已载入" in again.feedback
    assert again.submit() is True


def test_submit_without_an_answer_asks_for_one(bank):
    for qid in ("t1-single", "t1-multiple", "t1-fill", "t1-numeric", "t1-matching", "t1-truefalse"):
        quiz = Quiz.from_bank(qid, folder=bank)
        assert quiz.submit() is None
        assert quiz.feedback == PLEASE_ANSWER and quiz.correct is None and not quiz.submitted


def test_fill_accepts_variants_and_numeric_tolerance_and_fullwidth(bank):
    fill = Quiz.from_bank("t1-fill", folder=bank)
    fill.control.value = " 律师 "
    assert fill.submit() is True
    numeric = Quiz.from_bank("t1-numeric", folder=bank)
    numeric.control.value = "９５．２４"  # typed with a Chinese input method
    assert numeric.response == pytest.approx(95.24) and numeric.submit() is True
    numeric.control.value = "95.26"
    assert numeric.submit() is False
    numeric.control.value = "九十五"
    assert numeric.response is None and numeric.submit() is None


def test_ordering_starts_unsolved_and_buttons_move_steps(bank, right):
    quiz = Quiz.from_bank("t1-ordering", folder=bank)
    assert quiz.order != right["t1-ordering"]
    assert sorted(quiz.order) == sorted(right["t1-ordering"])
    first, second = quiz.order[:2]
    assert quiz.order_buttons[0][0].disabled  # the first step cannot move up
    quiz.order_buttons[0][1].click()
    assert quiz.order[:2] == [second, first] and quiz.response[:2] == [second, first]


def test_graded_inline_question_records_without_judging(tmp_path):
    store = AnswerStore(tmp_path / "answers.json")
    quiz = Quiz.inline(id="a01-q1", type="single", stem="哪一项是根本保证？", options=["甲", "乙", "丙"], store=store)
    assert quiz.spec.question is None  # no key in the notebook
    quiz.control.value = "乙"
    quiz.submit_button.click()
    assert quiz.correct is None and quiz.feedback.startswith(RECORDED)
    assert "正确" not in quiz.feedback and "有误" not in quiz.feedback
    assert AnswerStore(tmp_path / "answers.json").get("a01-q1") == "乙"


def test_inline_matching_and_ordering_without_answer(tmp_path):
    store = AnswerStore(tmp_path / "answers.json")
    matching = Quiz.inline(id="a01-q2", type="matching", stem="连线", store=store,
                           options={"left": ["阳泉", "武汉"], "right": ["甲", "乙", "丙"]})
    matching.dropdowns["阳泉"].value = "丙"
    ordering = Quiz.inline(id="a01-q3", type="ordering", stem="排序", options=["三", "一", "二"], store=store)
    ordering.move(2, -1)
    assert store.get("a01-q2") == {"阳泉": "丙"}
    assert store.get("a01-q3") == ["三", "二", "一"]


def test_inline_with_answer_is_judged(tmp_path):
    quiz = Quiz.inline(id="x-q1", type="numeric", stem="多少个？", answer=3503, tolerance=0, reveal=True,
                       explanation="原文数字。", source="wuhan")
    quiz.control.value = "3502"
    assert quiz.submit() is False and "正确答案：3503" in quiz.feedback


def test_tampered_saved_answer_is_not_loaded_and_file_untouched(bank, tmp_path):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"t1-single": "不存在的选项"}, ensure_ascii=False), encoding="utf-8")
    before = path.read_bytes()
    quiz = Quiz.from_bank("t1-single", store=AnswerStore(path), folder=bank)
    assert quiz.response is None and "未能载入" in quiz.feedback
    assert path.read_bytes() == before


def test_group_score_counts_points_of_right_answers(bank, tmp_path, answer, right, wrong):
    group = QuizGroup(["t1-single", "t1-truefalse", "t1-fill"], folder=bank)
    assert (group.score, group.total) == (0, 3)
    single, truefalse, fill = group.quizzes
    answer(single, right["t1-single"])
    single.submit_button.click()
    answer(truefalse, wrong["t1-truefalse"])
    truefalse.submit_button.click()
    assert (group.score, group.answered) == (1, 2)
    assert "得分：1 / 3" in group.score_label.value
    answer(truefalse, right["t1-truefalse"])
    truefalse.submit_button.click()
    assert group.score == 2


def test_inline_bad_question_names_the_id_and_reason():
    with pytest.raises(QuestionBankError) as error:
        Quiz.inline(id="a01-q9", type="single", stem="？", options=["甲", "乙"], answer="丙")
    assert "a01-q9" in str(error.value) and "不在选项中" in str(error.value)
    with pytest.raises(QuestionBankError, match="未知题型"):
        Quiz.inline(id="a01-q9", type="puzzle", stem="？")
    with pytest.raises(QuestionBankError, match="options"):
        Quiz.inline(id="a01-q9", type="single", stem="？")


def test_lesson_widgets_without_store_write_nothing(bank, tmp_path, monkeypatch, answer, right):
    lesson_dir = tmp_path / "lesson"
    lesson_dir.mkdir()
    monkeypatch.chdir(lesson_dir)  # Voila lessons: many viewers, no files
    group = QuizGroup(["t1-single", "t1-ordering"], folder=bank)
    for quiz in group.quizzes:
        answer(quiz, right[quiz.spec.id])
        quiz.submit_button.click()
    assert group.score == 2
    assert list(lesson_dir.iterdir()) == []


@pytest.mark.parametrize("kwargs, reason", [
    (dict(type="multiple", options=["甲", "乙"], answer="甲"), "类型错误"),
    (dict(type="matching", options={"left": ["甲", "甲"], "right": ["一", "二"]}), "重复"),
    (dict(type="matching", options={"left": ["甲", "乙"], "right": ["一", "二"]}, answer={"甲": "一", "丙": "二"}),
     "包含答案"),
    (dict(type="ordering", options=["一", "二"], answer=["一", "三"]), "步骤相同"),
    (dict(type="truefalse", answer="对"), "类型错误"),
])
def test_inline_inconsistent_options_and_answer_are_refused(kwargs, reason):
    with pytest.raises(QuestionBankError, match=reason) as error:
        Quiz.inline(id="a02-q1", stem="题干", **kwargs)
    assert "a02-q1" in str(error.value) and "<notebook>" in str(error.value)
