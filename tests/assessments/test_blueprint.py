"""Blueprints are validated on load; bad ones are refused with the file, the key and the cause."""
from __future__ import annotations

from dataclasses import replace

import datetime as dt
from collections import Counter

import pytest

from dangxiao.assessments import BlueprintError, check_blueprint, draw_paper, load_blueprint
from dangxiao.assessments.blueprint import assessments_dir
from dangxiao.questions import load_bank

MINIMAL = """\
id: quiz
title: 小测
points: {single: 2}
draws:
  - {module: m1, type: single, count: 2}
time_limit: 10
pass_mark: 60
"""


def refused(kit, tmp_path, text: str, name: str = "quiz", bank=None) -> BlueprintError:
    path = kit.write_blueprint(tmp_path, name, text)
    with pytest.raises(BlueprintError) as caught:
        load_blueprint(path, bank=bank)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    return caught.value


def test_shipped_blueprints_validate_and_practice_inherits_the_final_mix():
    final = load_blueprint("final")
    practice = load_blueprint("final_practice")
    assert (final.mode, final.time_limit, final.pass_mark, final.attempts, final.show_results) == (
        "exam", 40, 60, 1, "on_release")
    counts = Counter()
    for draw in final.draws:
        counts[draw.type] += draw.count
    assert dict(counts) == {"single": 15, "multiple": 5, "truefalse": 10}
    assert sum(final.points[t] * n for t, n in counts.items()) == 100
    assert practice.draws == final.draws and practice.points == final.points
    assert (practice.mode, practice.attempts, practice.show_results, practice.counted) == (
        "practice", None, "immediately", False)


def test_shipped_final_against_the_shipped_bank():
    """`final` needs the bank branch (≥ the mix in every module × type cell); until then this skips."""
    final = load_blueprint("final")
    bank = load_bank()
    have = Counter((q.module, q.type) for q in bank.values())
    short = [(d.module, d.type, d.count, sum(have[m, d.type] for m in d.module)) for d in final.draws
             if sum(have[m, d.type] for m in d.module) < d.count]
    if short:
        pytest.skip(f"bank too small: {'/'.join(short[0][0])} {short[0][1]} needs {short[0][2]}, has {short[0][3]}")
    check_blueprint(final, bank)
    papers = [draw_paper(final, bank, f"t{i}") for i in range(2)]
    assert papers[0].mix() == papers[1].mix() and papers[0].item_ids != papers[1].item_ids


def test_shipped_a01_is_servable_and_keeps_the_notebook_keys(kit, tmp_path):
    from dangxiao.assessments import assessment_bank

    a01 = load_blueprint("a01", bank=load_bank())
    full = assessment_bank(a01, load_bank())
    expected = {"a01-q1": "坚持规模扩张", "a01-q2": {"坚持党的全面领导", "坚持法治思维", "坚持改革创新"},
                "a01-q3": True, "a01-q4": "战斗堡垒", "a01-q5": "一居（村）一律师"}
    for qid, answer in expected.items():
        got = full[qid].answer
        assert (set(got) if isinstance(answer, set) else got) == answer
    assert sum(a01.points[full[q].type] for q in a01.fixed) == 10
    # the shipped course offers it on the site: its nbgrader assignment is the built paper
    from dangxiao.paths import assignments_dir
    from dangxiao.publishing.exam_handlers import ExamCatalog

    course = assignments_dir()
    catalog = ExamCatalog(course / "assessments", course)
    assert catalog.errors == [] and {"a01", "final", "final_practice"} <= set(catalog.blueprints)
    # ... and refuses it, saying why, where a01 is still a notebook written for JupyterLab
    lab = tmp_path / "lab_course"
    (lab / "source" / "a01").mkdir(parents=True)
    (lab / "source" / "a01" / "a01_sange_jianchi.ipynb").write_text('{"cells": []}', encoding="utf-8")
    catalog = ExamCatalog(course / "assessments", lab)
    assert "a01" not in catalog.blueprints and "final_practice" in catalog.blueprints
    assert any("a01" in e and "JupyterLab" in e for e in catalog.errors), catalog.errors


def test_minimal_blueprint_defaults(kit, tmp_path, final_bank):
    blueprint = load_blueprint(kit.write_blueprint(tmp_path, "quiz", MINIMAL), bank=final_bank)
    assert (blueprint.mode, blueprint.attempts, blueprint.show_results) == ("exam", 1, "on_release")
    assert blueprint.shuffle_options and blueprint.shuffle_order


