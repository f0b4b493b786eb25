"""score_paper: answers by displayed text, all-or-nothing per item, essays pending, pass mark."""
from __future__ import annotations

import json

import pytest

from dangxiao.assessments import AnswerError, check_answer, draw_paper, feedback_view, load_blueprint, score_paper

QUIZ = """\
id: quiz
title: 小测
points: {single: 2, multiple: 4, truefalse: 1, fill: 2, numeric: 2, essay: 5}
draws:
  - {type: single, count: 3}
  - {type: multiple, count: 2}
  - {type: truefalse, count: 2}
  - {type: fill, count: 1}
  - {type: numeric, count: 1}
time_limit: 15
pass_mark: 60
"""


@pytest.fixture
def quiz(kit, tmp_path):
    bank = kit.make_bank({("m1", "single"): 6, ("m1", "multiple"): 4, ("m1", "truefalse"): 4, ("m1", "fill"): 2,
                          ("m1", "numeric"): 2, ("m1", "essay"): 2})
    blueprint = load_blueprint(kit.write_blueprint(tmp_path, "quiz", QUIZ), bank=bank)
    return blueprint, bank


def key_answers(paper, bank):
    answers = {}
    for item in paper.items:
        q = bank[item.item_id]
        answers[item.item_id] = {"multiple": lambda: list(q.answer), "essay": lambda: "我的回答"}.get(
            item.type, lambda: q.answer)()
    return answers


def wrong(item, question):
    if item.type == "single":
        return next(o for o in item.options if o != question.answer)
    if item.type == "multiple":
        return [o for o in item.options if o not in question.answer]
    if item.type == "truefalse":
        return not question.answer
    if item.type == "fill":
        return "不对"
    return question.answer + 10


def test_all_right_all_wrong_and_none(quiz):
    blueprint, bank = quiz
    paper = draw_paper(blueprint, bank, "t1")
    assert paper.max_points == 3 * 2 + 2 * 4 + 2 * 1 + 2 + 2 == 20
    right = score_paper(paper, bank, key_answers(paper, bank))
    assert (right.total, right.percent, right.passed, right.answered) == (20, 100, True, 9)
    assert all(r.correct for r in right.items)
    nothing = score_paper(paper, bank, {})
    assert (nothing.total, nothing.passed, nothing.answered) == (0, False, 0)
    bad = score_paper(paper, bank, {item.item_id: wrong(item, bank[item.item_id]) for item in paper.items})
    assert bad.total == 0 and bad.answered == 9 and not any(r.correct for r in bad.items)


def test_hand_computed_mixed_paper_and_the_pass_mark(quiz):
    """single ✓✓✗ (4 of 6), multiple one option short ✗ and ✓ (4 of 8), truefalse ✓ as text and ✗
    (1 of 2), fill ✓ by an accepted variant with extra spaces (2), numeric ✓ within tolerance (2):
    13 of 20 = 65 % ≥ 60 → passed. Without the numeric: 11 / 20 = 55 % → failed."""
    blueprint, bank = quiz
    paper = draw_paper(blueprint, bank, "t2")
    answers = {}
    singles = [i for i in paper.items if i.type == "single"]
    multiples = [i for i in paper.items if i.type == "multiple"]
    tfs = [i for i in paper.items if i.type == "truefalse"]
    (fill,) = [i for i in paper.items if i.type == "fill"]
    (numeric,) = [i for i in paper.items if i.type == "numeric"]
    for item in singles[:2]:
        answers[item.item_id] = bank[item.item_id].answer
    answers[singles[2].item_id] = wrong(singles[2], bank[singles[2].item_id])
    answers[multiples[0].item_id] = list(bank[multiples[0].item_id].answer)[:1]  # partly right = wrong
    answers[multiples[1].item_id] = list(reversed(bank[multiples[1].item_id].answer))
    answers[tfs[0].item_id] = "正确" if bank[tfs[0].item_id].answer else "错误"
    answers[tfs[1].item_id] = not bank[tfs[1].item_id].answer
    answers[fill.item_id] = " " + bank[fill.item_id].accepted[0].replace(" ", "  ") + " "
    answers[numeric.item_id] = str(bank[numeric.item_id].answer + 0.4)
    result = score_paper(paper, bank, answers)
    assert [r.earned for r in result.items] == [2, 2, 0, 0, 4, 1, 0, 2, 2]
    assert (result.total, result.percent, result.passed) == (13, 65.0, True)
    del answers[numeric.item_id]
    result = score_paper(paper, bank, answers)
    assert (result.total, result.percent, result.passed) == (11, 55.0, False)


