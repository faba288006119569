"""Cases on top of the program factory: a case of firm A's accepted submission with findings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airlock.bootstrap import Container
from airlock.cases import service as cases
from airlock.cases.models import CaseFinding
from airlock.core.db import new_id, utcnow
from airlock.core.uow import UnitOfWork
from airlock.findings.models import Finding
from tests.factories.program import Program


@dataclass
class CaseIds:
    """The ids a case test needs."""

    case_id: str
    reference: str
    findings: list[str]


def make_finding(
    uow: UnitOfWork,
    *,
    submission_id: str,
    org_id: str,
    severity: str,
    title: str,
    state: str = "notified",
) -> Finding:
    """A finding row as the findings stage leaves it (the cases tests start from there)."""
    row = Finding(
        id=new_id(),
        submission_id=submission_id,
        org_id=org_id,
        fingerprint=new_id(),
        check_name="artifact-safety",
        rule_id="PICKLE-GLOBAL",
        title=title,
        reported_severity=severity,
        reported_verdict="block",
        state=state,
        manual=False,
        created_at=utcnow(),
    )
    uow.session.add(row)
    uow.flush()
    return row


def open_case_with_findings(
    container: Container,
    prog: Program,
    *,
    severities: tuple[str, ...] = ("critical",),
    notified: bool = True,
) -> CaseIds:
    """Firm A's accepted submission gets a case (opened by the coordinator) holding one
    finding per severity; with notified, each is marked notified to the firm."""
    with container.uow() as uow:
        case = cases.open_case(
            uow, actor=prog.actors["coordinator"], submission_id=prog.ids["sub_a"]
        )
        ids = []
        for n, severity in enumerate(severities):
            finding = make_finding(
                uow,
                submission_id=prog.ids["sub_a"],
                org_id=prog.ids["org_a"],
                severity=severity,
                title=f"Finding {n}",
            )
            row = cases.add_finding(
                uow, case=case, finding_id=finding.id, severity=severity, title=finding.title
            )
            if notified:
                row.notified_at = utcnow()
            ids.append(row.finding_id)
        uow.commit()
        return CaseIds(case.id, case.reference, ids)


def finding_row(container: Container, case_id: str, finding_id: str) -> CaseFinding:
    """The case's row of a finding."""
    with container.uow() as uow:
        from sqlalchemy import select

        return uow.session.scalars(
            select(CaseFinding).where(
                CaseFinding.case_id == case_id, CaseFinding.finding_id == finding_id
            )
        ).one()


def notified_pickle_finding(client: Any, container: Container, prog: Program) -> str:
    """Through the API: firm A uploads a booby-trapped checkpoint to sub_a, the reviewer
    confirms the critical finding (others set aside) and notifies it; returns its id."""
    from tests.factories import vault as vault_factory
    from tests.factories.accounts import auth
    from tests.factories.findings import call, findings_of, move_finding, move_submission
    from tests.factories.scanning import EVIL_PICKLE, torch_style_checkpoint

    firm = auth(container, prog.actors["firm_a_admin"])
    rev = auth(container, prog.actors["reviewer"])
    sid = prog.ids["sub_a"]
    vault_factory.upload(client, firm, sid, torch_style_checkpoint(EVIL_PICKLE), name="model.pt")
    container.queue.join()
    move_submission(client, rev, sid, "in_review")
    drafts = findings_of(client, rev, sid, check=None)
    fid: str = next(
        f["id"]
        for f in drafts
        if f["reported_verdict"] == "block" and f["reported_severity"] == "critical"
    )
    call(client, "POST", f"/api/v1/findings/{fid}/confirm", rev, json={"severity": "critical"})
    others = [f["id"] for f in drafts if f["id"] != fid]
    if others:
        call(
            client,
            "POST",
            "/api/v1/findings/false-positive",
            rev,
            json={"finding_ids": others, "reason": "same payload"},
        )
    move_finding(client, rev, fid, "notified")
    container.queue.join()
    container.queue.join()
    return fid
