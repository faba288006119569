"""Job handlers of the findings stage: every recorded check run feeds the triage queue, and a
change to a submission after a sign-off reopens it.

Importing this module also registers the findings guards: on `review_complete`
(`review`) and on downloads of blocked artifacts (`downloads`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from airlock.core import events, jobs
from airlock.core.uow import UnitOfWork
from airlock.findings import downloads, ingest, review
from airlock.scanning.registry import CHECK_RECORDED_EVENT
from airlock.submissions.service import DOSSIER_CHANGED_EVENT
from airlock.vault.models import Artifact
from airlock.vault.service import ARTIFACT_STORED_EVENT

GUARDS: Final = (review.guard_review_complete, downloads.guard_blocked_download)
INGEST_JOB: Final = "findings.ingest"
REOPEN_ON_ARTIFACT_JOB: Final = "findings.reopen_on_artifact"
REOPEN_ON_DOSSIER_JOB: Final = "findings.reopen_on_dossier"


@jobs.handler(INGEST_JOB, max_attempts=5)
def ingest_check_run(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """Make or extend draft findings from one recorded check run (safe to run twice)."""
    ingest.ingest_run(uow, run_id=str(payload["run_id"]))


@jobs.handler(REOPEN_ON_ARTIFACT_JOB, max_attempts=3)
def reopen_on_artifact(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """A new artifact after a sign-off reopens the sign-off, naming the artifact."""
    art = uow.session.get(Artifact, str(payload["artifact_id"]))
    if art is not None:
        review.reopen_signoffs(
            uow,
            submission_id=art.submission_id,
            why=f"a new artifact was uploaded after the sign-off: {art.name} ({art.id})",
        )


@jobs.handler(REOPEN_ON_DOSSIER_JOB, max_attempts=3)
def reopen_on_dossier(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """A dossier change after a sign-off reopens the sign-off."""
    review.reopen_signoffs(
        uow,
        submission_id=str(payload["submission_id"]),
        why="the dossier was changed after the sign-off",
    )


events.subscribe(CHECK_RECORDED_EVENT, INGEST_JOB)
events.subscribe(ARTIFACT_STORED_EVENT, REOPEN_ON_ARTIFACT_JOB)
events.subscribe(DOSSIER_CHANGED_EVENT, REOPEN_ON_DOSSIER_JOB)
