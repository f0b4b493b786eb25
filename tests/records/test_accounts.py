"""Accounts, passwords, sign-in sessions and the shared cookie secret, on both backends."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

import dangxiao.records.store as store_module
from dangxiao.records import RecordsError, open_store
from dangxiao.records.models import Account, LoginSession


def _hashes(store) -> dict[str, str]:
    with store.session() as db:
        return {a.id: a.password_hash for a in db.scalars(select(Account))}


def test_passwords_are_kept_as_argon2id_hashes_and_never_in_clear(record_store, kit):
    store = record_store
    passwords = kit.add_trainees(store, "2026001", "2026002")
    passwords["jiaoyuan"] = store.add_staff("jiaoyuan", "教员（模拟）", "instructor", "staff-pass-123")
    store.set_password("2026002", "changed-pass-456")
    passwords["2026002"] = "changed-pass-456"
    hashes = _hashes(store)
    for account_id, password in passwords.items():
        assert hashes[account_id].startswith("$argon2id$")
        assert PasswordHasher().verify(hashes[account_id], password)
    everything = repr(kit.contents(store))
    for password in [*passwords.values(), "pw-2026002-secret"]:
        assert password not in everything


def test_no_clear_password_or_session_token_in_the_sqlite_files(tmp_path, kit):
    url = f"sqlite:///{tmp_path / 'records.sqlite'}"
    store = open_store(url)
    passwords = kit.add_trainees(store, "2026001", "2026002")
    store.set_password("2026001", "new-secret-789")
    old_password = passwords.pop("2026001")
    passwords["2026001"] = "new-secret-789"
    token = store.create_session("2026002")
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("records.sqlite*"))  # the WAL file too
    assert b"$argon2id$" in raw  # the files do hold the accounts…
    for secret in [*passwords.values(), old_password, token]:
        assert secret.encode() not in raw  # …but no password and no session token
    store.engine.dispose()


def test_wrong_password_unknown_account_and_empty_password_are_refused(record_store, kit):
    store = record_store
    kit.add_trainees(store, "2026001")
    assert store.authenticate("2026001", "pw-2026001-secret").id == "2026001"
    assert store.authenticate("2026001", "pw-2026001-secreT") is None
    assert store.authenticate("2026001", "") is None
    assert store.authenticate("2026009", "pw-2026001-secret") is None
    assert store.authenticate("2026001 ", "pw-2026001-secret") is None


def test_staff_carry_their_role_and_trainee_is_not_a_staff_role(record_store, kit):
    store = record_store
    kit.add_trainees(store, "2026001")
    generated = store.add_staff("admin1", "管理员（模拟）", "admin")
    assert store.authenticate("admin1", generated).is_staff
    store.add_staff("jiaoyuan", "教员（模拟）", "instructor", "staff-pass-123")
    assert store.account("jiaoyuan").role == "instructor" and store.account("jiaoyuan").is_staff
    assert not store.account("2026001").is_staff
    assert [a.id for a in store.accounts(role="trainee")] == ["2026001"]
    with pytest.raises(RecordsError, match="role must be instructor or admin"):
        store.add_staff("x1", "某人", "trainee")
    # adding an existing staff member again sets the new password and signs their browsers out
    token = store.create_session("jiaoyuan")
    store.add_staff("jiaoyuan", "教员（模拟）", "admin", "staff-pass-456")
    assert store.session_account(token) is None
    assert store.authenticate("jiaoyuan", "staff-pass-123") is None
    assert store.authenticate("jiaoyuan", "staff-pass-456").role == "admin"



def test_a_trainee_becomes_staff_only_when_asked_and_a_roster_never_changes_staff(record_store, kit):
    store = record_store
    passwords = kit.add_trainees(store, "2026001")
    with pytest.raises(RecordsError, match="2026001.*--promote"):
        store.add_staff("2026001", "教员（模拟）", "instructor")
    assert store.account("2026001").role == "trainee"
    assert store.authenticate("2026001", passwords["2026001"]) is not None  # password untouched
    store.add_staff("2026001", "学员甲（模拟）", "instructor", "staff-pass-789", promote=True)
    assert store.account("2026001").is_staff
    # a staff id in a roster: refused, and nobody in that roster is imported
    from dangxiao.records.roster import RosterRow

    rows = [RosterRow(id="2026050", name="新学员（模拟）", class_name="一班"),
            RosterRow(id="2026001", name="学员甲（模拟）", class_name="一班")]
    with pytest.raises(RecordsError, match="2026001.*教员"):
        store.import_roster(rows)
    assert store.account("2026050") is None and store.account("2026001").role == "instructor"


def test_a_session_lasts_until_it_ends_or_expires(record_store, kit, monkeypatch):
    store = record_store
    kit.add_trainees(store, "2026001")
    token = store.create_session("2026001")
    assert store.session_account(token).id == "2026001"
    assert store.session_account(token + "x") is None
    assert store.session_account("") is None
    expired = store.create_session("2026001", days=-1)
    assert store.session_account(expired) is None

    now = store_module.utcnow()
    monkeypatch.setattr(store_module, "utcnow", lambda: now + timedelta(days=store_module.SESSION_DAYS, seconds=1))
    assert store.session_account(token) is None  # a week later: sign in again
    monkeypatch.setattr(store_module, "utcnow", lambda: now + timedelta(days=store_module.SESSION_DAYS - 1))
    assert store.session_account(token).id == "2026001"

    store.end_session(token)
    assert store.session_account(token) is None
    store.end_session(token)  # signing out twice is harmless


def test_only_the_hash_of_a_session_token_is_stored(record_store, kit):
    store = record_store
    kit.add_trainees(store, "2026001")
    token = store.create_session("2026001")
    with store.session() as db:
        rows = list(db.scalars(select(LoginSession)))
    assert len(rows) == 1 and rows[0].token_hash != token and len(rows[0].token_hash) == 64
    assert token not in repr(kit.contents(store))


def test_changing_a_password_ends_the_other_sessions_but_keeps_the_given_one(record_store, kit):
    store = record_store
    kit.add_trainees(store, "2026001", "2026002")
    here, phone, laptop = (store.create_session("2026001") for _ in range(3))
    someone_else = store.create_session("2026002")
    store.set_password("2026001", "new-pass-2026", keep_session=here)
    assert store.session_account(here).id == "2026001"
    assert store.session_account(phone) is None and store.session_account(laptop) is None
    assert store.session_account(someone_else).id == "2026002"
    assert store.authenticate("2026001", "new-pass-2026") is not None
    assert store.authenticate("2026001", "pw-2026001-secret") is None
    store.set_password("2026001", "newer-pass-2026")  # a reset by the instructor: every session ends
    assert store.session_account(here) is None
    with pytest.raises(RecordsError, match="no such account"):
        store.set_password("2026404", "whatever-123")


def test_two_stores_on_one_database_share_the_cookie_secret(database_url):
    first, second = open_store(database_url), open_store(database_url)
    secret = first.cookie_secret()
    assert isinstance(secret, bytes) and len(secret) == 32
    assert second.cookie_secret() == secret and first.cookie_secret() == secret
    first.engine.dispose()
    second.engine.dispose()


def test_another_database_has_another_cookie_secret(tmp_path):
    one = open_store(f"sqlite:///{tmp_path / 'a.sqlite'}")
    two = open_store(f"sqlite:///{tmp_path / 'b.sqlite'}")
    assert one.cookie_secret() != two.cookie_secret()
    one.engine.dispose()
    two.engine.dispose()


def test_two_servers_starting_at_once_get_one_cookie_secret(database_url, kit):
    """Two `dangxiao serve` processes started together on one (empty) database."""
    stores = [open_store(database_url), open_store(database_url)]
    results = kit.race(stores, lambda sql: "FROM settings" in sql, [s.cookie_secret for s in stores])
    try:
        assert all(isinstance(r, bytes) for r in results), results
        assert results[0] == results[1]
    finally:
        for store in stores:
            store.engine.dispose()
