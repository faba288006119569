"""One object per form: the hidden `form_key` every creating form carries (see
`core.idempotency`). A repeated post of the same key creates nothing and is sent to what the
first post created.

    again = once.replay(uow, data, actor, "model")
    if again: return again
    ...create...
    once.record(uow, data, actor, "model", "/portal")
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi.responses import RedirectResponse

from airlock.core import idempotency
from airlock.core.access import Actor
from airlock.core.uow import UnitOfWork
from airlock.web.pages.render import redirect

FIELD = "form_key"


def _key(data: Mapping[str, str] | Mapping[str, list[str]]) -> str:
    value = data.get(FIELD, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value)


def replay(
    uow: UnitOfWork,
    data: Mapping[str, str] | Mapping[str, list[str]],
    actor: Actor,
    form: str,
) -> RedirectResponse | None:
    """A redirect to the first result if this form's key was already used; else None."""
    url = idempotency.earlier_result(uow, key=_key(data), user_id=actor.user_id, form=form)
    return redirect(url.split("?", 1)[0].split("#", 1)[0], done="already_done") if url else None


def record(
    uow: UnitOfWork,
    data: Mapping[str, str] | Mapping[str, list[str]],
    actor: Actor,
    form: str,
    url: str,
) -> None:
    """Remember that this form's key created what `url` shows (same transaction)."""
    idempotency.remember(uow, key=_key(data), user_id=actor.user_id, form=form, result_url=url)
