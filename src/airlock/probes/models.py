"""Probe tables: a reviewer's probe run on a submission's endpoint, and the response cache."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from airlock.core.db import ID, Base, new_id, utcnow


class ProbeRun(Base):
    """A probe run a reviewer started: what to send, and how far it got.

    The run's scan results are the `probe-runs` check's run on this row's id (scan_runs);
    this row keeps only the request and progress counters, never prompts or answers.
    """

    __tablename__ = "probe_runs"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(ID, ForeignKey("submissions.id"), index=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"), index=True)
    requested_by: Mapped[str] = mapped_column(ID, ForeignKey("users.id"))
    packs: Mapped[list[Any]] = mapped_column(default=list)
    budget_requests: Mapped[int] = mapped_column(default=0)
    reuse_answers: Mapped[bool] = mapped_column(default=False)
    # queued -> running -> finished (the check's run is then recorded) | failed
    state: Mapped[str] = mapped_column(String(16), default="queued")
    planned: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    succeeded: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    cache_hits: Mapped[int] = mapped_column(default=0)
    verdict: Mapped[str] = mapped_column(String(16), default="")
    # Counts per category only (no prompt, no answer): those are in the sealed scan results.
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class ProbeResponse(Base):
    """A cached answer of a firm's endpoint, keyed by the SHA-256 of target fingerprint,
    messages and parameters, sealed under the firm's key (the answer is the firm's content)."""

    __tablename__ = "probe_responses"

    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EndpointKey(Base):
    """The API key of a submission's evaluation endpoint, sealed under the firm's key.

    Set by the firm (its participation must include the `eval_endpoint` scope); opened only by
    the probe checks when they send requests. The key is never logged or shown again.
    """

    __tablename__ = "endpoint_keys"

    submission_id: Mapped[str] = mapped_column(ID, ForeignKey("submissions.id"), primary_key=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"), index=True)
    sealed: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(ID, ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)