@pytest.mark.parametrize("change, key, cause", [
    ("\ncolour: red\n", "colour", "未知键"),
    ("", "draws[0].colour", "未知键"),
    ("time_limit: -5\n", "time_limit", "须大于 0"),
    ("time_limit: 0\n", "time_limit", "须大于 0"),
    ("pass_mark: 120\n", "pass_mark", "须不大于 100"),
    ("mode: test\n", "mode", "取值须为"),
    ("show_results: later\n", "show_results", "取值须为"),
    ("points: {single: 0}\n", "points", "须为正数"),
    ("points: {quiz: 2}\n", "points", "未知题型"),
    ("id: 测验\n", "id", "ASCII"),
    ("opens: 2026-12-20 10:00:00\ncloses: 2026-12-20 09:00:00\n", None, "closes 须晚于 opens"),
])
def test_bad_blueprints_are_refused(kit, tmp_path, change, key, cause):
    text = MINIMAL
    if key == "draws[0].colour":
        text = text.replace("count: 2}", "count: 2, colour: red}")
    for line in change.strip().splitlines():
        name = line.split(":")[0]
        text = "\n".join(l for l in text.splitlines() if not l.startswith(f"{name}:")) + "\n"
    text += change
    if key == "id":
        error = refused(kit, tmp_path, text, name="测验")
    else:
        error = refused(kit, tmp_path, text)
    assert error.key == key
    assert cause in error.reason


def test_negative_count_and_missing_keys(kit, tmp_path):
    error = refused(kit, tmp_path, MINIMAL.replace("count: 2", "count: -1"))
    assert error.key == "draws[0].count"
    error = refused(kit, tmp_path, MINIMAL.replace("pass_mark: 60\n", ""))
    assert error.key == "pass_mark" and "缺少" in error.reason


def test_malformed_yaml_and_wrong_file_name(kit, tmp_path):
    error = refused(kit, tmp_path, "id: quiz\npoints: [\n")
    assert "YAML" in error.reason
    error = refused(kit, tmp_path, MINIMAL, name="other")
    assert error.key == "id"


def test_practice_rules(kit, tmp_path):
    practice = MINIMAL.replace("pass_mark: 60", "pass_mark: 60\nmode: practice")
    assert load_blueprint(kit.write_blueprint(tmp_path, "quiz", practice)).attempts is None
    assert "attempts" in refused(kit, tmp_path, practice + "attempts: 3\n").reason
    assert "立即" in refused(kit, tmp_path, practice + "show_results: on_release\n").reason
    exam_untimed = MINIMAL.replace("time_limit: 10\n", "")
    assert "time_limit" in refused(kit, tmp_path, exam_untimed).reason


def test_times_without_zone_are_china_standard_time(kit, tmp_path):
    text = MINIMAL + "opens: 2026-12-20 09:00:00\ncloses: 2026-12-20T18:00:00+00:00\n"
    blueprint = load_blueprint(kit.write_blueprint(tmp_path, "quiz", text))
    assert blueprint.opens == dt.datetime(2026, 12, 20, 1, 0, tzinfo=dt.timezone.utc)
    assert blueprint.closes.utcoffset() == dt.timedelta(0)


def test_unknown_fixed_question_is_refused(kit, tmp_path, final_bank):
    error = refused(kit, tmp_path, MINIMAL + "fixed: [m1-si01, m9-nope]\n", bank=final_bank)
    assert error.key == "fixed[1]" and "m9-nope" in error.reason


def test_fixed_item_of_a_type_without_points_is_refused(kit, tmp_path, final_bank):
    error = refused(kit, tmp_path, MINIMAL + "fixed: [m1-tr01]\n", bank=final_bank)
    assert error.key == "fixed[0]" and "分值" in error.reason


def test_more_draws_than_the_bank_holds(kit, tmp_path, final_bank):
    # m1 has 12 single items in the fixture bank
    error = refused(kit, tmp_path, MINIMAL.replace("count: 2", "count: 13"), bank=final_bank)
    assert error.key == "draws[0]" and "13" in error.reason and "12" in error.reason


