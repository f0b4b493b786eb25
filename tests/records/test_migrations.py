"""The schema: alembic brings an empty database to the newest revision, the models are exactly what the
migrations make, and running the upgrade again keeps every record."""
from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, MetaData, String, create_engine, inspect

import dangxiao.records.store as store_module
from dangxiao.records import open_store
from dangxiao.records.models import Base

MIGRATIONS = Path(store_module.__file__).with_name("migrations")


def _head() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def test_empty_database_is_migrated_to_head(database_url):
    engine = create_engine(database_url)
    assert inspect(engine).get_table_names() == []
    store = open_store(database_url)
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == _head()
    assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}
    store.engine.dispose()
    engine.dispose()


def test_models_match_the_migrations(record_store):
    """What autogenerate would write for the models against the migrated database: nothing."""
    with record_store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                "compare_server_default": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []

    # …and the comparison does see a drift: a column the migrations never made.
    drifted = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["accounts"].append_column(Column("phone", String(20), nullable=True))
    with record_store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), drifted)
    assert [(d[0], d[2], d[3].name) for d in diff] == [("add_column", "accounts", "phone")]


def test_upgrading_again_keeps_every_record(database_url, kit):
    store = open_store(database_url)
    kit.add_trainees(store, "2026001", "2026002")
    store.record_events("2026001", "l1", [kit.beat(kit.base, 30), kit.note(kit.base + 1, "think-1", "我的想法")])
    token = store.create_session("2026002")
    before = kit.contents(store)
    store.engine.dispose()

    again = open_store(database_url)  # a restarted server upgrades on start: nothing to do, nothing lost
    assert kit.contents(again) == before
    assert again.session_account(token).id == "2026002"
    assert again.authenticate("2026001", "pw-2026001-secret") is not None
    again.engine.dispose()


def test_open_store_without_migrating_leaves_an_empty_database_empty(database_url):
    store = open_store(database_url, migrate=False)
    assert inspect(store.engine).get_table_names() == []
    store.engine.dispose()
