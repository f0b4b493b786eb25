"""Reliability of a test paper: Cronbach's α (KR-20 for right/wrong items), after Moodle's quiz statistics.

Moodle's "coefficient of internal consistency" (CIC) is Cronbach's α on the marks:

    CIC = 100 · k/(k − 1) · (1 − Σ var(itemᵢ) / var(total))       (k items, n trainees)
    error ratio  ER = 100 · √(1 − CIC/100)
    standard error SE = ER · SD(total) / 100

For items scored right/wrong, α on the 0/1 scores is KR-20 (Σ pᵢqᵢ over the variance of the number
right). The variances are sample variances (n − 1); the ratio is the same with n, so α and KR-20 do
not depend on that choice. α is undefined (NaN) with fewer than two trainees or two items, or when the
totals do not vary.

**Per-trainee papers: over positions, not item ids.** When every trainee gets a different paper, a
trainees × item-id matrix is mostly empty (a trainee sees 30 of ~100 items) and α has no standard
meaning on it. Moodle computes quiz statistics for random questions over *slots*; we do the same over
*positions*: position k of a blueprint always holds the same type worth the same points
(`dangxiao.assessments.paper`), the paper total — what the pass mark is applied to — is the sum of the
positions, and α then estimates how consistently the positions of a paper rank trainees, whatever items
filled them. Item statistics (facility, discrimination) stay per item id in `itemstats`, over the
trainees who saw that item. Trainees with a position not yet graded (an essay waiting for the
formgrader) are left out, and `n` says how many counted.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd

__all__ = ["Reliability", "cronbach_alpha", "kr20", "paper_reliability", "position_scores", "item_scores",
           "items_across_papers", "ITEM_COLUMNS",
           "gradebook_position_scores"]


def _matrix(scores: pd.DataFrame | np.ndarray) -> np.ndarray:
    values = np.asarray(scores, dtype=float)
    if values.ndim != 2:
        raise ValueError("scores must be a trainees × items matrix")
    return values[~np.isnan(values).any(axis=1)]


def cronbach_alpha(scores: pd.DataFrame | np.ndarray) -> float:
    """Cronbach's α of a trainees × items score matrix (rows with a missing score are left out)."""
    values = _matrix(scores)
    n, k = values.shape
    if n < 2 or k < 2:
        return math.nan
    total_variance = values.sum(axis=1).var(ddof=1)
    if total_variance == 0:
        return math.nan
    return float(k / (k - 1) * (1 - values.var(axis=0, ddof=1).sum() / total_variance))


def kr20(correct: pd.DataFrame | np.ndarray) -> float:
    """KR-20 of a trainees × items matrix of right (1) / wrong (0)."""
    values = _matrix(correct)
    if not np.isin(values, (0.0, 1.0)).all():
        raise ValueError("KR-20 needs right/wrong (1/0) scores; use cronbach_alpha for marks")
    n, k = values.shape
    if n < 2 or k < 2:
        return math.nan
    p = values.mean(axis=0)
    total_variance = values.sum(axis=1).var(ddof=0)  # p·q is the population variance of a 0/1 item
    if total_variance == 0:
        return math.nan
    return float(k / (k - 1) * (1 - (p * (1 - p)).sum() / total_variance))


@dataclass(frozen=True)
class Reliability:
    """Moodle's figures for one paper: CIC (= 100 α), error ratio and standard error of a total."""

    n: int            # trainees counted
    k: int            # items (positions)
    alpha: float      # 0–1
    cic: float        # 100 · alpha, as Moodle reports it
    error_ratio: float
    standard_error: float
    mean: float
    sd: float


def paper_reliability(scores: pd.DataFrame | np.ndarray) -> Reliability:
    values = _matrix(scores)
    n, k = values.shape
    alpha = cronbach_alpha(values)
    totals = values.sum(axis=1)
    sd = float(totals.std(ddof=1)) if n > 1 else math.nan
    cic = 100 * alpha
    error_ratio = 100 * math.sqrt(1 - alpha) if not math.isnan(alpha) and alpha <= 1 else math.nan
    return Reliability(n=n, k=k, alpha=alpha, cic=cic, error_ratio=error_ratio,
                       standard_error=error_ratio * sd / 100 if not math.isnan(error_ratio) else math.nan,
                       mean=float(totals.mean()) if n else math.nan, sd=sd)


def position_scores(results: Iterable) -> pd.DataFrame:
    """Trainees × positions from `dangxiao.assessments.score_paper` results (essays not yet graded
    are NaN). Index: trainee id; columns: 1 … N."""
    rows = {}
    for result in results:
        rows[result.trainee_id] = {item.position: (math.nan if item.correct is None else item.earned) for item in result.items}
    return pd.DataFrame.from_dict(rows, orient="index").sort_index(axis=1)


def item_scores(results: Iterable) -> pd.DataFrame:
    """Trainees × item ids from scored papers, NaN where a trainee never saw the item — the input for
    per-item statistics across papers. (`itemstats.item_statistics` counts a missing grade as 0, which
    suits one fixed assignment; for drawn papers drop the NaN per item instead: an unseen item was not
    failed.)"""
    rows = {}
    for result in results:
        rows[result.trainee_id] = {item.item_id: (math.nan if item.correct is None else item.earned)
                                   for item in result.items}
    return pd.DataFrame.from_dict(rows, orient="index").sort_index(axis=1)


def gradebook_position_scores(db_url: str, assignment: str, notebook: str | None = None) -> pd.DataFrame:
    """Trainees × positions (`item_01` …) from nbgrader's gradebook for an assessment's notebook;
    a grade that still needs manual grading is NaN."""
    from nbgrader.api import Gradebook

    notebook = notebook or assignment
    rows = {}
    with Gradebook(db_url) as gb:
        for submission in gb.assignment_submissions(assignment):
            nb = gb.find_submission_notebook(notebook, assignment, submission.student.id)
            rows[submission.student.id] = {
                grade.name: (math.nan if grade.needs_manual_grade else grade.score)
                for grade in nb.grades if grade.name.startswith("item_")}
    return pd.DataFrame.from_dict(rows, orient="index").sort_index(axis=1)


ITEM_COLUMNS = ["题目", "满分", "人数", "平均分", "难度系数", "标准差", "区分度", "区分效率", "提示"]


def items_across_papers(results: Iterable, thresholds=None) -> pd.DataFrame:
    """Per item id, over the trainees whose paper held it: Moodle's facility, discrimination (item against
    the rest of *that trainee's paper*) and efficiency, with the usual flags (`itemstats`). Essays not yet
    graded are left out. One row per item, most-seen first."""
    from dangxiao.grading.itemstats import ItemThresholds, item_statistics

    seen: dict[str, list[tuple[float, float]]] = {}
    points: dict[str, float] = {}
    for result in results:
        if any(item.correct is None for item in result.items):
            continue  # a total still waiting for hand grading would bias the rest score
        for item in result.items:
            seen.setdefault(item.item_id, []).append((item.earned, result.total - item.earned))
            points[item.item_id] = item.points
    rows = []
    for item_id, pairs in seen.items():
        marks = np.asarray(pairs, dtype=float)
        rest_max = max(float(marks[:, 1].max()), 1.0)
        stats = item_statistics(marks, [points[item_id], rest_max], [item_id, "_rest"], thresholds or ItemThresholds())
        rows.append(stats.iloc[0])
    frame = pd.DataFrame(rows, columns=ITEM_COLUMNS).reset_index(drop=True)
    return frame.sort_values(["人数", "题目"], ascending=[False, True], kind="stable").reset_index(drop=True)