def test_overlapping_draws_are_counted_together(kit, tmp_path):
    """Each draw alone fits, together they do not: m1 single tagged 组1 (6 items) and any m1 single
    (12 items) share the tagged ones; 6 + 7 = 13 > 12."""
    bank = kit.make_bank({("m1", "single"): 12})
    text = MINIMAL.replace("  - {module: m1, type: single, count: 2}",
                           "  - {module: m1, type: single, tags: [组1], count: 6}\n"
                           "  - {module: m1, type: single, count: 7}")
    error = refused(kit, tmp_path, text, bank=bank)
    assert error.key == "draws[1]" and "6" in error.reason and "共用" in error.reason
    # 6 + 6 fits exactly: accepted, and every paper holds 12 distinct items, the tagged draw served
    ok = load_blueprint(kit.write_blueprint(tmp_path, "quiz", text.replace("count: 7", "count: 6")), bank=bank)
    for trainee in range(30):
        paper = draw_paper(ok, bank, f"t{trainee}")
        assert len(set(paper.item_ids)) == 12


def test_fixed_items_leave_the_pools(kit, tmp_path):
    bank = kit.make_bank({("m1", "single"): 3})
    text = MINIMAL.replace("count: 2", "count: 3") + "fixed: [m1-si01]\n"
    error = refused(kit, tmp_path, text, bank=bank)
    assert error.key == "draws[0]" and "2" in error.reason


def test_level_and_difficulty_filters(kit, tmp_path, final_bank):
    text = MINIMAL.replace("  - {module: m1, type: single, count: 2}",
                           "  - {module: [m1, m2], type: single, level: [应用, 分析], count: 3}\n"
                           "  - {type: single, difficulty: [中, 难], count: 2}\n"
                           "  - {type: single, level: 记忆, difficulty: 易, count: 1}")
    blueprint = load_blueprint(kit.write_blueprint(tmp_path, "quiz", text), bank=final_bank)
    for trainee in range(20):
        paper = draw_paper(blueprint, final_bank, f"t{trainee}")
        drawn = [final_bank[q] for q in paper.item_ids]
        assert sum(q.level in ("应用", "分析") and q.module in ("m1", "m2") for q in drawn) >= 3
        assert sum(q.difficulty in ("中", "难") for q in drawn) >= 2
        assert any(q.level == "记忆" and q.difficulty == "易" for q in drawn)
    # inline questions carry no level: a bank of them cannot serve a level filter
    plain = {qid: replace(q, level="") for qid, q in final_bank.items()}
    error = refused(kit, tmp_path, text, bank=plain)
    assert error.key == "draws[0]"


def test_extends_reads_the_parent_and_refuses_loops(kit, tmp_path):
    kit.write_blueprint(tmp_path, "quiz", MINIMAL)
    child = load_blueprint(kit.write_blueprint(tmp_path, "quiz_p", "extends: quiz\nid: quiz_p\nmode: practice\nattempts: null\nshow_results: immediately\n"))
    assert child.mode == "practice" and child.draws[0].count == 2
    kit.write_blueprint(tmp_path, "loop_a", "extends: loop_b\nid: loop_a\n")
    kit.write_blueprint(tmp_path, "loop_b", "extends: loop_a\nid: loop_b\n")
    assert "循环" in refused(kit, tmp_path, "extends: loop_b\nid: loop_a\n", name="loop_a").reason


def test_blueprints_live_in_the_course():
    assert assessments_dir().name == "assessments" and (assessments_dir() / "final.yaml").is_file()


@pytest.mark.parametrize("draw, key, cause", [
    ("{type: single, count: 1, difficulty: [极难]}", "draws[0].difficulty[0]", "易"),
    ("{type: single, count: 1, level: 背诵}", "draws[0].level[0]", "记忆"),
    ("[1, 2]", "draws[0]", "须为映射"),
    ("{type: single, count: x}", "draws[0].count", "须为整数"),
])
def test_bad_draws_name_the_key(kit, tmp_path, draw, key, cause):
    text = MINIMAL.replace("{module: m1, type: single, count: 2}", draw)
    error = refused(kit, tmp_path, text)
    assert (error.key, cause in error.reason) == (key, True), error


def test_own_items_are_validated_on_load(kit, tmp_path):
    text = MINIMAL.replace("draws:\n  - {module: m1, type: single, count: 2}\n", "fixed: [own-1]\n") + (
        "items:\n  - {id: own-1, type: single, stem: 题, options: [甲, 乙], answer: 丙, explanation: 解, source: yangquan}\n")
    error = refused(kit, tmp_path, text)
    assert error.key == "items[0]" and "answer" in error.reason
    ok = load_blueprint(kit.write_blueprint(tmp_path, "quiz", text.replace("answer: 丙", "answer: 乙")), bank={})
    assert ok.fixed == ["own-1"]
