"""Feedback without hidden tests (nbgrader #917 shows them by default).

`ClearHiddenTestsFromFeedback` is an nbgrader preprocessor for `GenerateFeedback.preprocessors`
(configured in the course's `nbgrader_config.py`, and again by `dangxiao feedback`). For every
autograder-test cell it removes the hidden-test region from the source, using the same markers and
code as nbgrader's `ClearHiddenTests`, and replaces the cell's error output, whose traceback would
quote the hidden assertion (the answer key), with the error's message and a short Chinese note.
Points stay as graded.

The page is nbgrader's feedback page without the CDN MathJax (the overlay `templates/feedback/`),
so a trainee can open it offline, whichever way it was generated.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode, from_dict
from traitlets import Unicode
from traitlets.config import Config
from traitlets.utils.importstring import import_item

from nbgrader.preprocessors import ClearHiddenTests

from .hidden_tests import BEGIN, END, split_hidden

__all__ = [
    "ClearHiddenTestsFromFeedback", "HIDDEN_FAILURE_NOTE", "feedback_config", "hidden_test_lines",
    "hidden_lines", "page_text", "leaked_feedback", "offline_template_config",
]

HIDDEN_FAILURE_NOTE = "本单元含隐藏测试：只显示错误信息，不显示测试代码。/ This cell has hidden tests: only the error message is shown."


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


TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def offline_template_config() -> Config:
    """HTMLExporter settings for nbgrader's feedback page without the CDN MathJax.

    `templates/feedback/` is an overlay of nbgrader's `feedback` template: a folder of the same name
    searched first, holding only `mathjax.html.j2`, which shadows nbconvert's CDN one. Keeping the
    name `feedback` matters: the formgrader's "Generate Feedback" (`NbGraderAPI.generate_feedback`)
    forces `template_name = 'feedback'`, and so gets the offline page too. nbgrader's own template
    folder must stay on the search path (GenerateFeedback only adds it when `extra_template_basedirs`
    is not configured).
    """
    import nbgrader

    nbgrader_templates = Path(nbgrader.__file__).resolve().parent / "server_extensions" / "formgrader" / "templates"
    extra = Config()
    extra.HTMLExporter.template_name = "feedback"
    extra.HTMLExporter.extra_template_basedirs = [str(TEMPLATES_DIR), str(nbgrader_templates)]
    return extra


def feedback_config(config: Config) -> Config:
    """Extra config for feedback: `ClearHiddenTestsFromFeedback` right after `GetGrades`, and the
    offline template.

    The course config already sets both; this keeps `dangxiao feedback` safe for a course whose
    config does not (an older `nbgrader_config.py`).
    """
    from nbgrader.converters import GenerateFeedback

    configured = config.GenerateFeedback.get("preprocessors", list(GenerateFeedback.preprocessors.default()))
    names = [_dotted(item) for item in configured]
    ours = _dotted(ClearHiddenTestsFromFeedback)
    if ours not in names:
        after = names.index("nbgrader.preprocessors.getgrades.GetGrades") + 1 if (
            "nbgrader.preprocessors.getgrades.GetGrades" in names) else 0
        names.insert(after, ours)
    extra = offline_template_config()
    extra.GenerateFeedback.preprocessors = names
    return extra


def _dotted(item) -> str:
    if isinstance(item, str):
        item = import_item(item)
    return f"{item.__module__}.{item.__qualname__}"


def hidden_test_lines(api, assignment_id: str) -> list[str]:
    """Every non-trivial line inside a hidden-test region of the assignment, from the gradebook."""
    lines: list[str] = []
    with api.gradebook as gradebook:
        assignment = gradebook.find_assignment(assignment_id)
        for notebook in assignment.notebooks:
            for cell in notebook.source_cells:
                lines.extend(hidden_lines(cell.source or ""))
    return lines


def hidden_lines(source: str, begin: str = BEGIN, end: str = END) -> list[str]:
    """The hidden-test lines worth looking for in a page: code, not comments or short fragments."""
    return [line.strip() for line in split_hidden(source, begin, end)[1]
            if len(line.strip()) >= 6 and not line.strip().startswith("#")]


def page_text(path: Path, include_scripts: bool = False) -> str:
    """The text of an HTML page with tags removed and entities decoded: what a reader sees, or with
    `include_scripts` also the content of scripts and styles (e.g. embedded widget state)."""
    parser = _TextParser(include_scripts)
    parser.feed(path.read_text(encoding="utf-8"))
    return "".join(parser.parts)


def leaked_feedback(pages: list[Path], lines: list[str]) -> list[Path]:
    """The pages containing any of `lines` anywhere in their text or scripts (whitespace-insensitive,
    so syntax-highlighting spans and escaped quotes do not hide a line)."""
    wanted = [_squash(line) for line in lines if _squash(line)]
    leaks = []
    for page in pages:
        text = _squash(page_text(page, include_scripts=True))
        if any(line in text for line in wanted):
            leaks.append(page)
    return leaks


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


class _TextParser(HTMLParser):
    def __init__(self, include_scripts: bool = False):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._include_scripts = include_scripts

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if self._include_scripts or not self._skip:
            self.parts.append(data)
