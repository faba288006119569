"""Factories of the accounts stage: API tokens and the headers that carry them."""

from __future__ import annotations

from airlock.accounts import service as accounts
from airlock.bootstrap import Container
from airlock.core.access import Actor

PASSWORD = "correct horse battery staple"


def token_for(container: Container, actor: Actor) -> str:
    """A fresh API token secret for an actor."""
    with container.uow() as uow:
        new = accounts.create_api_token(uow, actor=actor, name="test")
        uow.commit()
    return new.secret


def auth(container: Container, actor: Actor) -> dict[str, str]:
    """Request headers that authenticate as the actor."""
    return {"Authorization": f"Bearer {token_for(container, actor)}"}
