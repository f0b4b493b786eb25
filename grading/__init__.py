"""Grading for the dangxiao course (installed as `dangxiao.grading`).

- `check("q1")`: a trainee's instant self-check against the visible tests (`selfcheck`).
- `course`: find the nbgrader course and run nbgrader's apps on it.
- `feedback`: the preprocessor that keeps hidden tests out of feedback.
- `sandbox`: trainee code in bubblewrap through a kernel provisioner (threat model there).
- `autograde`: autograding in nbgrader's shape, every kernel sandboxed; `dangxiao autograde`'s run.
- `compat`: the library internals still used, with version bounds.
"""
from dangxiao.grading.selfcheck import check

__all__ = ["check"]
