"""Per-submission state shared by the preprocessors of one `dangxiao autograde` conversion.

nbconvert deep-copies `resources` between preprocessors, so objects cannot travel in them: they
carry a key (`dangxiao_key`) into this registry. Under plain `nbgrader autograde` or the
formgrader there is no key: preprocessors then log their notes and take no lock.
"""
from __future__ import annotations

import threading
from typing import Any

__all__ = ["RunState", "register", "lookup", "release"]

_STATES: dict[str, "RunState"] = {}


class RunState:
    def __init__(self, db_lock: threading.Lock, log: Any) -> None:
        self.db_lock = db_lock
        self.notes: list[str] = []
        self.log = log


def register(key: str, state: RunState) -> None:
    _STATES[key] = state


def lookup(resources) -> RunState | None:
    key = (resources or {}).get("dangxiao_key")
    return _STATES.get(key) if key else None


def release(key: str) -> None:
    _STATES.pop(key, None)
