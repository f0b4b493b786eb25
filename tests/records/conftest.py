"""Helpers for the record-store tests: accounts made quickly, events by kind, a store's whole content,
and a tiny catalog of three lessons (two with a quiz, one without)."""
from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import MetaData, event, select

from dangxiao.events import Heartbeat, LessonEnd, NoteEvent, QuizAttemptEvent, ScenarioEvent
from dangxiao.records.roster import RosterRow

# Events are dated in the recent past: the store believes a sender's clock only within its CLOCK_WINDOW.
BASE = time.time() - 3600


def event_id() -> str:
    return uuid.uuid4().hex


def beat(at: float, seconds: float, id: str | None = None) -> Heartbeat:
    return Heartbeat(id=id or event_id(), at=at, kind="heartbeat", active_seconds=seconds)


def lesson_end(at: float) -> LessonEnd:
    return LessonEnd(id=event_id(), at=at, kind="lesson_end")


def attempt(at: float, question: str, correct: bool | None, answer="A", id: str | None = None) -> QuizAttemptEvent:
    return QuizAttemptEvent(id=id or event_id(), at=at, kind="quiz_attempt", question_id=question,
                            answer=answer, correct=correct)


def note(at: float, key: str, text: str, id: str | None = None) -> NoteEvent:
    return NoteEvent(id=id or event_id(), at=at, kind="note", key=key, text=text)


def scenario(at: float, key: str, path: list[int]) -> ScenarioEvent:
    return ScenarioEvent(id=event_id(), at=at, kind="scenario", key=key, path=path)


def add_trainees(store, *ids: str, class_name: str = "一班") -> dict[str, str]:
    """Trainees with known passwords (`pw-<id>-secret`); returns id -> password."""
    rows = [RosterRow(id=i, name=f"学员{i}（模拟）", class_name=class_name, password=f"pw-{i}-secret") for i in ids]
    store.import_roster(rows)
    return {row.id: row.password for row in rows}


def contents(store) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: to show that something changed nothing."""
    metadata = MetaData()
    metadata.reflect(store.engine)
    with store.engine.connect() as connection:
        return {name: sorted(map(tuple, connection.execute(select(table)).all()), key=repr)
                for name, table in metadata.tables.items()}


def progress_of(store, account_id: str, lesson_id: str):
    return next((p for p in store.progress(account_id) if p.lesson_id == lesson_id), None)


def _notebook(path: Path, quiz: bool) -> None:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# 课程（模拟）"}]
    if quiz:
        cells.append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                      "source": "from dangxiao.widgets import Quiz\nQuiz(['q-one'])"})
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
                    encoding="utf-8")


def race(stores, matches, calls, wait: float = 10.0):
    """Run `calls` (one per store) in threads that all pause after their first statement for which
    `matches(sql)` is true, until every thread has reached it: two senders arriving at the same moment,
    made certain instead of likely. Returns each call's result or the exception it raised."""
    barrier = threading.Barrier(len(calls), timeout=wait)
    paused = threading.local()

    def pause(conn, cursor, statement, parameters, context, executemany):
        if matches(statement) and not getattr(paused, "done", False):
            paused.done = True
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass  # the code no longer runs that statement in every thread: nothing to line up

    for store in stores:
        event.listen(store.engine, "after_cursor_execute", pause)
    results = [None] * len(calls)

    def run(index):
        try:
            results[index] = calls[index]()
        except Exception as error:  # noqa: BLE001 -- the test looks at what each call raised
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for store in stores:
            event.remove(store.engine, "after_cursor_execute", pause)
    return results


# Test modules are imported with --import-mode=importlib and cannot import this file: hand the helpers
# over as a fixture.
@pytest.fixture(scope="session")
def kit():
    class Kit:
        base = BASE
        id = staticmethod(event_id)
        beat = staticmethod(beat)
        lesson_end = staticmethod(lesson_end)
        attempt = staticmethod(attempt)
        note = staticmethod(note)
        scenario = staticmethod(scenario)
        add_trainees = staticmethod(add_trainees)
        contents = staticmethod(contents)
        progress_of = staticmethod(progress_of)
        race = staticmethod(race)

    return Kit


@pytest.fixture
def tiny_catalog(tmp_path):
    """Two modules, three lessons: l1 (40 min, quiz), l2 (20 min, quiz), l3 (10 min, no quiz)."""
    from dangxiao.catalog import load_catalog

    root = tmp_path / "courses"
    root.mkdir()
    (root / "catalog.yaml").write_text(
        "title: 测试课程\n"
        "modules:\n"
        "  - id: ma\n    title: 模块甲\n    lessons:\n"
        "      - {id: l1, title: 第一课, notebook: l1.ipynb, minutes: 40}\n"
        "      - {id: l2, title: 第二课, notebook: l2.ipynb, minutes: 20}\n"
        "  - id: mb\n    title: 模块乙\n    lessons:\n"
        "      - {id: l3, title: 第三课, notebook: l3.ipynb, minutes: 10}\n",
        encoding="utf-8")
    _notebook(root / "l1.ipynb", quiz=True)
    _notebook(root / "l2.ipynb", quiz=True)
    _notebook(root / "l3.ipynb", quiz=False)
    return load_catalog(root)
