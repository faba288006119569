"""Tables of the coverage stage: known models from public registries, their links to the
models firms registered, and each registry import."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from airlock.core.db import ID, Base, new_id, utcnow


class KnownModel(Base):
    """A model a public registry says exists; refreshed by each import of that registry."""

    __tablename__ = "known_models"
    __table_args__ = (UniqueConstraint("source", "source_key", name="uq_known_models_source_key"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    source: Mapped[str] = mapped_column(String(80))
    source_key: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(300))
    organisation: Mapped[str] = mapped_column(String(300), default="")
    country: Mapped[str] = mapped_column(String(200), default="")
    published_on: Mapped[date | None] = mapped_column(Date)
    parameters: Mapped[float | None] = mapped_column(Float)
    training_flop: Mapped[float | None] = mapped_column(Float)
    finetune_flop: Mapped[float | None] = mapped_column(Float)
    dataset_size: Mapped[float | None] = mapped_column(Float)
    training_flop_estimated: Mapped[bool] = mapped_column(default=False)
    confidence: Mapped[str] = mapped_column(String(16))
    accessibility: Mapped[str] = mapped_column(String(120), default="")
    domain: Mapped[str] = mapped_column(String(200), default="")
    frontier: Mapped[bool] = mapped_column(default=False)
    link: Mapped[str] = mapped_column(String(500), default="")
    source_row: Mapped[int] = mapped_column(Integer)
    first_seen_import_id: Mapped[str] = mapped_column(ID, ForeignKey("registry_imports.id"))
    last_seen_import_id: Mapped[str] = mapped_column(ID, ForeignKey("registry_imports.id"))


class RegistryImport(Base):
    """One import of a registry file: what it was, who brought it, what it held."""

    __tablename__ = "registry_imports"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    source: Mapped[str] = mapped_column(String(80))
    file_name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    credit: Mapped[str] = mapped_column(Text, default="")
    encoding: Mapped[str] = mapped_column(String(16), default="utf-8")
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    records: Mapped[int] = mapped_column(Integer)
    problems: Mapped[int] = mapped_column(Integer)
    added: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[str | None] = mapped_column(ID, ForeignKey("users.id"))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class KnownModelLink(Base):
    """A coordinator's statement that a known model is a model a firm registered.

    Links are appended; removing one stamps `unlinked_at` so the history stays.
    """

    __tablename__ = "known_model_links"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    known_model_id: Mapped[str] = mapped_column(ID, ForeignKey("known_models.id"), index=True)
    model_id: Mapped[str] = mapped_column(ID, ForeignKey("ai_models.id"), index=True)
    linked_by: Mapped[str | None] = mapped_column(ID, ForeignKey("users.id"))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    unlinked_by: Mapped[str | None] = mapped_column(ID, ForeignKey("users.id"))
    unlinked_at: Mapped[datetime | None] = mapped_column()
