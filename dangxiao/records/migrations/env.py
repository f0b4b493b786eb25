"""alembic environment: run with the connection `dangxiao.records.store.upgrade` hands over."""
from alembic import context

from dangxiao.records.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
