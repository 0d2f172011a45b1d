"""Alembic environment of the desk database (run by ``service.schema_version``, not by hand).

The caller passes an open connection in ``config.attributes["connection"]`` (the service's
own engine, with its SQLite pragmas); a URL in ``sqlalchemy.url`` works too, for the
``alembic`` command line. ``render_as_batch`` lets later revisions alter SQLite tables
(copy-and-move), and the same revisions run unchanged on PostgreSQL.
"""

from alembic import context
from sqlalchemy import create_engine

from service.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
elif config.attributes.get("connection") is not None:
    _run(config.attributes["connection"])
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
