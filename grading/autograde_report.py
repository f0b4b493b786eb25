"""What `dangxiao autograde` shows and writes: a progress bar, the summary table, the CSV.

The table and CSV columns are Chinese first: 学员 (student), 作业 (assignment), 得分 (score/max),
状态 (status), 问题 (file and cause), 用时 (seconds).
"""
from __future__ import annotations

import csv
import sys
import time
import unicodedata
from pathlib import Path
from typing import Sequence, TextIO

from .autograde import SubmissionResult

__all__ = ["Progress", "summary_table", "write_csv", "HEADERS"]

HEADERS = ("学员", "作业", "得分", "状态", "问题", "用时（秒）")


def _score(result: SubmissionResult) -> str:
    if result.score is None:
        return "—" if result.max_score is None else f"—/{result.max_score:g}"
    return f"{result.score:g}/{result.max_score:g}"


def _row(result: SubmissionResult) -> list[str]:
    return [result.student, result.assignment, _score(result), result.status, result.problem,
            f"{result.seconds:.1f}"]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def summary_table(results: Sequence[SubmissionResult], max_problem: int = 90) -> str:
    """A plain-text table aligned for CJK (wide characters count as two columns)."""
    rows = [list(HEADERS)]
    for result in results:
        row = _row(result)
        if _width(row[4]) > max_problem:
            cut = row[4]
            while _width(cut) > max_problem - 1:
                cut = cut[:-1]
            row[4] = cut + "…"
        rows.append(row)
    widths = [max(_width(row[i]) for row in rows) for i in range(len(HEADERS))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    graded = sum(1 for r in results if r.ok)
    lines.append("")
    lines.append(f"共 {len(results)} 份提交：{graded} 份已评分，{len(results) - graded} 份有问题"
                 f" / {len(results)} submissions, {graded} graded, {len(results) - graded} with problems")
    return "\n".join(lines)


def write_csv(results: Sequence[SubmissionResult], path: Path) -> Path:
    """The full summary (problems not shortened), utf-8-sig so Excel opens the Chinese correctly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*HEADERS, "得分数值", "满分", "失败输出保存于"])
        for result in results:
            writer.writerow([*_row(result),
                             "" if result.score is None else f"{result.score:g}",
                             "" if result.max_score is None else f"{result.max_score:g}",
                             result.kept_failed_output])
    return path


class Progress:
    """A progress bar on a terminal; one plain line per submission otherwise (logs, CI)."""

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream or sys.stdout
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()

    def __call__(self, result: SubmissionResult, done: int, total: int) -> None:
        mark = "✓" if result.ok else "✗"
        if self.tty:
            filled = int(self.width * done / max(total, 1))
            bar = "█" * filled + "░" * (self.width - filled)
            elapsed = time.monotonic() - self.started
            if not result.ok:  # problems scroll above the bar as they happen
                self.stream.write(f"\r\x1b[K✗ {result.student}: {result.problem}\n")
            self.stream.write(f"\r评分 {bar} {done}/{total}  {elapsed:5.0f} 秒  {mark} {result.student[:20]:<20}")
            if done == total:
                self.stream.write("\n")
        else:
            self.stream.write(f"[{done}/{total}] {result.student} {result.assignment} {_score(result)} "
                              f"{result.status}{'：' + result.problem if result.problem else ''}\n")
        self.stream.flush()
