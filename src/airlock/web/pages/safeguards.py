"""Dossier check pages of a submission, linked from the agency's submission page.

The safeguards coverage view: the MITRE ATLAS matrix (tactics as columns, techniques as
cells) coloured by whether the dossier's declared controls cover each technique, with a table
of the same facts for screen readers and for printing. It runs the dossier-coverage check's
engine (`scanning.dossier.coverage`, pure code) on the dossier as the viewer may see it, so
the page and the check's findings agree.

The dossier checks view: the recorded runs of the registered dossier and endpoint checks,
with the training compute estimate (range, methods, inputs, thresholds) and every result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airlock.core.access import Actor
from airlock.core.errors import Forbidden
from airlock.scanning import service as scanning
from airlock.scanning.dossier import coverage
from airlock.scanning.dossier_checks import DOSSIER_COMPUTE, ESTIMATE_RULE
from airlock.submissions import service as submissions
from airlock.web.deps import ActorDep, UoWDep
from airlock.web.pages.render import page

router = APIRouter(include_in_schema=False)

STATUS_LABELS: Final = {
    "covered": "Covered",
    "uncovered": "Not covered",
    "no_mitigation": "No ATLAS mitigation exists",
}
DEPLOYMENT_LABELS: Final = {
    "api": "served through an API",
    "open_weights": "open weights",
    "agentic": "agentic use (tools, retrieval)",
}


@dataclass(frozen=True)
class Column:
    """One tactic of the matrix and its techniques, in ATLAS order."""

    id: str
    name: str
    cells: list[dict[str, Any]]
    covered: int
    uncovered: int


def matrix_columns(summary: Mapping[str, Any]) -> list[Column]:
    """The matrix as columns: every tactic with at least one relevant technique."""
    cells_by_tactic: dict[str, list[dict[str, Any]]] = {}
    for cell in summary["matrix"]:
        for tactic in cell["tactics"]:
            cells_by_tactic.setdefault(tactic, []).append(cell)
    return [
        Column(
            id=t["tactic"],
            name=t["name"],
            cells=cells_by_tactic.get(t["tactic"], []),
            covered=t["covered"],
            uncovered=len(t["uncovered"]),
        )
        for t in summary["by_tactic"]
    ]


def _staff(actor: Actor) -> Actor:
    if not actor.is_agency:
        raise Forbidden("the review workspace is for agency staff")
    return actor


@router.get("/review/submissions/{submission_id}/safeguards")
def safeguards_coverage(
    submission_id: str, request: Request, actor: ActorDep, uow: UoWDep
) -> Response:
    """Which ATLAS techniques the declared safeguards cover, as a matrix and a table."""
    actor = _staff(actor)
    with uow:
        sub = submissions.get_submission(uow, actor=actor, submission_id=submission_id)
        view = submissions.view_dossier(uow, actor=actor, submission_id=sub.id)
        report = coverage.check_coverage(view.dossier)
        uow.commit()  # the audit row of a confidential read
    summary = report.summary
    uncovered = [r for r in report.results if r.rule_id == "DOS-COV-001"]
    unknown = [r for r in report.results if r.rule_id == "DOS-COV-002"]
    return page(
        request,
        "review/safeguards.html",
        sub=sub,
        confidential=view.confidential,
        summary=summary,
        columns=matrix_columns(summary),
        uncovered=uncovered,
        unknown=unknown,
        status_labels=STATUS_LABELS,
        deployments=[DEPLOYMENT_LABELS.get(d, d) for d in summary["deployment"]],
        counts={
            status: sum(1 for c in summary["matrix"] if c["status"] == status)
            for status in STATUS_LABELS
        },
    )


@router.get("/review/submissions/{submission_id}/dossier-checks")
def dossier_checks(submission_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """The recorded runs of the dossier and endpoint checks on a submission: the compute
    estimate with its methods and inputs, and every result (assigned reviewers only)."""
    actor = _staff(actor)
    with uow:
        sub = submissions.get_submission(uow, actor=actor, submission_id=submission_id)
        checks = scanning.subject_checks_for_submission(uow, actor=actor, submission_id=sub.id)
        uow.commit()  # the audit row of reading sealed results
    estimate = next(
        (
            r
            for c in checks
            if c.run.scanner_name == DOSSIER_COMPUTE.name
            for r in c.results
            if r.rule_id == ESTIMATE_RULE
        ),
        None,
    )
    return page(
        request,
        "review/dossier_checks.html",
        sub=sub,
        checks=checks,
        estimate=estimate.evidence.get("details") if estimate is not None else None,
        estimate_rule=ESTIMATE_RULE,
    )
