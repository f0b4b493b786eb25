"""Item statistics against values worked out by hand (Moodle's formulas, sample (co)variances, n − 1)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dangxiao.grading.itemstats import (
    FLAG_DUBIOUS,
    FLAG_LOW,
    FLAG_NEGATIVE,
    FLAG_TOO_EASY,
    FLAG_TOO_HARD,
    FLAG_UNDEFINED,
    ItemThresholds,
    item_statistics,
    score_distribution,
)

# Four trainees × four items (the same example the gradebook fixture stores as a01).
#            q1 q2 q3 q4      total
# s1          1  2  0  2        5
# s2          1  1  0  2        4
# s3          1  1  1  1        4
# s4          1  0  1  0        2
SCORES = pd.DataFrame(
    {"q1": [1, 1, 1, 1], "q2": [2, 1, 1, 0], "q3": [0, 0, 1, 1], "q4": [2, 2, 1, 0]}, index=["s1", "s2", "s3", "s4"]
)
MAX = [1.0, 2.0, 1.0, 2.0]


@pytest.fixture(scope="module")
def stats():
    return item_statistics(SCORES, MAX).set_index("题目")


def test_everyone_right_is_undefined_not_a_crash(stats):
    # q1: all marks 1 → var(item) = 0, so the index and efficiency are undefined (NaN) and flagged.
    row = stats.loc["q1"]
    assert row["难度系数"] == 1.0
    assert math.isnan(row["区分度"]) and math.isnan(row["区分效率"])
    assert row["提示"].split("；") == [FLAG_TOO_EASY, FLAG_UNDEFINED]


def test_positive_item_by_hand(stats):
    # q2: x = 2,1,1,0 (mean 1) → dx = 1,0,0,−1; rest = total − x = 3,3,3,2 (mean 2.75) → dr = .25,.25,.25,−.75
    # cov = (1·.25 + 0 + 0 + (−1)(−.75)) / 3 = 1/3;  var x = (1+0+0+1)/3 = 2/3;  var rest = (3·.0625 + .5625)/3 = .25
    # discrimination = 100 · (1/3) / sqrt(2/3 · 1/4) = 100·sqrt(6)/3 ≈ 81.65
    # covmax: sorted x 0,1,1,2 (dx −1,0,0,1) × sorted rest 2,3,3,3 (dr −.75,.25,.25,.25) → (.75 + .25)/3 = 1/3 → efficiency 100
    row = stats.loc["q2"]
    assert row["平均分"] == pytest.approx(1.0)
    assert row["难度系数"] == pytest.approx(0.5)
    assert row["标准差"] == pytest.approx(math.sqrt(2 / 3))
    assert row["区分度"] == pytest.approx(100 * math.sqrt(6) / 3)
    assert row["区分效率"] == pytest.approx(100.0)
    assert row["提示"] == ""


def test_negative_item_by_hand(stats):
    # q3: x = 0,0,1,1 (mean .5) → dx = −.5,−.5,.5,.5; rest = 5,4,3,1 (mean 3.25) → dr = 1.75,.75,−.25,−2.25
    # cov = (−.875 − .375 − .125 − 1.125)/3 = −2.5/3;  var x = 1/3;  var rest = (3.0625+.5625+.0625+5.0625)/3 = 8.75/3
    # discrimination = 100 · (−2.5/3) / sqrt(1/3 · 8.75/3) = −250/sqrt(8.75) ≈ −84.52
    # covmax: sorted rest 1,3,4,5 (dr −2.25,−.25,.75,1.75) with sorted x → (1.125+.125+.375+.875)/3 = 2.5/3 → efficiency −100
    row = stats.loc["q3"]
    assert row["难度系数"] == pytest.approx(0.5)
    assert row["区分度"] == pytest.approx(-250 / math.sqrt(8.75))
    assert row["区分效率"] == pytest.approx(-100.0)
    assert row["提示"].split("；") == [FLAG_NEGATIVE, FLAG_DUBIOUS]


def test_efficiency_differs_from_index_by_hand(stats):
    # q4: x = 2,2,1,0 (mean 1.25) → dx = .75,.75,−.25,−1.25; rest = 3,2,3,2 (mean 2.5) → dr = .5,−.5,.5,−.5
    # cov = (.375 − .375 − .125 + .625)/3 = .5/3;  var x = 2.75/3;  var rest = 1/3
    # discrimination = 100 · .5 / sqrt(2.75) ≈ 30.15
    # covmax: sorted x 0,1,2,2 (dx −1.25,−.25,.75,.75) × sorted rest 2,2,3,3 (dr −.5,−.5,.5,.5) → 1.5/3 → efficiency 33.33
    row = stats.loc["q4"]
    assert row["难度系数"] == pytest.approx(0.625)
    assert row["区分度"] == pytest.approx(50 / math.sqrt(2.75))
    assert row["区分效率"] == pytest.approx(100 / 3)
    assert row["提示"] == ""


def test_thresholds_are_configurable(stats):
    strict = item_statistics(SCORES, MAX, thresholds=ItemThresholds(low_discrimination=40, too_hard=0.55)).set_index("题目")
    assert FLAG_LOW in strict.loc["q4", "提示"]  # 30.15 < 40
    assert FLAG_TOO_HARD in strict.loc["q2", "提示"]  # facility .5 < .55
    assert FLAG_LOW not in stats.loc["q4", "提示"]


def test_single_or_no_trainee_gives_nan_not_error():
    one = item_statistics(np.array([[1.0, 0.0]]), [1, 1], ["a", "b"])
    assert one["人数"].tolist() == [1, 1]
    assert one["区分度"].isna().all()
    assert all(FLAG_UNDEFINED in flags for flags in one["提示"])
    none = item_statistics(np.zeros((0, 2)), [1, 1], ["a", "b"])
    assert none["平均分"].isna().all()


def test_score_distribution_bands():
    table = score_distribution([0, 9.9, 10, 55, 100, 100, np.nan])
    assert table["人数"].tolist() == [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]
    assert table["分数段"].iloc[-1] == "90–100%"
    assert table["占比"].sum() == pytest.approx(1.0)
