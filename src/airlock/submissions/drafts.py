"""The dossier editor's working copy: what a firm typed, kept as typed (invalid or incomplete).

The submission's dossier holds only what passed the schema; the working copy holds the rest
until it does. Confidential values are sealed as in the dossier itself. A working copy older
than the submission's last change (an API or JSON edit, a state move) is stale and ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from airlock.core.access import Actor, authorize
from airlock.core.db import ID, Base, utcnow
from airlock.core.uow import UnitOfWork
from airlock.submissions import sealed
from airlock.submissions.models import Submission


class DossierDraft(Base):
    """A submission's working copy of its dossier, as last saved in the editor."""

    __tablename__ = "dossier_drafts"

    submission_id: Mapped[str] = mapped_column(ID, ForeignKey("submissions.id"), primary_key=True)
    doc: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Whether a submit was tried: missing required fields are then shown at the fields.
    checked: Mapped[bool] = mapped_column(default=False)
    saved_by: Mapped[str] = mapped_column(ID, ForeignKey("users.id"))
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)


def working_copy(
    uow: UnitOfWork, *, actor: Actor, sub: Submission
) -> tuple[dict[str, Any], bool] | None:
    """The working copy (opened) and whether a submit was tried; None if none is current."""
    authorize(actor, "submission.edit", org_id=sub.org_id)
    row = uow.session.get(DossierDraft, sub.id)
    if row is None or row.saved_at < sub.updated_at:
        return None
    doc = sealed.plain_dossier(uow, org_id=sub.org_id, submission_id=sub.id, doc=row.doc)
    return doc, row.checked


def keep(
    uow: UnitOfWork, *, actor: Actor, sub: Submission, doc: dict[str, Any], checked: bool
) -> None:
    """Save what was typed as the working copy (sealed), whatever its state."""
    authorize(actor, "submission.edit", org_id=sub.org_id)
    stored = sealed.seal_dossier(uow, org_id=sub.org_id, submission_id=sub.id, doc=doc)
    row = uow.session.get(DossierDraft, sub.id)
    if row is None:
        row = DossierDraft(submission_id=sub.id, saved_by=actor.user_id)
        uow.session.add(row)
    row.doc = stored
    row.checked = checked
    row.saved_by = actor.user_id
    row.saved_at = max(utcnow(), sub.updated_at)
    uow.flush()


def discard(uow: UnitOfWork, *, sub: Submission) -> None:
    """Drop the working copy (the dossier now holds everything it had)."""
    row = uow.session.get(DossierDraft, sub.id)
    if row is not None:
        uow.session.delete(row)
        uow.flush()
