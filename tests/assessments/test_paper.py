"""随机组卷: the same inputs give the same paper; trainees get different papers with the same mix;
the browser's view holds no key."""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest

from dangxiao.assessments import Paper, draw_paper, load_blueprint
from dangxiao.assessments.paper import TYPE_LABELS
from dangxiao.errors import DangxiaoError


@pytest.fixture
def final_like(kit, tmp_path, final_bank):
    return load_blueprint(kit.write_blueprint(tmp_path, "final", kit.final_like("final")), bank=final_bank)


def test_same_inputs_same_paper_even_in_another_process(final_like, final_bank, tmp_path):
    first = draw_paper(final_like, final_bank, "zhang_san", 1)
    assert draw_paper(final_like, final_bank, "zhang_san", 1) == first
    # Python's hash() is salted per process: a fresh interpreter with another seed must agree
    script = f"""
import json, sys
from dangxiao.assessments import draw_paper, load_blueprint
import importlib.util
spec = importlib.util.spec_from_file_location("kit", {str(__import__('pathlib').Path(__file__).with_name('conftest.py'))!r})
kit = importlib.util.module_from_spec(spec); sys.modules["kit"] = kit; spec.loader.exec_module(kit)
bank = kit.make_bank({{c: 3 * n for c, n in kit.FINAL_MIX.items()}} | {{("m1", "fill"): 2}})
paper = draw_paper(load_blueprint({str(final_like.file)!r}), bank, "zhang_san", 1)
print(json.dumps(paper.to_dict(), ensure_ascii=False))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"})
    assert Paper.from_dict(json.loads(out.stdout)) == first


def test_trainees_get_different_papers_with_the_same_mix(kit, final_like, final_bank):
    papers = [draw_paper(final_like, final_bank, f"trainee{i:02d}") for i in range(20)]
    expected_mix = {cell: n for cell, n in kit.FINAL_MIX.items()}
    for paper in papers:
        assert paper.mix() == expected_mix
        assert len(set(paper.item_ids)) == 30 and paper.max_points == 100
        # a type keeps its positions: 1-15 single, 16-20 multiple, 21-30 truefalse
        assert [item.type for item in paper.items] == ["single"] * 15 + ["multiple"] * 5 + ["truefalse"] * 10
        assert [item.position for item in paper.items] == list(range(1, 31))
    assert len({tuple(p.item_ids) for p in papers}) == 20
    assert len({frozenset(p.item_ids) for p in papers}) == 20  # different items, not only another order
    # every item of the pool gets used by someone (no item is stuck at the bottom of an ordering)
    used = Counter(qid for p in papers for qid in p.item_ids)
    assert len(used) >= 0.9 * len([q for q in final_bank.values() if q.type != "fill"])


def test_another_attempt_is_another_paper_and_attempts_are_limited(kit, tmp_path, final_bank):
    text = kit.final_like("final") + "attempts: 2\n"
    blueprint = load_blueprint(kit.write_blueprint(tmp_path, "final", text), bank=final_bank)
    assert draw_paper(blueprint, final_bank, "li_si", 1).item_ids != draw_paper(blueprint, final_bank, "li_si", 2).item_ids
    with pytest.raises(DangxiaoError, match="只允许 2 次"):
        draw_paper(blueprint, final_bank, "li_si", 3)
    with pytest.raises(DangxiaoError, match="attempt"):
        draw_paper(blueprint, final_bank, "li_si", 0)


def test_options_are_shuffled_per_trainee_and_kept_when_asked(kit, tmp_path, final_like, final_bank):
    seen_orders = Counter()
    for i in range(20):
        paper = draw_paper(final_like, final_bank, f"t{i}")
        for item in paper.items:
            question = final_bank[item.item_id]
            if item.type in ("single", "multiple"):
                assert sorted(item.options) == sorted(question.options)
                assert tuple(question.options[k] for k in item.option_order) == item.options
                seen_orders[item.options == question.options] += 1
            else:
                assert item.options == ()
    assert seen_orders[False] > 10 * seen_orders[True]  # 4 options: 1 order in 24 is the bank's
    text = kit.final_like("plain") + "shuffle_options: false\nshuffle_order: false\n"
    plain = load_blueprint(kit.write_blueprint(tmp_path, "plain", text), bank=final_bank)
    paper = draw_paper(plain, final_bank, "t1")
    assert all(item.options == final_bank[item.item_id].options for item in paper.items if item.options)
    # unshuffled order: the draws' order, so the modules come m1, m2, m3, m4 within each type
    singles = [item.module for item in paper.items if item.type == "single"]
    assert singles == sorted(singles)


def test_ordering_and_matching_items_never_show_the_answer(kit, tmp_path):
    from dangxiao.questions import load_bank

    bank = load_bank()
    text = """\
