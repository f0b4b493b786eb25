"""Instant self-check for trainees: `check("q1")` runs the VISIBLE tests of one question.

Design: the visible tests are the assignment notebook's own autograder-test cell, found by its
nbgrader `grade_id` (the question name). The released notebook has had its hidden tests removed by
nbgrader's `ClearHiddenTests` at `generate_assignment`, so the trainee's copy carries only visible
tests; this module strips any hidden-test region again anyway (same markers) before running, in case
it is run on an instructor's or autograded copy. Tests run in a copy of the kernel's namespace, so a
check never changes the trainee's variables. The message is Chinese, never a traceback, and never the
test source.

    from dangxiao.grading import check
    check("q1")      # prints ✓ / ✗ and a hint

Which notebook: `notebook=` if given, else the one the kernel was started for (`__session__` /
`JPY_SESSION_NAME`, set by Jupyter), else the notebooks in the current folder that have that grade_id.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .hidden_tests import split_hidden

__all__ = ["CheckResult", "check", "run_check", "visible_tests"]



@dataclass(frozen=True)
class CheckResult:
    question: str
    passed: bool
    message: str

    def __str__(self) -> str:
        return self.message


class _NotFound(Exception):
    pass


def check(question: str, notebook: str | os.PathLike | None = None) -> None:
    """Run the visible tests of `question` and print a Chinese pass/fail message."""
    print(run_check(question, notebook, _caller_namespace()).message)


def run_check(question: str, notebook: str | os.PathLike | None = None,
              namespace: dict[str, Any] | None = None) -> CheckResult:
    """Like `check` but returns the result instead of printing it."""
    if namespace is None:
        namespace = _caller_namespace()
    try:
        source = visible_tests(question, notebook)
    except _NotFound as missing:
        return CheckResult(question, False, f"⚠ 无法自测 {question}：{missing}")
    scope = dict(namespace)  # run in a copy: a test never changes the trainee's variables
    try:
        exec(compile(source, f"<自测 {question}>", "exec"), scope)
    except AssertionError as failed:
        hint = str(failed).strip() or "结果与要求不符，请再检查一下。"
        return CheckResult(question, False, f"✗ {question} 自测未通过：{hint}")
    except NameError as failed:
        name = getattr(failed, "name", None) or str(failed)
        return CheckResult(question, False,
                           f"✗ {question} 自测未通过：还没有定义 {name}，请先完成并运行上面的代码单元。")
    except Exception as failed:  # the trainee's code raised: name the error, no traceback
        return CheckResult(question, False,
                           f"✗ {question} 自测未通过：运行时出错 {type(failed).__name__}: {failed}")
    return CheckResult(question, True,
                       f"✓ {question} 自测通过。（只运行了公开测试；提交后评分还包括隐藏测试。）")


def visible_tests(question: str, notebook: str | os.PathLike | None = None) -> str:
    """The source of the question's test cell with any hidden-test region removed."""
    candidates = _candidate_notebooks(notebook)
    if not candidates:
        # e.g. under the autograder, which sends cells to the kernel without a notebook file nearby
        raise _NotFound("这里没有作业笔记本文件，自测只在 Jupyter 中打开作业时可用（评分时跳过自测）。")
    for path in candidates:
        source = _test_cell_source(path, question)
        if source is not None:
            return _strip_hidden(source)
    raise _NotFound(f"在作业笔记本中找不到题目 “{question}” 的测试单元（题号写对了吗？）")


def _candidate_notebooks(notebook: str | os.PathLike | None) -> list[Path]:
    if notebook is not None:
        return [Path(notebook)]
    found: list[Path] = []
    main = sys.modules.get("__main__")
    for session in (getattr(main, "__session__", None), os.environ.get("JPY_SESSION_NAME")):
        if session and str(session).endswith(".ipynb") and Path(session).is_file():
            found.append(Path(session))
    found.extend(sorted(Path.cwd().glob("*.ipynb")))
    return found


def _test_cell_source(path: Path, question: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            notebook = json.load(handle)
    except (OSError, ValueError):
        return None
    for cell in notebook.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if (cell.get("cell_type") == "code" and meta.get("grade_id") == question
                and meta.get("grade") and not meta.get("solution")):
            source = cell.get("source", "")
            return "".join(source) if isinstance(source, list) else source
    return None


def _strip_hidden(source: str) -> str:
    return "\n".join(split_hidden(source)[0])


def _caller_namespace() -> dict[str, Any]:
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None:
        return shell.user_ns
    frame = sys._getframe(2)  # the caller of check()/run_check()
    return frame.f_globals
