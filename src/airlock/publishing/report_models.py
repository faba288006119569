"""Tables of the transparency report: snapshots, previewed as drafts and published once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from airlock.core.db import ID, Base, new_id, utcnow


class ReportSnapshot(Base):
    """One build of a period's report. A published snapshot is never changed: a correction is
    a new snapshot of the same period with the next version and a note of what changed."""

    __tablename__ = "report_snapshots"
    __table_args__ = (UniqueConstraint("period", "version", name="uq_report_snapshots_version"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    period: Mapped[str] = mapped_column(String(8), index=True)
    # Given when published: 1 for the first publication of the period, then 2, 3...
    version: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    min_cell: Mapped[int] = mapped_column(Integer)
    # What readers see: tables with withheld figures as null, response times, notes.
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Agency only: every figure with its atoms and true value, for the suppression audit.
    figures: Mapped[list[Any]] = mapped_column(default=list)
    change: Mapped[str] = mapped_column(Text, default="")
    content_sha256: Mapped[str] = mapped_column(String(64), default="")
    created_by: Mapped[str | None] = mapped_column(ID, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by: Mapped[str | None] = mapped_column(ID, ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column()
