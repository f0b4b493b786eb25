"""`RejectSymlinks`: refuse a submission that contains a symbolic link.

nbgrader copies a submission's files with `shutil.copy`, which follows symlinks — with the grader's
rights. A link to a solution would land, dereferenced, next to the trainee's notebook. First of the
sanitize preprocessors, so no kernel ever starts for such a submission (and nbgrader then removes
its autograded copy).
"""
from __future__ import annotations

from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor

from .errors import SubmissionRejected

__all__ = ["RejectSymlinks", "find_symlink"]


def find_symlink(folder: Path) -> Path | None:
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            return path
    return None


class RejectSymlinks(NbGraderPreprocessor):
    """Raise `SubmissionRejected` if `submitted/<student>/<assignment>` holds a symlink."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        coursedir = CourseDirectory(config=self.config)
        submitted = Path(coursedir.format_path(coursedir.submitted_directory, info["student"], info["assignment"]))
        link = find_symlink(submitted) if submitted.is_dir() else None
        if link is not None:
            raise SubmissionRejected(f"{link}: 提交中含符号链接，已拒绝 / submission contains a symbolic link")
        return nb, resources
