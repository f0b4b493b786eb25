"""Gradebook-touching preprocessors, one at a time while kernels run in parallel.

`dangxiao autograde` runs submissions on worker threads in one process; SQLite wants one writer at
a time. `serialised(cls)` wraps any preprocessor class so its `preprocess` runs under the run's
lock (`state.RunState.db_lock`); without a run (plain nbgrader) it runs as is.
"""
from __future__ import annotations

from nbgrader.preprocessors import AssignLatePenalties, OverwriteCells, OverwriteKernelspec, SaveAutoGrades

from .state import lookup

__all__ = ["GRADEBOOK_PREPROCESSORS", "SerialisedGradebook", "serialised"]

GRADEBOOK_PREPROCESSORS = (OverwriteCells, OverwriteKernelspec, SaveAutoGrades, AssignLatePenalties)


class SerialisedGradebook:
    """Mixin: run a gradebook-touching preprocessor under the run's database lock."""

    def preprocess(self, nb, resources):
        state = lookup(resources)
        if state is None:
            return super().preprocess(nb, resources)
        with state.db_lock:
            return super().preprocess(nb, resources)


_CACHE: dict[type, type] = {}


def serialised(cls: type) -> type:
    if issubclass(cls, SerialisedGradebook) or not issubclass(cls, GRADEBOOK_PREPROCESSORS):
        return cls
    if cls not in _CACHE:
        _CACHE[cls] = type(f"Serialised{cls.__name__}", (SerialisedGradebook, cls), {"__module__": __name__})
    return _CACHE[cls]