def test_answers_are_displayed_text_so_shuffling_cannot_confuse_them(quiz):
    blueprint, bank = quiz
    for trainee in ("a", "b", "c"):
        paper = draw_paper(blueprint, bank, trainee)
        item = next(i for i in paper.items if i.type == "single")
        key = bank[item.item_id].answer
        # the option at the key's bank index is generally *not* the key on a shuffled paper
        assert score_paper(paper, bank, {item.item_id: key}).items[0].correct
        index_of_key = item.options.index(key)
        assert score_paper(paper, bank, {item.item_id: index_of_key}).items[0].invalid


def test_invalid_answers_earn_nothing_and_stray_ones_are_errors(quiz):
    blueprint, bank = quiz
    paper = draw_paper(blueprint, bank, "t3")
    single = next(i for i in paper.items if i.type == "single")
    result = score_paper(paper, bank, {single.item_id: "一个没显示的选项"})
    assert result.items[0].invalid and result.items[0].earned == 0 and result.answered == 1
    with pytest.raises(AnswerError, match="不在这份试卷上"):
        score_paper(paper, bank, {"m9-zz99": "x"})
    with pytest.raises(AnswerError, match="单选题"):
        check_answer(paper, single.item_id, ["a", "b"])
    multiple = next(i for i in paper.items if i.type == "multiple")
    with pytest.raises(AnswerError, match="不重复"):
        check_answer(paper, multiple.item_id, [multiple.options[0], multiple.options[0]])
    tf = next(i for i in paper.items if i.type == "truefalse")
    assert check_answer(paper, tf.item_id, "对") is True and check_answer(paper, tf.item_id, False) is False
    with pytest.raises(AnswerError):
        check_answer(paper, tf.item_id, "也许")


def test_essays_wait_for_the_formgrader(kit, quiz, tmp_path):
    _, bank = quiz
    text = QUIZ.replace("  - {type: numeric, count: 1}", "  - {type: numeric, count: 1}\n  - {type: essay, count: 1}")
    blueprint = load_blueprint(kit.write_blueprint(tmp_path, "quiz", text), bank=bank)
    paper = draw_paper(blueprint, bank, "t4")
    assert paper.items[-1].type == "essay" and paper.max_points == 25
    result = score_paper(paper, bank, key_answers(paper, bank))
    assert (result.total, result.pending_points, result.passed) == (20, 5, None)
    assert result.items[-1].correct is None and result.items[-1].answered
    with pytest.raises(AnswerError, match="5000"):
        check_answer(paper, paper.items[-1].item_id, "字" * 5001)


def test_feedback_view_is_json_and_carries_explanations(quiz):
    blueprint, bank = quiz
    paper = draw_paper(blueprint, bank, "t5")
    answers = key_answers(paper, bank)
    result = score_paper(paper, bank, answers)
    view = feedback_view(paper, bank, result, answers)
    assert json.loads(json.dumps(view, ensure_ascii=False)) == view
    assert all("EXPLAIN" in item["explanation"] for item in view["items"])
    assert view["passed"] is True and view["percent"] == 100
    assert json.loads(json.dumps(result.to_dict()))["total"] == 20
