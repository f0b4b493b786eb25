"""What a lesson page and a lesson kernel send to the learning record: the events' shape, their limits,
and how a kernel signs what it sends.

Two senders, two kinds of trust:
- the **page** (the trainee's browser, signed in by cookie) sends `heartbeat` and `lesson_end`: only what a
  browser can know, how long the page was visible and in use, and that its end was reached;
- the **kernel** (the lesson's own code, run by the server, never by the trainee: a Voila page can only send
  widget messages) sends `quiz_attempt`, `note` and `scenario`. The kernel judges an answer with the key it
  holds, so "right or wrong" never comes from the browser. It signs each body with HMAC-SHA256 under its
  Jupyter session key, which the server knows and the browser never sees.

Every event carries an id chosen by its sender; the store ignores an id it has seen, so a sender can
retry until it is told the event is kept.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "PAGE_KINDS",
    "KERNEL_KINDS",
    "MAX_BODY_BYTES",
    "MAX_BATCH",
    "MAX_NOTE_CHARS",
    "HEARTBEAT_SECONDS",
    "MAX_BEAT_SECONDS",
    "KERNEL_ID_HEADER",
    "SIGNATURE_HEADER",
    "EVENTS_URL_ENV",
    "PageBatch",
    "KernelBatch",
    "sign",
    "signature_matches",
]

HEARTBEAT_SECONDS = 30  # how often a page reports its active time
MAX_BEAT_SECONDS = 60  # the most one heartbeat can credit (a page flushes early when it is hidden)
MAX_NOTE_CHARS = 20_000
MAX_BATCH = 100
MAX_BODY_BYTES = 512 * 1024

KERNEL_ID_HEADER = "X-Dangxiao-Kernel"
SIGNATURE_HEADER = "X-Dangxiao-Signature"
# Set in the serving process's environment, inherited by every lesson kernel it starts.
EVENTS_URL_ENV = "DANGXIAO_RECORDS_URL"

EventId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
LessonPath = Annotated[str, StringConstraints(min_length=1, max_length=300)]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: EventId
    at: float = Field(description="when it happened, seconds since the epoch (sender's clock)")


class Heartbeat(_Event):
    kind: Literal["heartbeat"]
    active_seconds: float = Field(ge=0, le=3600)


class LessonEnd(_Event):
    kind: Literal["lesson_end"]


PageEvent = Annotated[Union[Heartbeat, LessonEnd], Field(discriminator="kind")]


class PageBatch(BaseModel):
    """`POST /dangxiao/api/events`: events of one lesson page (`lesson` is the notebook it shows)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    lesson: LessonPath
    events: list[PageEvent] = Field(min_length=1, max_length=MAX_BATCH)


class QuizAttemptEvent(_Event):
    kind: Literal["quiz_attempt"]
    question_id: Key
    answer: Any
    correct: bool | None = None


class NoteEvent(_Event):
    kind: Literal["note"]
    key: Key
    text: str = Field(max_length=MAX_NOTE_CHARS)


class ScenarioEvent(_Event):
    kind: Literal["scenario"]
    key: Key
    path: list[int] = Field(max_length=200)


KernelEvent = Annotated[Union[QuizAttemptEvent, NoteEvent, ScenarioEvent], Field(discriminator="kind")]


class KernelBatch(BaseModel):
    """`POST /dangxiao/api/kernel-events`: events of one lesson kernel, signed by it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    sent_at: float
    # The page the kernel runs for, when the kernel knows it (Voila puts it in SCRIPT_NAME for a kernel it
    # starts for a request). `dangxiao serve` ignores it: there the server knows each kernel's lesson.
    page: LessonPath | None = None
    events: list[KernelEvent] = Field(min_length=1, max_length=MAX_BATCH)


PAGE_KINDS = ("heartbeat", "lesson_end")
KERNEL_KINDS = ("quiz_attempt", "note", "scenario")


def sign(key: bytes, body: bytes) -> str:
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def signature_matches(key: bytes, body: bytes, signature: str) -> bool:
    if not key or not re.fullmatch(r"[0-9a-f]{64}", signature or ""):
        return False
    return hmac.compare_digest(sign(key, body), signature)
