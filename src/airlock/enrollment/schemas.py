"""API shapes of the enrollment stage."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from airlock.enrollment.rules import ParticipationState, Scope


class In(BaseModel):
    """Base of request bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class ParticipationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    org_id: str
    state: str
    agreement_version: str | None
    scopes: list[str]
    invited_at: datetime
    enrolled_at: datetime | None
    withdrawn_at: datetime | None
    public_name_consent: bool = False


class EnrollIn(In):
    agreement_version: str = Field(min_length=1, max_length=32)
    scopes: list[Scope] = Field(max_length=10)


class ScopesIn(In):
    scopes: list[Scope] = Field(max_length=10)


class PublicNameIn(In):
    consent: StrictBool  # a choice to be named publicly is a boolean, never "yes"


class WithdrawIn(In):
    reason: str = Field(default="", max_length=5000)
    confirm: StrictBool  # "yes" or 1 is not a confirmation


class StateIn(In):
    state: ParticipationState
    reason: str = Field(default="", max_length=5000)


class FirmOut(BaseModel):
    org_id: str
    name: str
    state: str
    scopes: list[str]
