"""Grading for the dangxiao course (installed as `dangxiao.grading`).

- `check("q1")`: a trainee's instant self-check against the visible tests (`selfcheck`).
- `course`: find the nbgrader course and run nbgrader's apps on it.
- `feedback`: the preprocessor that keeps hidden tests out of feedback.
- `autograde`: parallel, sandboxed autograding.
"""
from dangxiao.grading.selfcheck import check

__all__ = ["check"]
