"""The pieces of the hub's learning record that need no hub: accounts made from hub users, and the two
shapes of a kernel batch the records service takes. The service and the user-server extension end to
end, on a real JupyterHub: tests/deploy/test_hub_smoke.py (`pytest -m hub tests/deploy`)."""
from __future__ import annotations

import json
import os
import time

import pytest

from dangxiao.publishing import record_views as views
from dangxiao.publishing.hub_service import _kernel_batch
from dangxiao.records import open_store


@pytest.fixture
def store(tmp_path):
    return open_store(f"sqlite:///{tmp_path / 'records.sqlite'}")


def test_a_hub_user_becomes_an_account_no_password_opens(store):
    made = store.ensure_account("dxa01", "dxa01", "trainee", "一期")
    assert (made.id, made.role, made.class_name) == ("dxa01", "trainee", "一期")
    for guess in ("!", "", "dxa01"):
        assert store.authenticate("dxa01", guess) is None
    again = store.ensure_account("dxa01", "dxa01", "instructor", "")  # the hub's word wins on change
    assert (again.role, again.class_name) == ("instructor", "")
    assert [a.id for a in store.accounts()] == ["dxa01"]
    with pytest.raises(Exception, match="role"):
        store.ensure_account("dxa02", "dxa02", "root")


def test_kernel_batch_with_its_page_or_wrapped():
    batch = {"sent_at": time.time(), "events": [
        {"id": "e" * 16, "at": time.time(), "kind": "note", "key": "m0-start-r1", "text": "思考"}]}
    page = "/user/dxa01/voila/render/lessons/m0_start.ipynb"
    plain = _kernel_batch(json.dumps({**batch, "page": page}).encode())
    wrapped = _kernel_batch(json.dumps({"page": page, "batch": batch}).encode())
    assert plain == wrapped and plain.page == page
    assert _kernel_batch(json.dumps(batch).encode()).page is None  # refused by the service: no lesson
    with pytest.raises(views.Refused) as refused:
        _kernel_batch(b'{"page": "x", "batch": {"events": []}}')
    assert refused.value.status == 400


def test_the_service_judges_every_answer_itself(store):
    """On the hub a trainee runs code in her own kernel, so the kernel's word on right or wrong is not
    taken: the service judges bank questions by the bank's key and the lesson's own questions
    (`Quiz.inline` in m0_start) by the key in the lesson notebook, read without running it."""
    from dangxiao.catalog import load_catalog
    from dangxiao.events import KernelBatch
    from dangxiao.paths import courses_dir
    from dangxiao.questions import load_bank

    catalog = load_catalog(courses_dir())
    store.ensure_account("dxa01", "dxa01", "trainee")
    bank_id = "m1-q01"
    bank_question = load_bank()[bank_id]
    wrong_bank = next(o for o in bank_question.options if o != bank_question.answer)
    lesson = next(le for le in catalog.lessons if bank_id in (catalog.root / le.notebook).read_text(encoding="utf-8"))
    now = time.time()

    def attempt(n, lesson_id, question_id, answer, claimed):
        batch = KernelBatch.model_validate({"sent_at": now, "events": [
            {"id": f"judge-{n:02d}-" + "0" * 8, "at": now + n, "kind": "quiz_attempt", "question_id": question_id,
             "answer": answer, "correct": claimed}]})
        views.accept_kernel_batch(store, catalog, "dxa01", lesson_id, batch, rejudge=True)

    attempt(1, "m0-start", "m0-q1", "Ctrl + S", True)          # wrong, claimed right
    attempt(2, "m0-start", "m0-q2", False, False)              # right, claimed wrong
    attempt(3, lesson.id, bank_id, wrong_bank, True)           # a bank question, wrong, claimed right
    judged = {a.question_id: a.correct for a in store.attempts("dxa01")}
    assert judged == {"m0-q1": False, "m0-q2": True, bank_id: False}


def test_inline_keys_are_read_from_literals_only(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from dangxiao.questions import notebook_inline_questions

    notebook = new_notebook(cells=[
        new_code_cell('Quiz.inline(id="t-q1", type="truefalse", stem="判断。", answer=True)'),
        new_code_cell('KEY = "甲"\nQuiz.inline(id="t-q2", type="single", stem="选。", options=["甲", "乙"], answer=KEY)'),
        new_code_cell('%matplotlib inline\nQuiz.inline(id="t-q3", type="truefalse", stem="判断。", answer=False)'),
        new_code_cell('Quiz.inline(id="t-q4", type="single", stem="选。", options=["甲", "乙"], answer=None)'),
        new_code_cell('Quiz.inline(id="t-q5", type="single", stem="选。", options=["甲", "乙"], answer="丙")'),
        new_code_cell('Quiz.inline(id="t-q6", type="single", stem="选。", options={[1]}, answer="甲")'),
        new_code_cell('x = 1\x00'),
    ])
    path = tmp_path / "lesson.ipynb"
    nbformat.write(notebook, path)
    found = notebook_inline_questions(path)
    assert list(found) == ["t-q1"] and found["t-q1"].is_correct(True) and not found["t-q1"].is_correct(False)
    assert notebook_inline_questions(tmp_path / "missing.ipynb") == {}
    before = path.stat().st_mtime_ns
    path.write_text("{not json", encoding="utf-8")
    os.utime(path, ns=(before + 10**9, before + 10**9))  # a later mtime, even on a coarse clock
    assert notebook_inline_questions(path) == {}  # changed on disk: read again, and unreadable is nothing
