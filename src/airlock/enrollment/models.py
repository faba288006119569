"""A firm's participation in the program: state, agreement and scopes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from airlock.core.db import ID, Base, new_id, utcnow


class Participation(Base):
    """One row per firm; its history is in the transitions table."""

    __tablename__ = "participations"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"), unique=True)
    state: Mapped[str] = mapped_column(String(16))
    agreement_version: Mapped[str | None] = mapped_column(String(32))
    scopes: Mapped[list[Any]] = mapped_column(default=list)
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)
    enrolled_at: Mapped[datetime | None] = mapped_column()
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Whether the public site may name the firm as a participant; off until the firm says so.
    public_name_consent: Mapped[bool] = mapped_column(default=False)
