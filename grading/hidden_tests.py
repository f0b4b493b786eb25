"""Reading nbgrader's hidden-test blocks (`### BEGIN HIDDEN TESTS` … `### END HIDDEN TESTS`).

Self-check runs a test cell without them, feedback and autograde scrub them out of what trainees see;
all three read the blocks here, with ClearHiddenTests' default delimiters unless told otherwise.
"""
from __future__ import annotations

__all__ = ["BEGIN", "END", "split_hidden"]

BEGIN = "BEGIN HIDDEN TESTS"  # nbgrader ClearHiddenTests' default delimiters
END = "END HIDDEN TESTS"


def split_hidden(source: str, begin: str = BEGIN, end: str = END) -> tuple[list[str], list[str]]:
    """(visible lines, hidden lines) of a cell's source; the delimiter lines belong to neither."""
    visible: list[str] = []
    hidden: list[str] = []
    inside = False
    for line in source.split("\n"):
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        else:
            (hidden if inside else visible).append(line)
    return visible, hidden
