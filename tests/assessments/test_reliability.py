"""Cronbach's α / KR-20 against hand-computed examples, and over paper positions."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dangxiao.grading.reliability import cronbach_alpha, item_scores, kr20, paper_reliability, position_scores

# A perfect Guttman pattern, 5 trainees × 4 right/wrong items. By hand:
# p = .8 .6 .4 .2, Σpq = .16+.24+.24+.16 = .8; totals 4 3 2 1 0, population variance 2;
# KR-20 = 4/3 · (1 − .8/2) = 0.8.  ER = 100·√.2 = 44.72; SD (n−1) = √2.5 = 1.581; SE = .4472·1.581 = 0.7071.
GUTTMAN = [[1, 1, 1, 1], [1, 1, 1, 0], [1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]
# Marks, 3 trainees × 3 items. By hand: item variances (n−1) 1, 1, 0 → 2; totals 6 3 3, variance 3;
# α = 3/2 · (1 − 2/3) = 0.5.
MARKS = [[2, 3, 1], [1, 1, 1], [0, 2, 1]]


def test_kr20_of_a_guttman_pattern():
    assert kr20(GUTTMAN) == pytest.approx(0.8)
    assert cronbach_alpha(GUTTMAN) == pytest.approx(0.8)  # α on 0/1 is KR-20


def test_alpha_of_marks_by_hand():
    assert cronbach_alpha(np.array(MARKS)) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="right/wrong"):
        kr20(MARKS)


def test_moodle_figures():
    figures = paper_reliability(pd.DataFrame(GUTTMAN))
    assert (figures.n, figures.k) == (5, 4)
    assert figures.cic == pytest.approx(80.0)
    assert figures.error_ratio == pytest.approx(44.721, abs=1e-3)
    assert figures.sd == pytest.approx(1.5811, abs=1e-4)
    assert figures.standard_error == pytest.approx(0.7071, abs=1e-4)


def test_undefined_cases_are_nan():
    assert math.isnan(cronbach_alpha([[1, 0]]))                  # one trainee
    assert math.isnan(cronbach_alpha([[1], [0], [1]]))           # one item
    assert math.isnan(cronbach_alpha([[1, 1], [1, 1], [1, 1]]))  # totals do not vary
    assert math.isnan(paper_reliability([[1, 1], [1, 1]]).error_ratio)


def test_rows_with_ungraded_positions_are_left_out():
    with_pending = GUTTMAN + [[1, math.nan, 0, 1]]
    assert cronbach_alpha(with_pending) == pytest.approx(0.8)
    assert paper_reliability(with_pending).n == 5


def test_uncorrelated_items_give_alpha_near_or_below_zero():
    # item 2 is the reverse of item 1: the paper is inconsistent. By hand: item variances 1/3 each (Σ 1),
    # totals 2 1 1 2 with variance 1/3: α = 3/2 · (1 − 3) = −3
    assert cronbach_alpha([[1, 0, 1], [0, 1, 0], [1, 0, 0], [0, 1, 1]]) == pytest.approx(-3)


def test_position_matrix_from_scored_papers(kit, tmp_path, final_bank):
    from dangxiao.assessments import draw_paper, load_blueprint, score_paper

    blueprint = load_blueprint(kit.write_blueprint(tmp_path, "final", kit.final_like("final")), bank=final_bank)
    results = []
    for n in range(6):
        paper = draw_paper(blueprint, final_bank, f"t{n}")
        # trainee n answers the first 5·n positions by the key: a consistent ranking
        answers = {item.item_id: (list(final_bank[item.item_id].answer) if item.type == "multiple"
                                  else final_bank[item.item_id].answer)
                   for item in paper.items[: 5 * n]}
        results.append(score_paper(paper, final_bank, answers))
    matrix = position_scores(results)
    assert list(matrix.columns) == list(range(1, 31)) and list(matrix.index) == [f"t{n}" for n in range(6)]
    assert matrix.sum(axis=1).tolist() == [r.total for r in results]
    assert cronbach_alpha(matrix) > 0.9
    by_item = item_scores(results)
    assert by_item.notna().sum(axis=1).tolist() == [30] * 6  # each trainee saw 30 items
    assert by_item.shape[1] > 30 and by_item.isna().any().any()  # ... not the same 30
    assert by_item.sum(axis=1).tolist() == matrix.sum(axis=1).tolist()
