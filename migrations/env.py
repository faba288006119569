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
        context.configure(
            connection=conn, target_metadata=metadata, render_as_batch=True, compare_type=True
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
