"""The flow through the API: enroll, register, draft, submit, triage, assign, review."""

from __future__ import annotations

import copy

from sqlalchemy import select

from airlock.core.transitions import Transition
from tests.factories.accounts import auth, token_for
from tests.factories.program import example, make_program


def test_a_submission_goes_from_draft_to_closed_with_every_move_recorded(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_b_admin"])
    coord = auth(container, prog.actors["coordinator"])
    rev = auth(container, prog.actors["reviewer"])
    r = client.post(
        "/api/v1/submissions",
        headers=firm,
        json={
            "model_id": prog.ids["model_b"],
            "title": "RC 7",
            "version": "7",
            "carries": ["architecture", "training_data_docs", "safeguards"],
            "dossier": {k: v for k, v in example("full").items()},
        },
    )
    assert r.status_code == 422, "full example holds section I, which needs the weights scope"
    assert "weights" in r.text
    doc = example("full")
    doc["sections"].pop("I", None)
    doc["sections"].get("G", {}).pop("eval_endpoint", None)
    r = client.post(
        "/api/v1/submissions",
        headers=firm,
        json={
            "model_id": prog.ids["model_b"],
            "title": "RC 7",
            "version": "7",
            "carries": ["architecture", "training_data_docs", "safeguards"],
            "dossier": doc,
        },
    )
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert r.json()["state"] == "draft"

    def move(headers, to, reason="", status=200):
        resp = client.post(
            f"/api/v1/submissions/{sid}/transitions",
            headers=headers,
            json={"to": to, "reason": reason},
        )
        assert resp.status_code == status, resp.text
        return resp.json()

    move(firm, "submitted")
    out = move(coord, "returned", status=422)
    assert "reason" in out["detail"]
    move(coord, "returned", reason="Please add the energy figure")
    got = client.get(f"/api/v1/submissions/{sid}", headers=firm).json()
    assert got["state"] == "returned" and got["return_reason"] == "Please add the energy figure"
    move(firm, "submitted")
    move(coord, "accepted")
    move(rev, "in_review", status=403)  # not assigned yet
    r = client.post(
        f"/api/v1/submissions/{sid}/assignments",
        headers=coord,
        json={"reviewer_id": prog.actors["reviewer"].user_id},
    )
    assert r.status_code == 201
    move(rev, "in_review")
    move(firm, "closed", status=403)
    move(coord, "closed", status=409)  # review not complete
    move(rev, "review_complete", status=409)  # nobody signed off yet
    for who in (rev, coord):
        r = client.post(
            f"/api/v1/submissions/{sid}/signoffs",
            headers=who,
            json={"decision": "approve", "comment": "reviewed"},
        )
        assert r.status_code == 201, r.text
    move(rev, "review_complete")
    move(coord, "closed")
    history = client.get(f"/api/v1/submissions/{sid}/history", headers=firm).json()
    assert [h["to_state"] for h in history] == [
        "draft",
        "submitted",
        "returned",
        "submitted",
        "accepted",
        "in_review",
        "review_complete",
        "closed",
    ]
    assert history[2]["reason"] == "Please add the energy figure"
    with container.uow() as uow:
        rows = uow.session.scalars(select(Transition).where(Transition.object_id == sid)).all()
        assert all(row.actor_user_id for row in rows)


def test_an_invalid_dossier_is_refused_with_field_paths_and_nothing_is_written(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    before = client.get("/api/v1/submissions", headers=firm).json()
    doc = copy.deepcopy(example("full"))
    doc["sections"]["D"]["training_flop"]["value"] = "1e26 FLOP"
    doc["sections"]["B"]["surprise"] = 1
    r = client.post(
        "/api/v1/submissions",
        headers=firm,
        json={
            "model_id": prog.ids["model_a"],
            "title": "bad",
            "carries": [
                "architecture",
                "training_data_docs",
                "safeguards",
                "weights",
                "eval_endpoint",
            ],
            "dossier": doc,
        },
    )
    assert r.status_code == 422
    paths = {e["path"] for e in r.json()["errors"]}
    assert "sections.D.training_flop.value" in paths
    assert any(p.startswith("sections.B.surprise") for p in paths)
    assert "1e26 FLOP" in r.text
    assert client.get("/api/v1/submissions", headers=firm).json() == before


def test_a_submission_cannot_carry_what_the_firm_did_not_agree_to_share(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    r = client.put("/api/v1/participation/scopes", headers=firm, json={"scopes": ["architecture"]})
    assert r.status_code == 200
    r = client.post(
        "/api/v1/submissions",
        headers=firm,
        json={"model_id": prog.ids["model_a"], "title": "x", "carries": ["weights"]},
    )
    assert r.status_code == 422
    assert "does not include weights" in r.json()["detail"]


def test_the_schema_is_served(client):
    r = client.get("/api/v1/schemas/dossier")
    assert r.status_code == 200
    assert r.json()["$schema"].endswith("2020-12/schema")


def test_withdrawal_redacts_confidential_dossier_content(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    member = auth(container, prog.actors["firm_a_member"])
    assert (
        client.post(
            "/api/v1/participation/withdraw", headers=member, json={"confirm": True}
        ).status_code
        == 403
    )
    r = client.post(
        "/api/v1/participation/withdraw", headers=firm, json={"confirm": True, "reason": "leaving"}
    )
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"
    container.queue.join(timeout=30)  # type: ignore[attr-defined]
    with container.uow() as uow:
        from airlock.submissions.models import Submission

        sub = uow.session.get(Submission, prog.ids["sub_a"])
        text = str(sub.dossier)
        assert sub.redacted
        assert "'reason': 'withdrawn'" in text
        for field in ("restricted", "'disclosure': 'reviewer'"):
            assert field not in text
    # The firm's accounts were closed with the withdrawal: nothing it sends is accepted.
    r = client.post(
        "/api/v1/participation/enroll",
        headers=firm,
        json={"agreement_version": "2026-1", "scopes": []},
    )
    assert r.status_code == 401


def test_the_queue_chart_counts_submissions_by_state_without_drafts(client, container):
    from airlock.submissions import service

    prog = make_program(container)
    with container.uow() as uow:
        counts = service.counts_by_state(uow, actor=prog.actors["coordinator"])
    assert counts["accepted"] == 1 and counts["submitted"] == 1
    assert "draft" not in counts and sum(counts.values()) == 2
    tok = token_for(container, prog.actors["coordinator"])
    page = client.get("/review", headers={"Authorization": f"Bearer {tok}"}).text
    assert "Submissions by status" in page and 'href="?state=accepted"' in page
