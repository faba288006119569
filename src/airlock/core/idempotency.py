"""Form keys: a form that creates something carries a one-time key, so sending it twice
(a refresh, a double click, the back button) finds the first result instead of a twin.

A page renders a fresh key in a hidden field; the handler asks `earlier_result` first and,
after creating, records where the result is shown with `remember` in the same transaction.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from airlock.core.db import ID, Base, utcnow

if TYPE_CHECKING:
    from airlock.core.uow import UnitOfWork

_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class FormKey(Base):
    """A form post that created something: the key it carried and where its result is."""

    __tablename__ = "form_keys"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ID)
    form: Mapped[str] = mapped_column(String(80))
    result_url: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def new_key() -> str:
    """A fresh key for one rendering of a form."""
    return secrets.token_urlsafe(24)


def _valid(key: str) -> bool:
    return bool(_SHAPE.match(key or ""))


def earlier_result(uow: UnitOfWork, *, key: str, user_id: str, form: str) -> str | None:
    """Where the first post of this key by this user to this form led; None if it is new."""
    if not _valid(key):
        return None
    row = uow.session.get(FormKey, key)
    if row is None or row.user_id != user_id or row.form != form:
        return None
    return row.result_url


def remember(uow: UnitOfWork, *, key: str, user_id: str, form: str, result_url: str) -> None:
    """Record that this key created what `result_url` shows (in the caller's transaction)."""
    if not _valid(key) or uow.session.get(FormKey, key) is not None:
        return
    uow.session.add(FormKey(key=key, user_id=user_id, form=form, result_url=result_url[:500]))
    uow.flush()
