"""What the record pages show and how an incoming batch of events is checked, apart from any web server:
`dangxiao serve` (records_handlers) and the JupyterHub records service (hub_service) call the same code,
so both sites check, store and show alike.

Functions here block (they read the store): web handlers run them in a thread.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError

from dangxiao.catalog import Catalog, Lesson
from dangxiao.credit_rule import CreditRule
from dangxiao.errors import DangxiaoError
from dangxiao.events import MAX_BODY_BYTES, KernelBatch, PageBatch
from dangxiao.publishing.gallery import lesson_url
from dangxiao.records.store import RecordStore
from dangxiao.records.study import rule_text, study_table, wrong_answers

__all__ = [
    "Refused",
    "parse_batch",
    "lesson_of_page",
    "accept_page_batch",
    "accept_kernel_batch",
    "my_study",
    "module_progress",
    "class_progress",
    "notes_of",
    "notes_docx",
]


@dataclass
class Refused(Exception):
    """An event batch refused for good: the sender gets `status` and `reason`, the store nothing."""

    status: int
    reason: str


def parse_batch(model: type[BaseModel], body: bytes):
    if len(body) > MAX_BODY_BYTES:
        raise Refused(413, f"body of {len(body)} bytes exceeds {MAX_BODY_BYTES}")
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise Refused(400, f"malformed events: {where}: {first['msg']}") from None


def lesson_of_page(catalog: Catalog, page: str) -> Lesson:
    """The catalog lesson a page address shows (`…/voila/render/<notebook>`, with or without a lessons
    folder in front of the notebook, as on the hub), or Refused."""
    notebook = page.split("/voila/render/", 1)[-1].lstrip("/")
    for lesson in catalog.lessons:
        if notebook == lesson.notebook or notebook.endswith("/" + lesson.notebook):
            return lesson
    raise Refused(404, f"unknown lesson {page[:80]!r}")


def accept_page_batch(store: RecordStore, catalog: Catalog, account_id: str, body: bytes) -> dict:
    batch = parse_batch(PageBatch, body)
    lesson = lesson_of_page(catalog, batch.lesson)
    kept = store.record_events(account_id, lesson.id, list(batch.events))
    return {"kept": kept, "received": len(batch.events)}


def _quoted_in(text: str, name: str) -> bool:
    return re.search(r"[\"']" + re.escape(name) + r"\\?[\"']", text) is not None


def accept_kernel_batch(store: RecordStore, catalog: Catalog, account_id: str, lesson_id: str,
                        batch: KernelBatch, rejudge: bool = False) -> dict:
    """Store a kernel's events for `lesson_id`. Every question id and 思考题 key a lesson uses is written,
    quoted, in its notebook: anything else is refused. With `rejudge` (the hub, where trainees can run code
    in their own kernels) right or wrong is decided here, whatever the kernel said: by the bank's key, or
    for a question written in the lesson (`Quiz.inline`) by the key in the lesson's own notebook."""
    path = catalog.root / catalog.lesson(lesson_id).notebook
    lesson_text = path.read_text(encoding="utf-8") if path.is_file() else ""
    events = []
    for item in batch.events:
        named = item.question_id if item.kind == "quiz_attempt" else item.key
        if item.kind in ("quiz_attempt", "note") and not _quoted_in(lesson_text, named):
            raise Refused(404, f"{item.kind} {named!r} is not in lesson {lesson_id}")
        if rejudge and item.kind == "quiz_attempt":
            item = item.model_copy(update={"correct": _judged(item.question_id, item.answer, path)})
        events.append(item)
    kept = store.record_events(account_id, lesson_id, events)
    return {"kept": kept, "received": len(events)}


def _judged(question_id: str, answer, lesson_path) -> bool | None:
    from dangxiao.questions import get_question, notebook_inline_questions

    try:
        question = get_question(question_id)
    except DangxiaoError:
        question = notebook_inline_questions(lesson_path).get(question_id)
        if question is None:
            return None  # no key this side can read (e.g. built from variables): not judged
    try:
        return bool(question.is_correct(answer))
    except (DangxiaoError, TypeError, ValueError):
        return False


# -- pages -------------------------------------------------------------------------------------------

def _modules(table) -> list[dict]:
    return [{"title": module, "lessons": rows.to_dict("records"), "done": int(rows["已完成"].sum()),
             "count": len(rows), "minutes": round(float(rows["学习时长（分钟）"].sum()), 1)}
            for module, rows in table.groupby("模块", sort=False)]


def _answer_text(answer) -> str:
    if isinstance(answer, bool):
        return "对" if answer else "错"
    if isinstance(answer, list):
        return "、".join(map(str, answer))
    if isinstance(answer, dict):
        return "；".join(f"{k} → {v}" for k, v in answer.items())
    return "" if answer is None else str(answer)


def _wrong(store: RecordStore, catalog: Catalog, account_id: str, lessons_url: str) -> list[dict]:
    from dangxiao.questions import get_question

    titles = {lesson.id: (lesson.title, lesson_url(lessons_url, lesson.notebook)) for lesson in catalog.lessons}
    view = []
    for entry in wrong_answers(store, account_id):
        try:
            stem = get_question(entry["question_id"]).stem
        except DangxiaoError:  # a question written into the lesson, not from the bank
            stem = ""
        title, url = titles.get(entry["lesson_id"], (entry["lesson_id"], None))
        view.append({**entry, "stem": stem, "lesson_title": title, "lesson_url": url,
                     "answer_text": _answer_text(entry["last_wrong_answer"])})
    return view


