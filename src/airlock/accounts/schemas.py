"""API shapes of the accounts stage."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

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


class TokenIn(In):
    name: str = Field(min_length=1, max_length=120)
    days: int | None = Field(default=None, ge=1, le=366)


class TokenOut(Out):
    id: str
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class NewTokenOut(TokenOut):
    secret: str


class LoginIn(In):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    token_name: str = Field(default="api", min_length=1, max_length=120)


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
