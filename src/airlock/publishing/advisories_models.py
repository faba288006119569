"""Tables of advisories: the advisory with its stable tracking id, and appended revisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from airlock.core.db import ID, Base, new_id, utcnow


class Advisory(Base):
    """What the agency says publicly about a case; its state mirrors the transitions table."""

    __tablename__ = "advisories"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ID, ForeignKey("cases.id"), index=True)
    # Stable for the advisory's whole life: CSAF tracking id and AVID report id.
    tracking_id: Mapped[str] = mapped_column(String(60), unique=True)
    state: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(ID, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column()


class AdvisoryRevision(Base):
    """One revision of the text; appended, never edited."""

    __tablename__ = "advisory_revisions"
    __table_args__ = (UniqueConstraint("advisory_id", "number", name="uq_advisory_revisions"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    advisory_id: Mapped[str] = mapped_column(ID, ForeignKey("advisories.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text)
    change: Mapped[str] = mapped_column(Text, default="")
    # finding id -> {"title", "severity", "cwe", "description", "remediation", "fixed"}
    vulnerabilities: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str] = mapped_column(ID, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
