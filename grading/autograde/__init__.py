"""Autograding in nbgrader's shape, every kernel in the sandbox (`dangxiao.grading.sandbox`).

- `execute`: `SandboxedExecute`, nbgrader's Execute with sandboxed kernels, time and output caps;
- `redact`: `RedactHiddenTests`, hidden-test source out of outputs;
- `reject_links`: `RejectSymlinks`, no symlinked file is ever copied for a kernel;
- `serialised`: gradebook preprocessors one at a time under parallel grading;
- `converter`: the preprocessor lists for every path (`sandboxed_autograde_config` for a course's
  nbgrader_config.py) and `SandboxedAutograde`, the converter of one submission;
- `publish`: atomic publication of a result, recovery after a killed run;
- `run`: `dangxiao autograde`'s parallel run (`grade_assignment`).
"""
from .converter import SandboxedAutograde, sandboxed, sandboxed_autograde_config
from .errors import NotebookTimeout, describe_error
from .execute import UNCONFINED_NOTE, SandboxedExecute
from .run import (STATUS_FAILED, STATUS_MISSING, STATUS_OK, GradingOptions, GradingRun, SubmissionResult,
                  grade_assignment)

__all__ = [
    "GradingOptions", "SubmissionResult", "GradingRun", "grade_assignment", "SandboxedExecute",
    "SandboxedAutograde", "NotebookTimeout", "describe_error", "sandboxed", "sandboxed_autograde_config",
    "UNCONFINED_NOTE", "STATUS_OK", "STATUS_FAILED", "STATUS_MISSING",
]
