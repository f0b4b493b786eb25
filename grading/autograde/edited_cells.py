"""`NoteEditedLockedCells`: say when a trainee edited a test or read-only cell.

nbgrader's `OverwriteCells` (which runs after this) restores such cells from the gradebook, so the
edit changes no grade; but it is worth a line in the summary. nbgrader's own "checksum changed"
warning fires for every test cell with hidden tests, so it tells nothing: the submitted source is
compared with the released notebook's instead.
"""
from __future__ import annotations

import functools
from pathlib import Path

import nbformat
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor

from .state import lookup

__all__ = ["NoteEditedLockedCells"]


@functools.lru_cache(maxsize=32)
def _locked_sources(path: str, mtime_ns: int) -> dict[str, str]:
    """grade_id → source of the released notebook's locked and test cells (read once per run)."""
    released = {}
    for cell in nbformat.read(path, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("locked") or (meta.get("grade") and not meta.get("solution")):
            released[meta.get("grade_id")] = cell.source.strip()
    return released


class NoteEditedLockedCells(NbGraderPreprocessor):
    """Note (never change) locked or test cells whose source differs from the release."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        coursedir = CourseDirectory(config=self.config)
        released_path = Path(coursedir.format_path(coursedir.release_directory, ".", info["assignment"])) / (
            info["notebook"] + ".ipynb")
        if not released_path.is_file():
            return nb, resources
        released = _locked_sources(str(released_path), released_path.stat().st_mtime_ns)
        edited = []
        for index, cell in enumerate(nb.cells, 1):
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in released and cell.source.strip() != released[grade_id]:
                edited.append(str(index))
        if edited:
            note = (f"{info['notebook']}.ipynb: 第 {'、'.join(edited)} 个单元格（测试或只读）被改动，评分时已恢复"
                    f" / locked or test cells edited; restored before grading")
            state = lookup(resources)
            if state is not None:
                state.notes.append(note)
            self.log.warning(note)
        return nb, resources
