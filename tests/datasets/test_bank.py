"""The shipped question bank: tagged, mostly application, and deep enough for the 结业测试's 随机组卷."""
from __future__ import annotations

import collections

import pytest

from dangxiao.cli import main
from dangxiao.questions import (APPLIED_LEVELS, DIFFICULTIES, LEVELS, QUESTION_TYPES, Question, QuestionBankError,
                                applied_share, bank_fills_mix, load_bank, load_mix)

from .conftest import DATASETS

BANK = DATASETS / "questions"
FINAL_MIX = BANK / "mixes" / "final.yaml"
# The 结业测试 `final` as agreed with the test-drawing side (issue 12): type -> {module: count}.
FINAL = {"single": {"m1": 4, "m2": 4, "m3": 4, "m4": 3},
         "multiple": {"m1": 1, "m2": 1, "m3": 2, "m4": 1},
         "truefalse": {"m1": 3, "m2": 2, "m3": 3, "m4": 2}}
FINAL_COUNTS = {(module, qtype): n for qtype, per_module in FINAL.items() for module, n in per_module.items()}


def validate(capsys, *args):
    code = main(["validate", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.fixture(scope="module")
def bank() -> dict[str, Question]:
    return load_bank(BANK)


def test_every_item_carries_module_type_level_and_difficulty(bank):
    assert len(bank) >= 120
    for question in bank.values():
        assert question.module in {"m1", "m2", "m3", "m4"}, question.id
        assert question.id.startswith(question.module + "-"), question.id
        assert question.type in QUESTION_TYPES and question.level in LEVELS and question.difficulty in DIFFICULTIES
        assert question.source and question.explanation.strip()


def test_at_least_forty_percent_of_items_ask_for_application_or_analysis(bank):
    share = applied_share(bank)
    assert share >= 0.40, f"{share:.0%}"
    # … and every module has some: a module of pure recall would fail its trainees.
    for module in ("m1", "m2", "m3", "m4"):
        items = [q for q in bank.values() if q.module == module]
        assert applied_share(items) >= 0.25, module
    assert applied_share([]) == 0.0


def test_few_items_ask_to_memorise_a_figure(bank):
    figures = [q.id for q in bank.values() if any(str(t).startswith("indicator:") for t in q.tags)]
    assert len(figures) <= 0.10 * len(bank), figures


def test_each_module_has_an_essay_with_rubric_and_key_points(bank):
    for module in ("m1", "m2", "m3", "m4"):
        essays = [q for q in bank.values() if q.module == module and q.type == "essay"]
        assert essays, module
        for essay in essays:
            assert essay.answer is None and essay.rubric and essay.key_points
            assert essay.points == sum(points for _, points in essay.rubric)


def test_the_shipped_mix_file_is_the_agreed_final_paper():
    mix = load_mix(FINAL_MIX)
    assert mix.counts == FINAL_COUNTS
    assert sum(mix.counts.values()) == 30 and mix.total_points == 100 and mix.reserve == 3


def test_bank_fills_the_final_mix_three_times_over(bank):
    assert bank_fills_mix(bank, FINAL_COUNTS, reserve=3) == []
    held = collections.Counter((q.module, q.type) for q in bank.values())
    assert all(held[cell] >= 3 * n for cell, n in FINAL_COUNTS.items())


def test_a_short_cell_is_named_with_what_it_needs_and_holds(bank):
    # Drop m3's multiple-choice items down to five: the cell needs 2 × 3 = 6.
    short = dict(bank)
    for qid in [q.id for q in bank.values() if (q.module, q.type) == ("m3", "multiple")][5:]:
        del short[qid]
    problems = bank_fills_mix(short, FINAL_COUNTS, reserve=3)
    assert problems == ["模块 m3 题型 multiple：需要 6 题（2 × 3），题库只有 5 题 / module m3, type multiple: needs 6, "
                        "the bank holds 5"]
    # A cell the bank has nothing for, with reserve 1.
    assert bank_fills_mix(bank, {("m9", "single"): 1}) == [
        "模块 m9 题型 single：需要 1 题，题库只有 0 题 / module m9, type single: needs 1, the bank holds 0"]
    assert bank_fills_mix(list(bank.values()), FINAL_COUNTS) == []  # a list of questions works too


@pytest.mark.parametrize("text, field, reason", [
    ("draw: {single: {m1: 4}}\npoints: {single: 3}\ntotal: 10\n", "total", "不符"),
    ("draw: {puzzle: {m1: 4}}\n", "draw.puzzle", "未知题型"),
    ("draw: {single: {m1: -1}}\n", "draw.single.m1", "非负整数"),
    ("draw: {single: {m1: 2}}\npoints: {single: 3}\nreserve: 0\n", "reserve", "正整数"),
    ("draw: {single: {m1: 2}, truefalse: {m1: 1}}\npoints: {single: 3}\n", "points", "truefalse"),
    ("draw: {single: {m1: 2}}\nshuffle: true\n", "shuffle", "未知字段"),
])
def test_bad_mix_files_are_refused_naming_file_and_key(tmp_path, text, field, reason):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(QuestionBankError) as error:
        load_mix(path)
    assert error.value.field == field and reason in str(error.value) and str(path) in str(error.value)


def test_validate_passes_on_the_bank_and_reports_a_mix_it_cannot_fill(capsys, datasets_copy, no_courses):
    code, out = validate(capsys, "--datasets", datasets_copy, "--courses", no_courses)
    assert code == 0, out
    assert "✓ 题库标签、层次比例与组卷" in out
    mix = datasets_copy / "questions" / "mixes" / "final.yaml"
    mix.write_text(mix.read_text(encoding="utf-8").replace("reserve: 3", "reserve: 10"), encoding="utf-8")
    code, out = validate(capsys, "--datasets", datasets_copy, "--courses", no_courses)
    assert code == 1
    held = sum(1 for q in load_bank(datasets_copy / "questions").values() if (q.module, q.type) == ("m3", "multiple"))
    lines = [line.strip() for line in out.splitlines() if "final.yaml" in line]
    assert any(f"模块 m3 题型 multiple：需要 20 题（2 × 10），题库只有 {held} 题" in line for line in lines), out
    assert len(lines) == len(FINAL_COUNTS)  # every cell is short ten times over, each named once


def test_validate_reports_a_bank_of_mostly_recall(capsys, datasets_copy, no_courses):
    for path in (datasets_copy / "questions").glob("m*.yaml"):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("level: 应用", "level: 记忆").replace("level: 分析", "level: 理解"), encoding="utf-8")
    code, out = validate(capsys, "--datasets", datasets_copy, "--courses", no_courses)
    assert code == 1 and "应用/分析 层次的题目只占 0%，应不少于 40%" in out


def test_validate_reports_a_missing_tag_once_naming_file_id_and_field(capsys, datasets_copy, no_courses):
    path = datasets_copy / "questions" / "m2.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: m2-q12\n")
    level = text.index("    level: ", start)
    path.write_text(text[:level] + text[text.index("\n", level) + 1:], encoding="utf-8")
    code, out = validate(capsys, "--datasets", datasets_copy, "--courses", no_courses)
    assert code == 1
    hits = [line for line in out.splitlines() if "m2-q12" in line]
    assert len(hits) == 1 and "m2.yaml" in hits[0] and "'level'" in hits[0]


def test_validate_reports_a_module_without_an_essay(capsys, datasets_copy, no_courses):
    path = datasets_copy / "questions" / "m4.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[:text.index("  - id: m4-q31\n")], encoding="utf-8")
    code, out = validate(capsys, "--datasets", datasets_copy, "--courses", no_courses)
    assert code == 1 and "模块 m4 没有简答题" in out

