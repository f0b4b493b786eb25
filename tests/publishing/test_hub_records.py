"""The pieces of the hub's learning record that need no hub: accounts made from hub users, and the two
shapes of a kernel batch the records service takes. The service and the user-server extension end to
end, on a real JupyterHub: tests/deploy/test_hub_smoke.py (`pytest -m hub tests/deploy`)."""
from __future__ import annotations

import json
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
