"""Why a submission failed, in one line (Chinese, English after a slash for searching logs)."""
from __future__ import annotations

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbgrader.converters.base import NbGraderException

__all__ = ["NotebookTimeout", "KernelUnresponsive", "SubmissionRejected", "describe_error"]


class NotebookTimeout(Exception):
    """The whole notebook ran longer than its cap."""


class KernelUnresponsive(Exception):
    """A timed-out cell could not be interrupted (the code ignores SIGINT)."""


class SubmissionRejected(Exception):
    """A submission that is not graded at all (its files are unsafe to copy)."""


def describe_error(error: BaseException) -> str:
    """A one-line Chinese cause for the summary."""
    text = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    if isinstance(error, (NotebookTimeout, SubmissionRejected, KernelUnresponsive)):
        return str(error)
    if isinstance(error, CellTimeoutError):
        return "单元格超时且无法中断（代码可能屏蔽了 SIGINT），内核已强制结束 / cell timed out, kernel unresponsive, killed"
    if isinstance(error, DeadKernelError):
        return "内核意外退出（崩溃或超出内存/进程限制）/ kernel died (crash, memory or process limit)"
    if isinstance(error, nbformat.reader.NotJSONError) or "does not appear to be JSON" in text:
        return "不是合法的 notebook JSON（文件损坏或被截断）/ not valid notebook JSON (corrupt or truncated)"
    if isinstance(error, nbformat.ValidationError):
        return f"notebook 格式不合法 / invalid notebook: {text}"
    if isinstance(error, NbGraderException):
        return f"nbgrader 拒绝了这份提交 / nbgrader refused it: {text}"
    if isinstance(error, KeyboardInterrupt):
        return "评分被中断 / grading interrupted"
    if type(error).__name__ == "SandboxUnavailable":
        return text
    return f"{type(error).__name__}: {text}"
