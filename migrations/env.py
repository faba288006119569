"""Alembic environment: the URL comes from the caller or from Airlock's settings."""

from __future__ import annotations

from alembic import context

from airlock import composition
from airlock.core.db import make_engine
from airlock.settings import get_settings

config = context.config
metadata = composition.load()


def _url() -> str:
    return config.attributes.get("url") or get_settings().resolved_database_url()


def run_offline() -> None:
    context.configure(
        url=_url(), target_metadata=metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations rebuild a table by copy, drop and rename; with foreign keys on,
            # dropping a table other rows point at fails. Off for the migration (it only takes
            # effect outside a transaction), then every reference is checked once at the end.
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        context.configure(
            connection=conn, target_metadata=metadata, render_as_batch=True, compare_type=True
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:  # still inside the transaction: a broken reference rolls it all back
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left broken foreign keys: {broken[:5]}")
        if sqlite:
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
