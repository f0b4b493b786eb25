"""The bank learns from a cohort of papers taken in the site: per-question figures across papers, the
paper's reliability, and the instructor's bank view with weak questions flagged."""
from __future__ import annotations

import datetime as dt

import pytest

from dangxiao.assessments import assessment_bank, load_blueprint
from dangxiao.grading.bank_report import bank_analysis, write_bank_view
from dangxiao.grading.reliability import paper_reliability, position_scores
from dangxiao.paths import assignments_dir
from dangxiao.questions import load_bank
from dangxiao.records import open_store
from dangxiao.records.exams import finish, paper_results, save_answer, start_attempt
from dangxiao.records.roster import RosterRow

NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.timezone.utc)


def _right(item, question):
    if item.type == "truefalse":
        return "正确" if question.answer else "错误"
    return list(question.answer) if item.type == "multiple" else question.answer


def _wrong(item, question):
    if item.type == "truefalse":
        return "错误" if question.answer else "正确"
    if item.type == "multiple":
        return [o for o in item.options if o not in question.answer][:1] or [item.options[0]]
    return next(o for o in item.options if o != question.answer)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """Twelve trainees take `final`: trainee k answers the first 2k+6 positions right, the rest wrong."""
    bank = load_bank()
    final = load_blueprint(assignments_dir() / "assessments" / "final.yaml", bank=bank)
    full = assessment_bank(final, bank)
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('bank') / 'records.sqlite'}")
    store.import_roster([RosterRow(f"s{k:02d}", f"模拟学员{k}", "一班", password="password-123") for k in range(12)])
    for k in range(12):
        attempt = start_attempt(store, final, bank, f"s{k:02d}", NOW)
        for index, item in enumerate(attempt.paper.items):
            question = full[item.item_id]
            answer = _right(item, question) if index < 2 * k + 6 else _wrong(item, question)
            save_answer(store, attempt.id, f"s{k:02d}", item.item_id, answer, NOW)
        finish(store, final, bank, attempt.id, f"s{k:02d}", NOW + dt.timedelta(minutes=30))
    return store, final, bank


def test_items_and_reliability_from_the_papers(cohort):
    store, final, bank = cohort
    results = paper_results(store, final)
    assert len(results) == 12
    items, reliability = bank_analysis(bank, {"final": results})
    seen = {item.item_id for result in results for item in result.items}
    assert set(items["题目"]) == seen
    assert (items["人数"] >= 1).all() and items["人数"].sum() == 12 * 30
    # the facility of a question is the share of the papers holding it that got it right
    some = items.iloc[0]
    held = [i for r in results for i in r.items if i.item_id == some["题目"]]
    assert some["难度系数"] == pytest.approx(sum(i.earned for i in held) / (len(held) * held[0].points))
    row = reliability.iloc[0]
    expected = paper_reliability(position_scores(results))
    assert (row["人数"], row["题数"]) == (12, 30)
    assert row["信度 α（KR-20）"] == pytest.approx(round(expected.alpha, 3))
    assert row["信度 α（KR-20）"] > 0.8  # answers ordered by ability: the positions agree strongly


def test_bank_view_lists_every_question_and_marks_the_weak(cohort, tmp_path):
    store, final, bank = cohort
    items, reliability = bank_analysis(bank, {"final": paper_results(store, final)})
    page = write_bank_view(bank, items, reliability, tmp_path / "题库.html").read_text(encoding="utf-8")
    assert page.count("data-question-id=") == len(bank)
    flagged = items[items["提示"].astype(str).str.len() > 0]["题目"]
    assert len(flagged)  # the first positions are right on every paper: too easy
    for question_id in flagged:
        assert f'<tr class="flagged" data-question-id="{question_id}">' in page
    assert "cdn" not in page.lower() and "http" not in page
