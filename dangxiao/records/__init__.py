"""The learning record: who studied what, for how long, with what answers; the accounts that sign in.

One store (`open_store`) that publishing writes and reports read. SQLAlchemy models with alembic
migrations; SQLite in `data/` by default, any SQLAlchemy URL (PostgreSQL for a centre) through `--db`
or `$DANGXIAO_DB`.
"""
from dangxiao.records.store import AccountView, RecordsError, RecordStore, default_db_url, open_store

__all__ = ["AccountView", "RecordStore", "RecordsError", "default_db_url", "open_store"]
