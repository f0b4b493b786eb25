"""Item analysis (题目分析) of one assignment's grade cells, after Moodle's quiz statistics.

The formulas follow Moodle's `question/classes/statistics/questions/calculator.php`: for each item
(an nbgrader grade cell) over the n trainees who submitted,

* facility 难度系数 = mean(item) / max_score (0–1; higher = easier);
* discrimination 区分度 = 100·cov(item, rest) / sqrt(var(item)·var(rest)), where rest = the trainee's
  assignment total minus this item (the *corrected* item–rest correlation, so an item is not
  correlated with itself); sample (co)variances with n − 1, as Moodle;
* discriminative efficiency 区分效率 = 100·cov(item, rest) / covmax, where covmax is the covariance
  of the item marks and the rest marks each sorted ascending (the largest covariance these marks
  could have); it does not penalise very easy or very hard items the way the index does.

Both are undefined (NaN, flagged 无法计算) when an item or the rest does not vary — e.g. an item
everyone got right — or when fewer than two trainees submitted.

Flags (thresholds in `ItemThresholds`, from Moodle's documentation of the report):

======================  ==========================================  =====================
flag                    rule (defaults)                             Moodle's reading
======================  ==========================================  =====================
过易 too easy            facility > 0.90                             "very/extremely easy"
过难 too hard            facility < 0.20                             "difficult" and below
负区分度 negative        discrimination < 0                          "probably invalid"
区分度低 low             0 ≤ discrimination < 20                     "weak / very weak"
区分效率低 dubious       efficiency < 15                             flagged in the report
无法计算 undefined       item or rest constant, or n < 2             —
======================  ==========================================  =====================
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "ItemThresholds",
    "item_statistics",
    "score_distribution",
    "FLAG_TOO_EASY",
    "FLAG_TOO_HARD",
    "FLAG_NEGATIVE",
    "FLAG_LOW",
    "FLAG_DUBIOUS",
    "FLAG_UNDEFINED",
]

FLAG_TOO_EASY = "过易"
FLAG_TOO_HARD = "过难"
FLAG_NEGATIVE = "负区分度"
FLAG_LOW = "区分度低"
FLAG_DUBIOUS = "区分效率低"
FLAG_UNDEFINED = "区分度无法计算"

#: column names of `item_statistics`' result (Chinese first; the English is in the docstring)
COLUMNS = ["题目", "满分", "人数", "平均分", "难度系数", "标准差", "区分度", "区分效率", "提示"]


@dataclass(frozen=True)
class ItemThresholds:
    """When an item is flagged. Facility is a fraction (0–1); the two indices are on Moodle's 0–100 scale."""

    too_easy: float = 0.90
    too_hard: float = 0.20
    low_discrimination: float = 20.0
    dubious_efficiency: float = 15.0


def item_statistics(
    scores: pd.DataFrame | np.ndarray,
    max_scores: pd.Series | np.ndarray | list[float],
    items: list[str] | None = None,
    thresholds: ItemThresholds = ItemThresholds(),
) -> pd.DataFrame:
    """Statistics of each item (column) of a trainees × items score matrix.

    `scores` holds one row per trainee who submitted (missing grades count as 0, as in nbgrader),
    `max_scores` the full mark of each column. Returns one row per item with the columns
    题目 item, 满分 max, 人数 n, 平均分 mean, 难度系数 facility, 标准差 sd, 区分度 discrimination,
    区分效率 efficiency, 提示 flags ("；"-separated, empty when none).
    """
    if isinstance(scores, pd.DataFrame):
        names = list(scores.columns) if items is None else list(items)
        marks = scores.to_numpy(dtype=float, na_value=0.0)
    else:
        marks = np.asarray(scores, dtype=float)
        names = list(items) if items is not None else [str(i + 1) for i in range(marks.shape[1])]
    if marks.ndim != 2:
        marks = marks.reshape(-1, len(names))
    marks = np.nan_to_num(marks)
    maxima = np.asarray(max_scores, dtype=float)
    n, k = marks.shape
    if k != len(names) or k != len(maxima):
        raise ValueError("scores, items and max_scores must describe the same items")

    with np.errstate(invalid="ignore", divide="ignore"):
        rest = marks.sum(axis=1, keepdims=True) - marks
        mean = marks.mean(axis=0) if n else np.full(k, np.nan)
        rest_mean = rest.mean(axis=0) if n else np.full(k, np.nan)
        if n > 1:
            centred, rest_centred = marks - mean, rest - rest_mean
            var = (centred**2).sum(axis=0) / (n - 1)
            rest_var = (rest_centred**2).sum(axis=0) / (n - 1)
            cov = (centred * rest_centred).sum(axis=0) / (n - 1)
            cov_max = ((np.sort(marks, axis=0) - mean) * (np.sort(rest, axis=0) - rest_mean)).sum(axis=0) / (n - 1)
        else:
            var = rest_var = cov = cov_max = np.full(k, np.nan)
        # Exact zero (a constant column) makes the index undefined; tiny float noise must too.
        product = var * rest_var
        defined = np.isfinite(product) & (product > 1e-12)
        discrimination = np.where(defined, 100.0 * cov / np.sqrt(np.where(defined, product, 1.0)), np.nan)
        has_max = np.isfinite(cov_max) & (np.abs(cov_max) > 1e-12)
        efficiency = np.where(has_max, 100.0 * cov / np.where(has_max, cov_max, 1.0), np.nan)
        facility = np.where(maxima > 0, mean / np.where(maxima > 0, maxima, 1.0), np.nan)

    table = pd.DataFrame(
        {
            "题目": names,
            "满分": maxima,
            "人数": np.full(k, n, dtype=int),
            "平均分": mean,
            "难度系数": facility,
            "标准差": np.sqrt(var),
            "区分度": discrimination,
            "区分效率": efficiency,
        }
    )
    table["提示"] = [
        "；".join(_flags(f, d, e, thresholds)) for f, d, e in zip(facility, discrimination, efficiency)
    ]
    return table


def _flags(facility: float, discrimination: float, efficiency: float, t: ItemThresholds) -> list[str]:
    flags = []
    if np.isfinite(facility):
        if facility > t.too_easy:
            flags.append(FLAG_TOO_EASY)
        elif facility < t.too_hard:
            flags.append(FLAG_TOO_HARD)
    if not np.isfinite(discrimination):
        flags.append(FLAG_UNDEFINED)
    elif discrimination < 0:
        flags.append(FLAG_NEGATIVE)
    elif discrimination < t.low_discrimination:
        flags.append(FLAG_LOW)
    if np.isfinite(efficiency) and efficiency < t.dubious_efficiency:
        flags.append(FLAG_DUBIOUS)
    return flags


def score_distribution(percent: pd.Series | np.ndarray, bins: int = 10) -> pd.DataFrame:
    """How many trainees scored in each band of the percentage score (0–10 %, …, 90–100 %).

    The last band includes 100 %. Returns columns 分数段 band, 人数 count, 占比 share (0–1).
    """
    values = np.asarray(pd.Series(percent, dtype=float).dropna(), dtype=float)
    edges = np.linspace(0.0, 100.0, bins + 1)
    counts, _ = np.histogram(np.clip(values, 0.0, 100.0), bins=edges)
    labels = [f"{edges[i]:g}–{edges[i + 1]:g}%" for i in range(bins)]
    total = counts.sum()
    return pd.DataFrame({"分数段": labels, "人数": counts, "占比": counts / total if total else np.zeros(bins)})
