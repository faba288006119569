"""Workflows and read services that routes used to hold: callable without the web layer."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from airlock.core import audit
from airlock.core.audit import AuditEvent
from airlock.core.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound
from airlock.core.roles import OrgKind
from airlock.enrollment import service as enrollment
from airlock.enrollment.rules import ParticipationState as PS
from airlock.submissions import rules as submission_rules
from airlock.submissions import service as submissions
from airlock.vault import flows
from airlock.vault import service as vault
from airlock.web.pages.artifacts import build_panel
from tests.factories.program import make_program


def _declare(container, firm, submission_id, data, sha256=None):
    return flows.declare_upload(
        container.uow,
        actor=firm,
        submission_id=submission_id,
        name="config.json",
        kind="config",
        media_type="",
        size=len(data),
        sha256=sha256 or hashlib.sha256(data).hexdigest(),
    )


def test_an_upload_runs_start_to_end_through_the_flows_without_the_web(container):
    prog = make_program(container)
    firm = prog.actors["firm_a_admin"]
    data = b"x" * 1000
    up = _declare(container, firm, prog.ids["sub_a"], data)
    up = flows.put_chunk(container.uow, actor=firm, upload_id=up.id, index=0, data=data)
    assert len(up.parts) == 1
    art = flows.complete_upload(container.uow, actor=firm, upload_id=up.id)
    assert (art.name, art.size, art.state) == ("config.json", len(data), "stored")
    with container.uow() as uow:
        listed = vault.list_artifacts(uow, actor=firm, submission_id=prog.ids["sub_a"])
        assert [a.id for a in listed] == [art.id]
    # the sealed chunk is the artifact's one segment: kept, not copied
    assert list(container.blob_store.keys("uploads/")) == art.segments


def test_a_completion_that_does_not_match_the_declaration_fails_and_cleans_up(container):
    prog = make_program(container)
    firm = prog.actors["firm_a_admin"]
    data = b"y" * 100
    up = _declare(container, firm, prog.ids["sub_a"], data, sha256="0" * 64)
    flows.put_chunk(container.uow, actor=firm, upload_id=up.id, index=0, data=data)
    with pytest.raises(InvalidInput, match="does not match what was declared"):
        flows.complete_upload(container.uow, actor=firm, upload_id=up.id)
    with container.uow() as uow:
        assert vault.upload_status(uow, actor=firm, upload_id=up.id).state == "failed"
    assert list(container.blob_store.keys("")) == []


def test_the_uploader_and_the_upload_refuse_a_suspended_firm_with_the_same_reason(container):
    prog = make_program(container)
    firm, coord = prog.actors["firm_a_admin"], prog.actors["coordinator"]
    with container.uow() as uow:
        enrollment.set_state(
            uow, actor=coord, org_id=firm.org_id, target=PS.ACTIVE, reason="checked"
        )
        enrollment.set_state(
            uow, actor=coord, org_id=firm.org_id, target=PS.SUSPENDED, reason="audit"
        )
        uow.commit()
    with container.uow() as uow:
        sub = submissions.get_submission(uow, actor=firm, submission_id=prog.ids["sub_a"])
        panel = build_panel(uow, actor=firm, sub=sub)
        with pytest.raises(Forbidden) as refused:
            vault.start_upload(
                uow,
                actor=firm,
                submission_id=sub.id,
                name="a.json",
                kind="config",
                media_type="",
                size=1,
                sha256="0" * 64,
                limits=flows.upload_limits(container.settings),
                master=None,  # type: ignore[arg-type]  # refused before any key is needed
            )
    assert not panel.may_upload and panel.kinds == []
    assert "cannot upload while its participation is suspended" in str(refused.value)
    assert panel.why_not.lower().startswith(str(refused.value).lower())


def test_a_developer_organisation_gets_an_invited_participation_and_the_agency_none(container):
    with container.uow() as uow:
        firm = enrollment.create_organisation(uow, name="Firm Z", kind=OrgKind.DEVELOPER)
        agency = enrollment.create_organisation(uow, name="Agency Z", kind=OrgKind.AGENCY)
        p = enrollment.participation_of(uow, org_id=firm.id)
        assert p is not None and p.state == PS.INVITED
        assert enrollment.participation_of(uow, org_id=agency.id) is None


def test_firm_state_changes_are_audited_as_participation_changes(container):
    prog = make_program(container)
    coord, reviewer = prog.actors["coordinator"], prog.actors["reviewer"]
    org_b = prog.ids["org_b"]
    with container.uow() as uow:
        with pytest.raises(Forbidden, match=r"participation\.set_state"):
            enrollment.set_state(uow, actor=reviewer, org_id=org_b, target=PS.ACTIVE, reason="")
        enrollment.set_state(uow, actor=coord, org_id=org_b, target=PS.ACTIVE, reason="ok")
        uow.commit()
    with container.uow() as uow:
        rows = list(uow.session.scalars(select(AuditEvent).where(AuditEvent.object_id != "")))
        mine = [r.action for r in rows if r.object_type == "participation" and r.org_id == org_b]
        assert mine[-1] == "participation.active"
        about_participation = [r.action for r in rows if r.object_type == "participation"]
        assert all(a.startswith("participation.") for a in about_participation)


def _outcome(container, actor, submission_id, target) -> bool:
    with container.uow() as uow:
        try:
            submissions.transition(
                uow, actor=actor, submission_id=submission_id, target=target, reason="why"
            )
        except (Forbidden, NotFound, InvalidInput, InvalidTransition, Conflict):
            return False
        return True  # rolled back when the unit of work closes


@pytest.mark.parametrize("who", ["coordinator", "reviewer", "other_reviewer", "agency_admin"])
def test_the_moves_a_page_offers_are_exactly_the_moves_that_succeed(container, who):
    prog = make_program(container)
    actor = prog.actors[who]
    for sid in (prog.ids["sub_a"], prog.ids["sub_b"]):
        with container.uow() as uow:
            offered = submissions.allowed_moves(uow, actor=actor, submission_id=sid)
            state = submissions.get_submission(uow, actor=actor, submission_id=sid).state
        for target in submission_rules.SubmissionState:
            if target == submission_rules.SubmissionState.SUBMITTED:
                continue  # the firm's move, checked against the dossier too
            succeeds = _outcome(container, actor, sid, target)
            assert (target in offered) == succeeds, (who, state, target)


def test_staff_never_see_a_draft_whether_reading_or_moving_it(container):
    prog = make_program(container)
    coord = prog.actors["coordinator"]
    with container.uow() as uow:
        for call in (
            lambda: submissions.get_submission(uow, actor=coord, submission_id=prog.ids["draft_a"]),
            lambda: submissions.allowed_moves(uow, actor=coord, submission_id=prog.ids["draft_a"]),
            lambda: submissions.transition(
                uow,
                actor=coord,
                submission_id=prog.ids["draft_a"],
                target=submission_rules.SubmissionState.ACCEPTED,
            ),
        ):
            with pytest.raises(NotFound):
                call()


def test_the_audit_trail_is_read_newest_first_by_auditors_only(container):
    prog = make_program(container)
    with container.uow() as uow:
        with pytest.raises(Forbidden):
            audit.read_trail(uow, actor=prog.actors["reviewer"])
        trail = audit.read_trail(uow, actor=prog.actors["auditor"], limit=5, verify=True)
    seqs = [e.seq for e in trail.events]
    assert len(seqs) == 5 and seqs == sorted(seqs, reverse=True)
    assert trail.report is not None and trail.report.ok


def test_a_section_of_the_submission_page_that_fails_fails_the_page(container, monkeypatch):
    from airlock.scanning import service as scanning
    from airlock.web.app import create_app
    from tests.factories.program import token_for

    prog = make_program(container)
    headers = {
        "Authorization": f"Bearer {token_for(container, prog.actors['firm_a_admin'])}",
        "Accept": "text/html",
    }
    url = f"/portal/submissions/{prog.ids['sub_a']}/scan"  # the scan results tab
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        page = client.get(url, headers=headers)
        assert page.status_code == 200 and 'id="scan-results"' in page.text

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("the scan results table is unreadable")

        monkeypatch.setattr(scanning, "results_for_submission", broken)
        assert client.get(url, headers=headers).status_code == 500
