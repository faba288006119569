"""API shapes of the accounts stage."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from airlock.core.roles import Role


class In(BaseModel):
    """Base of request bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    """Base of responses, built from ORM rows."""

    model_config = ConfigDict(from_attributes=True)


class MeOut(Out):
    user_id: str
    email: str
    org_id: str
    org_kind: str
    role: str


Scope = Literal["read", "submit", "review"]


class TokenIn(In):
    name: str = Field(min_length=1, max_length=120)
    # default: the api_token_days setting
    days: int | None = Field(default=None, ge=1, le=366)
    # default: every scope
    scopes: list[Scope] | None = Field(default=None, min_length=1, max_length=3)


class TokenOut(Out):
    id: str
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    scopes: list[str]

    @field_validator("scopes", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return value.split() if isinstance(value, str) else value


class NewTokenOut(TokenOut):
    secret: str


class LoginIn(In):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    token_name: str = Field(default="api", min_length=1, max_length=120)
    # the current code of the authenticator app (or a recovery code) once one is set up
    code: str | None = Field(default=None, min_length=6, max_length=32)
    days: int | None = Field(default=None, ge=1, le=366)
    scopes: list[Scope] | None = Field(default=None, min_length=1, max_length=3)


class InvitationIn(In):
    email: str = Field(min_length=3, max_length=320)
    role: Role


class InvitationOut(Out):
    id: str
    email: str
    role: str
    expires_at: datetime
    accept_url: str | None = None


class AcceptInvitationIn(In):
    token: str = Field(min_length=10, max_length=200)
    password: str = Field(min_length=1, max_length=1024)
    name: str = Field(default="", max_length=200)


class MemberOut(Out):
    user_id: str
    email: str
    role: str
