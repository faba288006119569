"""A submission page to work in: one summary header and a tab per part, for the agency's review
view (`/review/submissions/{id}/...`) and the firm's view (`/portal/submissions/{id}/...`).

Each tab is its own address, so a page stays short and a tab can be linked to. The header
(firm, model, version, state, reviewers, scan verdict counts, next deadline) and the tabs come
from `context`; each tab handler adds what only it shows. The artifacts tab polls
`.../artifacts/live` with htmx while a file is being uploaded or waits for its scan (choosing or
sending files starts the polling), so a new file and its "Scanning..." state appear without a
reload.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from airlock.cases import deadlines
from airlock.core.access import Actor, allowed, may_read_confidential
from airlock.core.errors import Forbidden, NotFound
from airlock.core.uow import UnitOfWork
from airlock.enrollment import service as enrollment
from airlock.enrollment.rules import FirmMove
from airlock.findings import review as findings_review
from airlock.findings import service as findings
from airlock.findings import views as findings_views
from airlock.scanning import service as scanning
from airlock.submissions import service as submissions
from airlock.submissions import summary
from airlock.submissions.models import Submission
from airlock.web.pages import artifacts, dossier_view

# (key, label); the overview's address is the submission's own (key "").
TABS: Final = (
    ("", "Overview"),
    ("dossier", "Dossier"),
    ("artifacts", "Artifacts"),
    ("scan", "Scan results"),
    ("findings", "Findings"),
    ("history", "History"),
)
# Seconds between two polls of the artifacts list while something is pending.
POLL_SECONDS: Final = 3


@dataclass(frozen=True)
class Tab:
    """One entry of the side navigation."""

    key: str
    label: str
    href: str
    current: bool
    count: int | None = None


def base_url(actor: Actor, sub_id: str) -> str:
    """The address of a submission's overview for this viewer."""
    return f"/review/submissions/{sub_id}" if actor.is_agency else f"/portal/submissions/{sub_id}"


def _href(actor: Actor, sub_id: str, key: str) -> str:
    base = base_url(actor, sub_id)
    if not actor.is_agency:
        # The firm's own address is its dossier editor; its overview has an address of its own.
        key = {"": "overview", "dossier": ""}.get(key, key)
    return f"{base}/{key}" if key else base


def _findings(uow: UnitOfWork, actor: Actor, sub: Submission) -> list[Any]:
    try:
        return findings.list_findings(uow, actor=actor, submission_id=sub.id, limit=200)
    except (Forbidden, NotFound):
        return []


def context(uow: UnitOfWork, *, actor: Actor, submission_id: str, tab: str) -> dict[str, Any]:
    """The header and the side navigation of a submission page, as this viewer may see them."""
    head = summary.heading(uow, actor=actor, submission_id=submission_id)
    sub = head.sub
    assignees = submissions.list_assignees(uow, actor=actor, submission_id=sub.id)
    found = _findings(uow, actor, sub)
    counts = scanning.verdict_counts(uow, actor=actor, submission_id=sub.id)
    tabs = [
        Tab(
            key,
            label,
            _href(actor, sub.id, key),
            key == tab,
            len(found) if key == "findings" else None,
        )
        for key, label in TABS
        if key != "findings" or found or tab == "findings"
    ]
    firm_state = enrollment.firm_state(uow, org_id=sub.org_id)
    # staff see the results of every check (files and dossier) counted; the firm its files'
    results = (
        findings_review.verdict_counts(uow, actor=actor, submission_ids=[sub.id])[sub.id]
        if actor.is_agency
        else {}
    )
    # Links to the review tools that live on pages of their own (staff only; the check results
    # and probe runs quote confidential content, so only for staff who may read it).
    confidential = actor.is_agency and may_read_confidential(
        actor,
        org_id=sub.org_id,
        assigned_user_ids=submissions.assigned_user_ids(uow, submission_id=sub.id),
    )
    return {
        "tools": actor.is_agency,
        "confidential_tools": confidential,
        "result_counts": results,
        "sub": sub,
        "firm": head.firm,
        "model": head.model,
        "assignees": assignees,
        "verdict_counts": counts,
        "next_deadline": deadlines.next_deadline(uow, actor=actor, submission_id=sub.id),
        "tabs": tabs,
        "tab": tab,
        "found": found,
        "firm_state": firm_state.value if firm_state else "",
    }


