"""The lesson kernel's side of the learning record: widgets report what a trainee does, never store it.

    recorder = lesson_recorder()      # None outside `dangxiao serve` with a roster (JupyterLab, nbgrader)
    recorder.quiz_attempt("m1-q01", answer, correct=True)
    recorder.note("m1-l1-r1", text)   # debounced: the text as it stands a moment after typing stops
    recorder.when_restored("m1-l1-r1", callback)   # called with the trainee's saved value, if any

The serving process puts its address in `$DANGXIAO_RECORDS_URL` (inherited by every kernel it starts).
A pool kernel is started before anyone asks for its lesson, so it does not know its trainee yet: a
background thread asks the server "whose am I?" (held open until the page is handed over), then gets
the trainee's saved notes and scenario paths for this lesson and hands them to the widgets waiting for
them. Requests are signed with the kernel's Jupyter session key (HMAC-SHA256), which the server knows
and the trainee's browser never sees. Events wait in memory and are retried until the server keeps them.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any, Callable

from dangxiao.events import EVENTS_URL_ENV, KERNEL_ID_HEADER, MAX_BATCH, SIGNATURE_HEADER, sign

__all__ = ["LessonRecorder", "lesson_recorder"]

log = logging.getLogger(__name__)
NOTE_DEBOUNCE = 1.0  # seconds of quiet after typing before a note is sent
RETRY_SECONDS = (1, 2, 5, 10, 30)


class LessonRecorder:
    def __init__(self, url: str, kernel_id: str, key: bytes):
        self.url, self.kernel_id, self.key = url.rstrip("/") + "/", kernel_id, key
        self._outbox: "queue.Queue[dict]" = queue.Queue()
        self._notes: dict[str, tuple[float, dict]] = {}
        self._notes_lock = threading.Lock()
        self._restored: dict[str, Any] | None = None
        self._restore_waiters: dict[str, list[Callable[[Any], None]]] = {}
        self._restore_lock = threading.Lock()
        threading.Thread(target=self._identity_loop, name="dangxiao-identity", daemon=True).start()
        threading.Thread(target=self._send_loop, name="dangxiao-events", daemon=True).start()

    # -- what widgets call ---------------------------------------------------------------------------
    def quiz_attempt(self, question_id: str, answer: Any, correct: bool | None) -> None:
        self._outbox.put(self._event("quiz_attempt", question_id=question_id, answer=answer, correct=correct))

    def note(self, key: str, text: str) -> None:
        with self._notes_lock:
            self._notes[key] = (time.monotonic() + NOTE_DEBOUNCE, self._event("note", key=key, text=text))

    def scenario(self, key: str, path: list[int]) -> None:
        self._outbox.put(self._event("scenario", key=key, path=list(path)))

    def when_restored(self, key: str, callback: Callable[[Any], None]) -> None:
        """Call `callback(value)` with the trainee's saved value for `key`, once it is known (at once
        when it already is); nothing is called when the trainee saved nothing under `key`."""
        with self._restore_lock:
            if self._restored is None:
                self._restore_waiters.setdefault(key, []).append(callback)
                return
            value = self._restored.get(key)
        if value is not None:
            callback(value["value"])

    # -- plumbing ------------------------------------------------------------------------------------
    @staticmethod
    def _event(kind: str, **fields) -> dict:
        return {"id": uuid.uuid4().hex, "at": time.time(), "kind": kind, **fields}

    def _request(self, path: str, body: bytes | None, signed: bytes, timeout: float):
        request = urllib.request.Request(self.url + path, data=body, method="POST" if body is not None else "GET")
        request.add_header(KERNEL_ID_HEADER, self.kernel_id)
        request.add_header(SIGNATURE_HEADER, sign(self.key, signed))
        if body is not None:
            request.add_header("Content-Type", "application/json")
        return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 -- our own server, http only

    @property
    def page(self) -> str | None:
        """The lesson page this kernel runs for: Voila puts it in SCRIPT_NAME for a kernel it starts for a
        request. The hub's user servers need it (`dangxiao serve` knows each kernel's lesson itself)."""
        return os.environ.get("SCRIPT_NAME") or None

    def _identity_loop(self) -> None:
        attempt = 0
        while True:
            stamp = f"{time.time():.3f}"
            query = urllib.parse.urlencode({"t": stamp, **({"page": self.page} if self.page else {})})
            try:
                with self._request(f"kernel-identity?{query}", None, f"{self.kernel_id}:{stamp}".encode(),
                                   timeout=90) as response:
                    if response.status == 204:
                        continue  # not handed to a trainee yet: ask again
                    answer = json.loads(response.read())
            except urllib.error.HTTPError as error:
                if error.code in (403, 404):
                    log.warning("dangxiao: the server does not know this kernel (%s): nothing restored", error.code)
                    answer = {"responses": {}}
                else:
                    time.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
                    attempt += 1
                    continue
            except (OSError, ValueError):
                time.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
                attempt += 1
                continue
            self._restore(answer.get("responses", {}))
            return

    def _restore(self, responses: dict) -> None:
        with self._restore_lock:
            self._restored = responses
            waiters, self._restore_waiters = self._restore_waiters, {}
        for key, callbacks in waiters.items():
            if key in responses:
                for callback in callbacks:
                    try:
                        callback(responses[key]["value"])
                    except Exception:  # noqa: BLE001 -- one widget's failure must not stop the others
                        log.exception("dangxiao: restoring %s failed", key)

    def _due_notes(self, flush: bool = False) -> list[dict]:
        now = time.monotonic()
        with self._notes_lock:
            due = [key for key, (when, _) in self._notes.items() if flush or when <= now]
            return [self._notes.pop(key)[1] for key in due]

    def _send_loop(self) -> None:
        pending: list[dict] = []
        attempt = 0
        while True:
            try:
                pending.append(self._outbox.get(timeout=0.25))
            except queue.Empty:
                pass
            pending.extend(self._due_notes())
            if not pending:
                continue
            batch = pending[:MAX_BATCH]
            sent = {"sent_at": time.time(), "events": batch, **({"page": self.page} if self.page else {})}
            body = json.dumps(sent, ensure_ascii=False).encode()
            try:
                with self._request("kernel-events", body, body, timeout=15):
                    pass
            except urllib.error.HTTPError as error:
                if error.code in (400, 404, 413):  # refused for good: logged by the server, dropped here
                    log.warning("dangxiao: events refused (%s): %s", error.code, error.read()[:200])
                    del pending[:len(batch)]
                    continue
                time.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])  # 409: not handed over yet
                attempt += 1
                continue
            except OSError:
                time.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
                attempt += 1
                continue
            attempt = 0
            del pending[:len(batch)]


_recorder: LessonRecorder | None = None
_recorder_lock = threading.Lock()


def _kernel_identity() -> tuple[str, bytes] | None:
    try:
        from ipykernel.connect import get_connection_file
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    if kernel is None:
        return None
    try:
        match = re.search(r"kernel-([0-9a-f-]{36})\.json$", get_connection_file())
    except RuntimeError:
        return None
    return (match.group(1), kernel.session.key) if match else None


def lesson_recorder() -> LessonRecorder | None:
    """The kernel's recorder, or None when nothing is recorded here."""
    global _recorder
    url = os.environ.get(EVENTS_URL_ENV)
    if not url:
        return None
    with _recorder_lock:
        if _recorder is None:
            identity = _kernel_identity()
            if identity is None:
                return None
            _recorder = LessonRecorder(url, *identity)
        return _recorder