id: kinds
title: 题型
points: {ordering: 2, matching: 2}
draws:
  - {type: ordering, count: 3}
  - {type: matching, count: 3}
time_limit: 10
pass_mark: 60
"""
    blueprint = load_blueprint(kit.write_blueprint(tmp_path, "kinds", text), bank=bank)
    for i in range(15):
        for item in draw_paper(blueprint, bank, f"t{i}").items:
            question = bank[item.item_id]
            if item.type == "ordering":
                assert sorted(item.options) == sorted(question.items) and item.options != question.items
            else:
                assert item.left == tuple(k for k, _ in question.pairs)
                assert sorted(item.options) == sorted(v for _, v in question.pairs)


def test_public_view_has_no_key_no_explanation_no_other_paper(kit, tmp_path, final_bank):
    counts = dict(kit.FINAL_MIX)
    text = kit.final_like("final").replace(
        "points: {single: 3, multiple: 5, truefalse: 3}", "points: {single: 3, multiple: 5, truefalse: 3, fill: 2}"
    ).replace("time_limit: 40", "  - {module: m1, type: fill, count: 1}\ntime_limit: 40")
    blueprint = load_blueprint(kit.write_blueprint(tmp_path, "final", text), bank=final_bank)
    mine = draw_paper(blueprint, final_bank, "wang_wu")
    other = draw_paper(blueprint, final_bank, "zhao_liu")
    view = mine.public_view()
    dumped = json.dumps(view, ensure_ascii=False)
    assert json.loads(dumped) == view  # JSON-safe
    assert set(view) == {"assessment", "title", "mode", "attempt", "time_limit_minutes", "pass_mark",
                         "max_points", "count", "items"}
    assert [item["id"] for item in view["items"]] == mine.item_ids
    for entry in view["items"]:
        assert set(entry) <= {"position", "id", "type", "type_label", "points", "stem", "options", "left"}
        assert entry["type_label"] == TYPE_LABELS[entry["type"]]
    assert "EXPLAIN" not in dumped and "answer" not in dumped and "seed" not in dumped and "yangquan" not in dumped
    assert "wang_wu" not in dumped  # the trainee id is the server's business
    fill = [final_bank[q] for q in mine.item_ids if final_bank[q].type == "fill"]
    assert fill and fill[0].answer not in dumped
    for qid in set(other.item_ids) - set(mine.item_ids):
        assert qid not in dumped and final_bank[qid].stem not in dumped
    # the truefalse options are the fixed pair, never the key
    assert all(e["options"] == ["正确", "错误"] for e in view["items"] if e["type"] == "truefalse")
    assert counts  # (the mix itself is checked above)


def test_paper_round_trips_through_its_record(final_like, final_bank):
    paper = draw_paper(final_like, final_bank, "t1")
    record = json.loads(json.dumps(paper.to_dict(), ensure_ascii=False))
    assert Paper.from_dict(record) == paper


def test_empty_trainee_is_refused(final_like, final_bank):
    with pytest.raises(DangxiaoError, match="学员"):
        draw_paper(final_like, final_bank, " ")