def dossier_tab(uow: UnitOfWork, *, actor: Actor, sub: Submission) -> dict[str, Any]:
    """The dossier by section as this viewer may read it (withheld fields marked)."""
    view = submissions.view_dossier(uow, actor=actor, submission_id=sub.id)
    return {
        "view": view,
        "sections": dossier_view.sections(view.dossier),
        "dossier_json": json.dumps(view.dossier, indent=2),
    }


@dataclass(frozen=True)
class LiveLine:
    """A file of the artifacts list with its scan verdict ("" while waiting for the scan)."""

    line: artifacts.ManifestLine
    verdict: str


def live_panel(uow: UnitOfWork, *, actor: Actor, sub: Submission) -> dict[str, Any]:
    """The artifacts list with verdicts, and whether the page should poll again."""
    panel = artifacts.build_panel(uow, actor=actor, sub=sub)
    verdicts = (
        scanning.artifact_verdicts(uow, actor=actor, submission_id=sub.id)
        if not panel.withheld
        else {}
    )
    lines = [LiveLine(a, verdicts.get(a.id, "")) for a in panel.artifacts]
    waiting = any(not x.verdict and x.line.state == "stored" for x in lines)
    return {
        "panel": panel,
        "lines": lines,
        # Each poll is an audited read of the manifest: poll only while a file is on its way
        # (an open upload) or waiting for its scan. Choosing or sending files starts it again.
        "poll": waiting or bool(panel.pending),
        "kick": panel.may_upload,
        "poll_seconds": POLL_SECONDS,
        "live_url": _href(actor, sub.id, "artifacts") + "/live",
        "verdict_counts": scanning.verdict_counts(uow, actor=actor, submission_id=sub.id),
    }


def _by_title(results: list[Any]) -> list[tuple[str, list[Any]]]:
    groups: dict[str, list[Any]] = {}
    for r in results:
        groups.setdefault(str(r.evidence.get("title") or r.rule_id), []).append(r)
    return list(groups.items())


def scan_tab(uow: UnitOfWork, *, actor: Actor, sub: Submission) -> dict[str, Any]:
    """Scan results of the files and of the dossier checks, if this viewer may see them; a
    check's results are grouped by what they say (24 uncovered techniques read as one line)."""
    out = artifacts.submission_sections(uow, actor=actor, sub=sub)
    scan = out["scan"]
    out["check_groups"] = {c.check: _by_title(c.results) for c in scan.checks} if scan else {}
    return out


@dataclass(frozen=True)
class FindingGroup:
    """Findings of one rule with one severity and verdict: a check that repeats (one per
    uncovered technique, say) reads as one line that opens to the list."""

    title: str
    severity: str
    verdict: str
    states: dict[str, int]
    items: list[Any]


def findings_tab(uow: UnitOfWork, *, actor: Actor, found: list[Any]) -> dict[str, Any]:
    """The submission's findings as this viewer may see them, grouped by rule."""
    groups: dict[tuple[str, str, str], list[Any]] = {}
    for f in found:
        out = findings_views.finding_out(uow, actor=actor, finding=f)
        groups.setdefault((out.title, out.severity, out.reported_verdict), []).append(out)
    return {
        "groups": [
            FindingGroup(
                title,
                severity,
                verdict,
                {
                    label: sum(1 for x in items if x.state_label == label)
                    for label in dict.fromkeys(x.state_label for x in items)
                },
                items,
            )
            for (title, severity, verdict), items in groups.items()
        ]
    }


def history_tab(uow: UnitOfWork, *, actor: Actor, sub: Submission) -> dict[str, Any]:
    """Who moved the submission, when, from which state to which, and why."""
    return {"history": summary.moves(uow, actor=actor, submission_id=sub.id)}


def may_assign(uow: UnitOfWork, *, actor: Actor, sub: Submission) -> bool:
    """Whether the page offers assigning reviewers: the role, the submission's state and the
    firm's participation must all allow it (the same rules `assign_reviewer` enforces)."""
    from airlock.submissions.rules import SubmissionState
    from airlock.submissions.rules import may_assign as state_allows

    return (
        allowed(actor, "submission.assign")
        and state_allows(SubmissionState(sub.state))
        and enrollment.firm_allows(uow, org_id=sub.org_id, move=FirmMove.ASSIGN)
    )
