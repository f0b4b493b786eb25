"""What the store makes of events: a repeated id is ignored, heartbeats credit no more than the clock
allows, lesson ends, first quiz attempts, and notes that a late retry never overwrites."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from dangxiao.events import MAX_BEAT_SECONDS
from dangxiao.records import open_store
from dangxiao.records.models import Event, QuizAttempt
from dangxiao.records.store import CLOCK_WINDOW, NEW_STRETCH_AFTER, LessonOpen


def _count(store, model=Event) -> int:
    with store.session() as db:
        return db.scalar(select(func.count()).select_from(model))


def _active(store, kit, account="2026001", lesson="l1") -> float:
    progress = kit.progress_of(store, account, lesson)
    return progress.active_seconds if progress else 0.0


# -- idempotency -------------------------------------------------------------------------------------
def test_an_event_sent_twice_is_stored_once(record_store, kit):
    store = record_store
    kit.add_trainees(store, "2026001")
    beat = kit.beat(kit.base, 30)
    assert store.record_events("2026001", "l1", [beat]) == 1
    assert store.record_events("2026001", "l1", [beat]) == 0  # the page retried: its answer was lost
    assert _count(store) == 1 and _active(store, kit) == 30


def test_a_repeat_inside_one_batch_is_stored_once(record_store, kit):
    store = record_store
    kit.add_trainees(store, "2026001")
    attempt = kit.attempt(kit.base, "q-one", False)
    beat = kit.beat(kit.base + 1, 20)
    assert store.record_events("2026001", "l1", [attempt, beat, attempt, beat]) == 2
    assert _count(store) == 2 and _count(store, QuizAttempt) == 1 and _active(store, kit) == 20


def test_a_batch_of_repeats_changes_nothing(record_store, kit):
    store = record_store
    kit.add_trainees(store, "2026001")
    batch = [kit.beat(kit.base, 30), kit.note(kit.base + 1, "think-1", "第一稿"), kit.lesson_end(kit.base + 2)]
    store.record_events("2026001", "l1", batch)
    before = kit.contents(store)
    assert store.record_events("2026001", "l1", list(reversed(batch))) == 0
    assert kit.contents(store) == before


def test_one_batch_sent_to_two_servers_at_once_is_stored_once(database_url, kit):
    """Two servers on one database get the same retried batch at the same moment."""
    stores = [open_store(database_url), open_store(database_url)]
    kit.add_trainees(stores[0], "2026001")
    stores[0].record_events("2026001", "l1", [kit.beat(kit.base, 30)])  # the lesson has a progress row
    batch = [kit.beat(kit.base + 30, 30), kit.attempt(kit.base + 31, "q-one", True)]
    results = kit.race(stores, lambda sql: "FROM events" in sql,
                       [lambda s=s: s.record_events("2026001", "l1", batch) for s in stores])
    try:
        assert sorted(results, key=repr) == [0, 2], results
        assert _count(stores[0]) == 3 and _count(stores[0], QuizAttempt) == 1
        assert _active(stores[0], kit) == 60
    finally:
        for store in stores:
            store.engine.dispose()


def test_two_tabs_beating_at_the_same_moment_lose_no_time(database_url, kit):
    """Two requests of one trainee handled at once (two tabs; or one server's thread pool): each reads
    the lesson's progress before the other has written it."""
    stores = [open_store(database_url), open_store(database_url)]
    kit.add_trainees(stores[0], "2026001")
    stores[0].record_events("2026001", "l1", [kit.beat(kit.base, 30)])
    tab_a, tab_b = [kit.beat(kit.base + 30, 30)], [kit.beat(kit.base + 31, 30)]
    # On PostgreSQL the second request waits for the first one's row lock and never reaches the pause:
    # the pause gives up after 3 s and the test shows the lock at work.
    results = kit.race(stores, lambda sql: "FROM lesson_progress" in sql,
                       [lambda: stores[0].record_events("2026001", "l1", tab_a),
                        lambda: stores[1].record_events("2026001", "l1", tab_b)], wait=3)
    try:
        assert results == [1, 1]
        # 30 (first beat) + 30 (tab A, 30 s later) + 1 (tab B, one second after tab A)
        assert _active(stores[0], kit) == 61
    finally:
        for store in stores:
            store.engine.dispose()


def test_many_batches_from_two_servers_keep_every_event_once(database_url, kit):
    """Two servers on one database, each sending its own trainee's beats at full speed: nothing lost."""
    import threading

    stores = [open_store(database_url), open_store(database_url)]
    kit.add_trainees(stores[0], "2026001", "2026002")
    errors = []

    def send(store, account):
        try:
            for n in range(40):
                store.record_events(account, "l1", [kit.beat(kit.base + 30 * n, 30)])
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=send, args=(store, account))
               for store, account in zip(stores, ("2026001", "2026002"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    try:
        assert errors == []
        assert _count(stores[1]) == 80
        assert _active(stores[1], kit, "2026001") == 40 * 30 == _active(stores[1], kit, "2026002")
    finally:
        for store in stores:
            store.engine.dispose()


# -- heartbeats --------------------------------------------------------------------------------------
def test_steady_beats_credit_their_claims(record_store, kit):
    store = record_store
    kit.add_trainees(store, "2026001")
    store.record_events("2026001", "l1", [kit.beat(kit.base + 30 * n, 30) for n in range(10)])
    assert _active(store, kit) == 300


def test_a_second_tab_earns_no_more_than_the_clock(record_store, kit):
    store = record_store
    kit.add_trainees(store, "2026001", "2026002")
    # 2026002 has one tab: a beat every 30 s for ten minutes
    for n in range(20):
        store.record_events("2026002", "l1", [kit.beat(kit.base + 30 * n, 30)])
    one_tab = _active(store, kit, "2026002")
    # 2026001 has two tabs of the same lesson, each beating every 30 s, 15 s apart, each claiming 30 s
    for n in range(20):
        store.record_events("2026001", "l1", [kit.beat(kit.base + 30 * n, 30)])
        store.record_events("2026001", "l1", [kit.beat(kit.base + 30 * n + 15, 30)])
    two_tabs = _active(store, kit, "2026001")
    wall_clock = (30 * 19 + 15) + 30  # from 30 s before the first beat to the last beat
    assert one_tab == 600
    assert two_tabs <= wall_clock
    assert two_tabs < 1.1 * one_tab


def test_a_tab_on_another_lesson_shares_the_same_clock(record_store, kit):
    store = record_store
    kit.add_trainees(store, "2026001")
    for n in range(10):
        store.record_events("2026001", "l1", [kit.beat(kit.base + 30 * n, 30)])
        store.record_events("2026001", "l2", [kit.beat(kit.base + 30 * n + 10, 30)])
    total = _active(store, kit, lesson="l1") + _active(store, kit, lesson="l2")
    assert total <= 30 * 9 + 10 + 30


def test_a_beat_older_than_the_previous_one_earns_nothing(record_store, kit):
    store = record_store
    kit.add_trainees(store, "2026001")
    store.record_events("2026001", "l1", [kit.beat(kit.base + 60, 30)])
    assert store.record_events("2026001", "l1", [kit.beat(kit.base + 30, 30)]) == 1  # kept, but…
    assert _active(store, kit) == 30  # …it credits nothing
    store.record_events("2026001", "l1", [kit.beat(kit.base + 60, 30)])  # the same moment: nothing either
    assert _active(store, kit) == 30


def test_a_claim_above_the_cap_is_capped(record_store, kit):
    store = record_store
    kit.add_trainees(store, "2026001")
    store.record_events("2026001", "l1", [kit.beat(kit.base, 3600)])
    assert _active(store, kit) == MAX_BEAT_SECONDS
    # …also when the clock would allow more: ten minutes since the previous beat, within one stretch?
    # No: ten minutes is a pause, and a beat after a pause credits its (capped) claim.
    store.record_events("2026001", "l1", [kit.beat(kit.base + 600, 600)])
    assert _active(store, kit) == 2 * MAX_BEAT_SECONDS


def test_a_beat_after_a_long_pause_credits_at_most_its_claim(record_store, kit):
    store = record_store
    kit.add_trainees(store, "2026001")
    store.record_events("2026001", "l1", [kit.beat(kit.base, 30)])
    later = kit.base + NEW_STRETCH_AFTER.total_seconds() + 1200  # lunch: twenty-odd minutes
    store.record_events("2026001", "l1", [kit.beat(later, 25)])
    assert _active(store, kit) == 55


def test_beats_in_one_batch_are_credited_in_time_order(record_store, kit):
    """A page that was offline sends its queue at once, in whatever order it kept it."""
    store = record_store
    kit.add_trainees(store, "2026001")
    beats = [kit.beat(kit.base + 30 * n, 30) for n in range(6)]
    store.record_events("2026001", "l1", beats[::-1])
    assert _active(store, kit) == 180


def test_a_sender_clock_in_the_future_or_far_past_is_bounded(record_store, kit):
    from dangxiao.records.store import utcnow

    store = record_store
    kit.add_trainees(store, "2026001")
    before = utcnow()
    store.record_events("2026001", "l1", [kit.beat(time.time() + 86400, 30)])  # a clock a day fast
    store.record_events("2026001", "l2", [kit.beat(0, 30)])  # a clock in 1970
    after = utcnow()
    with store.session() as db:
        times = dict(db.execute(select(Event.lesson_id, Event.at)).all())
    assert before <= times["l1"] <= after  # dated now, not tomorrow
    assert before - CLOCK_WINDOW <= times["l2"] <= after - CLOCK_WINDOW


# -- lesson open and end -----------------------------------------------------------------------------
def test_lesson_open_counts_opens_and_lesson_end_sets_completed_once(record_store, kit):
    store = record_store
    kit.add_trainees(store, "2026001")
    store.record_events("2026001", "l1", [LessonOpen(id=kit.id(), at=kit.base)])
    store.record_events("2026001", "l1", [LessonOpen(id=kit.id(), at=kit.base + 100)])
    progress = kit.progress_of(store, "2026001", "l1")
    assert progress.opens == 2 and progress.completed_at is None
    store.record_events("2026001", "l1", [kit.lesson_end(kit.base + 200)])
    first_end = kit.progress_of(store, "2026001", "l1").completed_at
    assert first_end is not None
    store.record_events("2026001", "l1", [kit.lesson_end(kit.base + 900)])  # read to the end again
    progress = kit.progress_of(store, "2026001", "l1")
    assert progress.completed_at == first_end
    assert progress.first_opened_at < first_end <= progress.last_seen_at
    assert kit.progress_of(store, "2026001", "l2") is None


# -- quiz attempts -----------------------------------------------------------------------------------
def test_only_the_first_attempt_at_a_question_is_marked_first(record_store, kit):
    store = record_store
    kit.add_trainees(store, "2026001", "2026002")
    store.record_events("2026001", "l1", [kit.attempt(kit.base, "q-one", False, "B"),
                                          kit.attempt(kit.base + 5, "q-one", True, "A"),
                                          kit.attempt(kit.base + 6, "q-two", True, "C")])
    store.record_events("2026001", "l1", [kit.attempt(kit.base + 60, "q-one", True, "A")])
    store.record_events("2026002", "l1", [kit.attempt(kit.base + 7, "q-one", True, "A")])  # another trainee
    mine = [(a.question_id, a.answer, a.correct, a.first) for a in store.attempts("2026001")]
    assert mine == [("q-one", "B", False, True), ("q-one", "A", True, False), ("q-two", "C", True, True),
                    ("q-one", "A", True, False)]
    assert [(a.account_id, a.question_id) for a in store.attempts(first_only=True)] == [
        ("2026001", "q-one"), ("2026001", "q-two"), ("2026002", "q-one")]


def test_answers_of_every_shape_are_kept(record_store, kit):
    store = record_store
    kit.add_trainees(store, "2026001")
    answers = [["A", "C"], {"1": "b", "2": "a"}, True, None, "自由回答"]
    store.record_events("2026001", "l1", [kit.attempt(kit.base + n, f"q-{n}", None, answer)
                                          for n, answer in enumerate(answers)])
    assert [a.answer for a in store.attempts("2026001")] == answers
    assert all(a.correct is None for a in store.attempts("2026001"))


# -- notes and scenarios -----------------------------------------------------------------------------
def test_a_note_keeps_the_newest_text_even_when_an_older_retry_arrives_later(record_store, kit):
    store = record_store
    kit.add_trainees(store, "2026001")
    store.record_events("2026001", "l1", [kit.note(kit.base, "think-1", "第一稿")])
    store.record_events("2026001", "l1", [kit.note(kit.base + 20, "think-1", "第三稿")])
    store.record_events("2026001", "l1", [kit.note(kit.base + 10, "think-1", "第二稿")])  # a late retry
    assert [(r.key, r.kind, r.value) for r in store.responses("2026001", "l1")] == [("think-1", "note", "第三稿")]
    # inside one batch too, whatever order it is in
    store.record_events("2026001", "l1", [kit.note(kit.base + 40, "think-2", "后"),
                                          kit.note(kit.base + 30, "think-2", "前")])
    assert {r.key: r.value for r in store.responses("2026001")}["think-2"] == "后"
    # the log keeps each save's length and digest, not the text again at every pause in typing
    import hashlib

    with store.session() as db:
        saves = [e.payload for e in db.scalars(select(Event).where(Event.kind == "note").order_by(Event.at))]
    assert [p["chars"] for p in saves] == [3, 3, 3, 1, 1]
    assert saves[2] == {"key": "think-1", "chars": 3, "sha256": hashlib.sha256("第三稿".encode()).hexdigest()}


def test_notes_and_scenario_paths_are_kept_per_trainee_lesson_and_key(record_store, kit):
    store = record_store
    kit.add_trainees(store, "2026001", "2026002")
    store.record_events("2026001", "l1", [kit.note(kit.base, "think-1", "甲的想法"),
                                          kit.scenario(kit.base + 1, "case-a", [0, 2, 1])])
    store.record_events("2026001", "l2", [kit.note(kit.base + 2, "think-1", "甲在第二课")])
    store.record_events("2026002", "l1", [kit.note(kit.base + 3, "think-1", "乙的想法")])
    assert [(r.lesson_id, r.key, r.kind, r.value) for r in store.responses("2026001")] == [
        ("l1", "case-a", "scenario", [0, 2, 1]), ("l1", "think-1", "note", "甲的想法"),
        ("l2", "think-1", "note", "甲在第二课")]
    assert [r.value for r in store.responses("2026002")] == ["乙的想法"]
    assert store.responses("2026003") == []
