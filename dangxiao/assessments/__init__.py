"""Assessments: blueprints, 随机组卷, scoring, and the nbgrader route (core level).

A blueprint (YAML, `assignments/assessments/<id>.yaml`) says what a paper holds; `draw_paper` draws a
trainee's paper with a stable seed; `Paper.public_view()` is all the browser may see before submission;
`score_paper` scores at once; `write_submission` hands the paper to nbgrader, whose autograde gives the
same score. Imports only the standard library, pydantic, yaml, nbformat and the core modules.
"""
from dangxiao.assessments.blueprint import (
    Blueprint, BlueprintError, assessment_bank, assessments_dir, check_blueprint, load_blueprint,
)
from dangxiao.assessments.kernel import AnswerError
from dangxiao.assessments.paper import Paper, PaperItem, draw_paper
from dangxiao.assessments.scoring import PaperResult, check_answer, feedback_view, score_paper

__all__ = [
    "AnswerError",
    "Blueprint",
    "BlueprintError",
    "Paper",
    "PaperItem",
    "PaperResult",
    "assessment_bank",
    "assessments_dir",
    "check_answer",
    "check_blueprint",
    "draw_paper",
    "feedback_view",
    "load_blueprint",
    "score_paper",
]