def notes_of(store: RecordStore, catalog: Catalog, account_id: str) -> list[dict]:
    titles = {lesson.id: lesson.title for lesson in catalog.lessons}
    return [{"lesson_id": r.lesson_id, "lesson_title": titles.get(r.lesson_id, r.lesson_id), "key": r.key,
             "text": r.value, "updated_at": r.updated_at}
            for r in store.responses(account_id) if r.kind == "note" and isinstance(r.value, str) and r.value.strip()]


def my_study(store: RecordStore, catalog: Catalog, rule: CreditRule, account_id: str, lessons_url: str) -> dict:
    """The values of me.html. `lessons_url` is where lesson links start (`lesson_url` adds voila/render/…)."""
    table = study_table(store, catalog, rule, account_id)
    return {
        "modules": _modules(table), "hours": float(table["学时"].sum()),
        "minutes": round(float(table["学习时长（分钟）"].sum()), 1), "rule": rule_text(rule),
        "wrong": _wrong(store, catalog, account_id, lessons_url), "notes": notes_of(store, catalog, account_id),
        "lesson_urls": {lesson.id: lesson_url(lessons_url, lesson.notebook) for lesson in catalog.lessons},
    }


def module_progress(store: RecordStore, catalog: Catalog, rule: CreditRule, account_id: str, module_id: str) -> dict | None:
    """How far the trainee is in one module: lessons completed by the crediting rule, of how many."""
    table = study_table(store, catalog, rule, account_id)
    lessons = {lesson.id for module in catalog.modules if module.id == module_id for lesson in module.lessons}
    if not lessons:
        return None
    rows = table[table["lesson_id"].isin(lessons)]
    return {"module": module_id, "done": int(rows["已完成"].sum()), "count": len(lessons),
            "minutes": round(float(rows["学习时长（分钟）"].sum()), 1)}


def class_progress(store: RecordStore, catalog: Catalog, rule: CreditRule, class_name: str | None) -> dict:
    """The values of class.html: one class (or everyone), who has not started, per lesson, per trainee."""
    table = study_table(store, catalog, rule, None, class_name)
    trainees = []
    for (account_id, name, group), rows in table.groupby(["学号", "姓名", "班级"], sort=True):
        by_lesson = rows.set_index("lesson_id")
        trainees.append({
            "id": account_id, "name": name, "class_name": group, "started": bool(rows["已打开"].any()),
            "done": int(rows["已完成"].sum()), "minutes": round(float(rows["学习时长（分钟）"].sum()), 1),
            "hours": float(rows["学时"].sum()),
            "cells": [by_lesson.loc[lesson.id].to_dict() for lesson in catalog.lessons],
        })
    per_lesson = []
    for lesson in catalog.lessons:
        rows = table[table["lesson_id"] == lesson.id]
        per_lesson.append({"title": lesson.title, "opened": int(rows["已打开"].sum()), "done": int(rows["已完成"].sum()),
                           "minutes": round(float(rows["学习时长（分钟）"].mean()), 1) if len(rows) else 0.0})
    return {
        "trainees": trainees, "lessons": [{"id": lesson.id, "title": lesson.title} for lesson in catalog.lessons],
        "per_lesson": per_lesson, "classes": sorted({a.class_name for a in store.accounts("trainee")}),
        "chosen": class_name, "not_started": [t for t in trainees if not t["started"]], "rule": rule_text(rule),
    }


def notes_docx(title: str, name: str, account_id: str, notes: list[dict]) -> bytes:
    """A trainee's 思考题 notes as a Word file."""
    from docx import Document

    document = Document()
    document.add_heading(f"{title} · 思考题笔记", level=1)
    document.add_paragraph(f"{name}（{account_id}）")
    for note in notes:
        document.add_heading(note["lesson_title"], level=2)
        for paragraph in note["text"].splitlines() or [""]:
            document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOCX_DISPOSITION = "attachment; filename*=UTF-8''%E6%80%9D%E8%80%83%E9%A2%98%E7%AC%94%E8%AE%B0.docx"  # 思考题笔记.docx


def exam_overview(store: RecordStore, exam_catalog, class_name: str | None) -> list[dict]:
    """The class page's tests: per blueprint, how many trainees (of one class, or all) have handed in,
    are still answering, passed; their mean score; whether results wait for the instructor's release."""
    from dangxiao.records import exams

    if exam_catalog is None:
        return []
    trainees = {a.id for a in store.accounts(role="trainee") if class_name is None or a.class_name == class_name}
    overview = []
    for blueprint in sorted(exam_catalog.blueprints.values(), key=lambda b: b.id):
        attempts = [a for a in exams.attempts_of(store, None, blueprint.id) if a.account_id in trainees]
        latest = {a.account_id: a for a in attempts if not a.open}  # attempts come in order: the last counts
        results = [a.result for a in latest.values() if a.result]
        percents = [r["percent"] for r in results if r.get("percent") is not None]
        on_release = blueprint.counted and blueprint.show_results == "on_release"
        overview.append({
            "id": blueprint.id, "title": blueprint.title, "practice": not blueprint.counted,
            "finished": len(latest), "answering": len({a.account_id for a in attempts if a.open} - set(latest)),
            "passed": sum(1 for r in results if r.get("passed")),
            "mean_percent": round(sum(percents) / len(percents), 1) if percents else None,
            "on_release": on_release, "released": on_release and exams.results_released(store, blueprint),
        })
    return overview
