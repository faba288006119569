"""Attack: `restricted` dossier fields shown to every assigned reviewer (issue 10, item 4)."""

from __future__ import annotations

import json

from sqlalchemy import select

from airlock.core.audit import AuditEvent
from tests.factories.accounts import auth
from tests.factories.program import make_program


def _restricted_visible(client, headers, sid) -> bool:
    r = client.get(f"/api/v1/submissions/{sid}/dossier", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["confidential"]
    text = json.dumps(body["dossier"])
    assert '"disclosure": "reviewer"' in text  # reviewer-level fields are shown either way
    if '"accelerator_count": {"value": 4096' in text:
        return True
    assert '{"redacted": true, "disclosure": "restricted"}' in text
    return False


def test_restricted_fields_are_shown_only_to_named_reviewers_and_grants_are_revocable(
    client, container
):
    prog = make_program(container)
    sid = prog.ids["sub_a"]
    coordinator = auth(container, prog.actors["coordinator"])
    reviewer = prog.actors["reviewer"]
    other = prog.actors["other_reviewer"]
    r = client.post(
        f"/api/v1/submissions/{sid}/assignments",
        headers=coordinator,
        json={"reviewer_id": other.user_id},
    )
    assert r.status_code == 201, r.text
    rev_h, other_h = auth(container, reviewer), auth(container, other)
    # Assigned, not named: withheld. The firm always sees its own.
    assert not _restricted_visible(client, rev_h, sid)
    assert not _restricted_visible(client, other_h, sid)
    assert _restricted_visible(client, auth(container, prog.actors["firm_a_admin"]), sid)

    url = f"/api/v1/submissions/{sid}/restricted-grants"
    r = client.post(url, headers=coordinator, json={"reviewer_id": reviewer.user_id})
    assert r.status_code == 201, r.text
    assert (
        client.post(url, headers=coordinator, json={"reviewer_id": reviewer.user_id}).status_code
        == 409
    )
    # A reviewer cannot grant, not even to themselves; nobody unassigned can be named.
    assert client.post(url, headers=other_h, json={"reviewer_id": other.user_id}).status_code == 403
    unassigned = prog.actors["agency_admin"].user_id
    assert (
        client.post(url, headers=coordinator, json={"reviewer_id": unassigned}).status_code == 422
    )
    assert [g["user_id"] for g in client.get(url, headers=coordinator).json()] == [reviewer.user_id]

    assert _restricted_visible(client, rev_h, sid)
    assert not _restricted_visible(client, other_h, sid)

    r = client.delete(f"{url}/{reviewer.user_id}", headers=coordinator)
    assert r.status_code == 200, r.text
    assert not _restricted_visible(client, rev_h, sid)
    assert client.delete(f"{url}/{reviewer.user_id}", headers=coordinator).status_code == 404

    with container.uow() as uow:
        actions = list(
            uow.session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.action.like("submission.restricted_%"))
                .order_by(AuditEvent.seq)
            )
        )
        reads = list(
            uow.session.scalars(
                select(AuditEvent.detail)
                .where(
                    AuditEvent.action == "dossier.read_confidential",
                    AuditEvent.actor_user_id == reviewer.user_id,
                )
                .order_by(AuditEvent.seq)
            )
        )
    assert actions == ["submission.restricted_granted", "submission.restricted_revoked"]
    assert [
        '"restricted":true' if '"restricted":true' in d else '"restricted":false' for d in reads
    ] == ['"restricted":false', '"restricted":true', '"restricted":false']


def test_the_review_page_grants_and_revokes_with_a_control(client, container):
    prog = make_program(container)
    sid = prog.ids["sub_a"]
    coordinator = auth(container, prog.actors["coordinator"])
    reviewer = prog.actors["reviewer"]
    page = client.get(f"/review/submissions/{sid}", headers=coordinator)
    assert "Grant access to restricted fields" in page.text
    r = client.post(
        f"/review/submissions/{sid}/restricted",
        headers=coordinator,
        data={"user_id": reviewer.user_id, "action": "grant"},
        follow_redirects=False,
    )
    assert r.status_code in (302, 303), r.text
    assert _restricted_visible(client, auth(container, reviewer), sid)
    page = client.get(f"/review/submissions/{sid}", headers=coordinator)
    assert "Withdraw access to restricted fields" in page.text
    r = client.post(
        f"/review/submissions/{sid}/restricted",
        headers=coordinator,
        data={"user_id": reviewer.user_id, "action": "revoke"},
        follow_redirects=False,
    )
    assert r.status_code in (302, 303), r.text
    assert not _restricted_visible(client, auth(container, reviewer), sid)
    # A reviewer posting the form is refused.
    r = client.post(
        f"/review/submissions/{sid}/restricted",
        headers=auth(container, reviewer),
        data={"user_id": reviewer.user_id, "action": "grant"},
        follow_redirects=False,
    )
    assert r.status_code == 403
