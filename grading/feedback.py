"""Feedback without hidden tests (nbgrader #917 shows them by default).

`ClearHiddenTestsFromFeedback` is an nbgrader preprocessor for `GenerateFeedback.preprocessors`
(configured in the course's `nbgrader_config.py`, and again by `dangxiao feedback`). For every
autograder-test cell it removes the hidden-test region from the source, using the same markers and
code as nbgrader's `ClearHiddenTests`, and replaces the cell's error output, whose traceback would
quote the hidden assertion (the answer key), with a short Chinese note. Points stay as graded.
"""
from __future__ import annotations

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode, from_dict
from traitlets import Unicode

from nbgrader.preprocessors import ClearHiddenTests

__all__ = ["ClearHiddenTestsFromFeedback", "HIDDEN_FAILURE_NOTE"]

HIDDEN_FAILURE_NOTE = "本题未通过隐藏测试（隐藏测试内容不公开）。/ A hidden test did not pass (hidden tests are not shown)."


class ClearHiddenTestsFromFeedback(ClearHiddenTests):
    """Strip hidden tests, and any output that could quote them, from graded test cells."""

    failure_note = Unicode(
        HIDDEN_FAILURE_NOTE,
        help="Text shown instead of the error output of a test cell that has hidden tests.",
    ).tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict, cell_index: int):
        if cell.cell_type != "code":
            return cell, resources
        if self._remove_hidden_test_region(cell):
            # A traceback quotes the failing line, which may be a hidden assertion (the answer key):
            # keep only the error's name and message (written to be safe to show) and a note.
            cell.outputs = [_without_traceback(out, self.failure_note) for out in cell.get("outputs", [])]
        return cell, resources


def _without_traceback(output: NotebookNode, note: str) -> NotebookNode:
    if output.get("output_type") != "error":
        return output
    message = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".rstrip(": ")
    return from_dict({"output_type": "stream", "name": "stderr", "text": f"{message}\n{note}\n"})
