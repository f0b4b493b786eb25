"""The preprocessor lists every autograde path uses, and `SandboxedAutograde`, the converter of
`dangxiao autograde` (one submission, into a staging folder).

`sandboxed(preprocessors)` is the guard: whatever a configuration lists — classes or dotted names
(resolved with traitlets' `import_item`, as nbconvert does) — every `Execute` becomes sandboxed
(`Execute` itself → `SandboxedExecute`; a subclass of it → a subclass of both, so its own
behaviour stays and its kernels still start in the sandbox), `RedactHiddenTests` follows it, and
gradebook-touching preprocessors take the run's lock. No configuration can run a kernel outside
the sandbox through `dangxiao autograde`; plain `nbgrader autograde` and the formgrader get the
same lists from the course's nbgrader_config.py (`sandboxed_autograde_config`).
"""
from __future__ import annotations

import threading
import uuid
from pathlib import Path

from nbconvert.preprocessors import ExecutePreprocessor
from nbconvert.writers import FilesWriter
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute, OverwriteCells
from traitlets import import_item
from traitlets.config import Config

from .. import compat
from .edited_cells import NoteEditedLockedCells
from .errors import SubmissionRejected
from .execute import SandboxedExecute
from .redact import RedactHiddenTests
from .reject_links import RejectSymlinks, find_symlink
from .serialised import serialised
from .state import RunState, register, release

__all__ = ["sandboxed", "sandboxed_autograde_config", "SandboxedAutograde"]

_WRAPPED: dict[type, type] = {}


def _resolve(item) -> type:
    return import_item(item) if isinstance(item, str) else item


def sandboxed_execute(cls: type) -> type:
    """Any preprocessor that executes notebooks (nbgrader's Execute, nbconvert's ExecutePreprocessor,
    subclasses of either) → one whose kernels start in the sandbox."""
    if issubclass(cls, SandboxedExecute):
        return cls
    if cls in (Execute, ExecutePreprocessor):
        return SandboxedExecute
    if cls not in _WRAPPED:
        _WRAPPED[cls] = type(f"Sandboxed{cls.__name__}", (SandboxedExecute, cls), {"__module__": __name__})
    return _WRAPPED[cls]


def sandboxed(preprocessors, *, sanitize: bool = False, serialise: bool = True) -> list[type]:
    """The list with every kernel in the sandbox (see the module docstring)."""
    result: list[type] = []
    for item in preprocessors:
        cls = _resolve(item)
        if isinstance(cls, type) and issubclass(cls, (Execute, ExecutePreprocessor)):
            result += [sandboxed_execute(cls), RedactHiddenTests]
        elif cls is RedactHiddenTests and result and result[-1] is RedactHiddenTests:
            continue  # already after its Execute
        else:
            result.append(serialised(cls) if serialise and isinstance(cls, type) else cls)
    if sanitize:
        if NoteEditedLockedCells not in result:
            before = next((i for i, cls in enumerate(result) if isinstance(cls, type)
                           and issubclass(cls, OverwriteCells)), len(result))
            result.insert(before, NoteEditedLockedCells)
        if RejectSymlinks not in result:
            result.insert(0, RejectSymlinks)
    return result


def sandboxed_autograde_config() -> Config:
    """For a course's nbgrader_config.py: `c.merge(sandboxed_autograde_config())` makes
    `nbgrader autograde` and the formgrader's Autograde button grade in the sandbox."""
    config = Config()
    defaults = Autograde.class_traits()
    config.Autograde.sanitize_preprocessors = [
        f"{cls.__module__}.{cls.__name__}" for cls in
        sandboxed(defaults["sanitize_preprocessors"].default(), sanitize=True, serialise=False)]
    config.Autograde.autograde_preprocessors = [
        f"{cls.__module__}.{cls.__name__}" for cls in
        sandboxed(defaults["autograde_preprocessors"].default(), serialise=False)]
    return config


class SandboxedAutograde(Autograde):
    """nbgrader's Autograde for ONE submission, into a staging folder, kernels in the sandbox.

    `grade()` replaces `start()`: no `os.chdir` (threads share the cwd), no deletion of earlier
    output on failure (the caller decides what to keep), and the failing file is reported.
    """

    def __init__(self, *, db_lock: threading.Lock, **kwargs):
        super().__init__(**kwargs)
        self.current_file: str | None = None
        self.state_key = uuid.uuid4().hex
        self.state = RunState(db_lock, self.log)
        register(self.state_key, self.state)
        self.sanitize_preprocessors = sandboxed(self.sanitize_preprocessors, sanitize=True)
        self.autograde_preprocessors = sandboxed(self.autograde_preprocessors)

    @property
    def notes(self) -> list[str]:
        return self.state.notes

    def init_single_notebook_resources(self, notebook_filename):
        resources = super().init_single_notebook_resources(notebook_filename)
        resources["dangxiao_key"] = self.state_key
        return resources

    def init_assignment(self, assignment_id, student_id):
        # checked before nbgrader copies anything (it follows symlinks, with the grader's rights)
        link = find_symlink(Path(self._format_source(assignment_id, student_id)))
        if link is not None:
            self.current_file = str(link)
            raise SubmissionRejected("提交中含符号链接，已拒绝 / submission contains a symbolic link")
        with self.state.db_lock:
            super().init_assignment(assignment_id, student_id)

    def convert_single_notebook(self, notebook_filename):
        compat.autograde_two_passes(self, notebook_filename)

    def grade(self) -> None:
        self.init_notebooks()
        self.writer = FilesWriter(parent=self, config=self.config)
        self.exporter = self.exporter_class(parent=self, config=self.config)
        (folder, notebooks), = self.assignments.items()
        self.notebooks = sorted(notebooks)
        self.init_assignment(self.coursedir.assignment_id, self.coursedir.student_id)
        for notebook in self.notebooks:
            self.current_file = notebook
            self.convert_single_notebook(notebook)
        self.current_file = None
        self.set_permissions(self.coursedir.assignment_id, self.coursedir.student_id)

    def release_state(self) -> None:
        release(self.state_key)

