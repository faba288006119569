"""Every artifact in the vault is scanned; scan results are immutable and shown on need to know."""

from __future__ import annotations

from sqlalchemy import func, select

from airlock.scanning import service
from airlock.scanning.engine import ENGINE_NAME, ENGINE_VERSION
from airlock.scanning.models import ScanResult, ScanRun
from airlock.vault.models import Artifact
from airlock.vault.reading import system_vault
from tests.factories import vault as vault_factory
from tests.factories.accounts import auth
from tests.factories.program import make_program
from tests.factories.scanning import BENIGN_PICKLE, EVIL_PICKLE, torch_style_checkpoint


def upload(client, headers, sid, data, name="model.pkl", kind="weights"):
    return vault_factory.upload(client, headers, sid, data, name=name, kind=kind)


def set_state(client, container, prog, state):
    admin = auth(container, prog.actors["agency_admin"])
    r = client.put(f"/api/v1/scanners/{ENGINE_NAME}", headers=admin, json={"state": state})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == state


def results(client, headers, sid):
    r = client.get(f"/api/v1/submissions/{sid}/results", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_malicious_pickle_is_blocked_and_the_firm_sees_it_via_api_and_page(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    sid = prog.ids["sub_a"]
    art = upload(client, firm, sid, EVIL_PICKLE)
    container.queue.join()

    with container.uow() as uow:
        stored = list(
            uow.session.scalars(select(ScanResult).where(ScanResult.scanner_name == ENGINE_NAME))
        )
        rows = service.opened_results(uow, stored)
        runs = list(uow.session.scalars(select(ScanRun).where(ScanRun.scanner_name == ENGINE_NAME)))
    assert len(runs) == 1 and runs[0].verdict == "block" and runs[0].artifact_id == art["id"]
    assert all(set(r.evidence) == {"sealed"} and r.message == "" for r in stored)
    block = [f for f in rows if f.verdict == "block"]
    assert block, [f.rule_id for f in rows]
    f = block[0]
    assert (f.scanner_name, f.scanner_version) == (ENGINE_NAME, ENGINE_VERSION)
    assert len(f.fingerprint) == 32 and f.evidence["global"] == "os.system"
    assert f.evidence["location"] == "model.pkl"  # the artifact's name, not a temporary path
    assert f.artifact_id == art["id"]
    assert "AML.T0010" in f.atlas

    out = results(client, firm, sid)
    [a] = out["artifacts"]
    assert a["verdict"] == "block" and a["name"] == "model.pkl"
    assert any(x["verdict"] == "block" and x["fingerprint"] == f.fingerprint for x in a["results"])

    page = client.get(f"/portal/submissions/{sid}/scan", headers=firm)
    assert page.status_code == 200, page.text
    assert 'id="scan-results"' in page.text and "verdict-block" in page.text
    assert f.rule_id in page.text and "os.system" in page.text

    reviewer = auth(container, prog.actors["reviewer"])
    page = client.get(f"/review/submissions/{sid}/scan", headers=reviewer)
    assert page.status_code == 200, page.text
    assert "verdict-block" in page.text and f.fingerprint in page.text


def test_malicious_checkpoint_points_inside_the_artifact_and_leaves_no_plaintext(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    upload(client, firm, prog.ids["sub_a"], torch_style_checkpoint(EVIL_PICKLE), name="model.pt")
    container.queue.join()
    [a] = results(client, firm, prog.ids["sub_a"])["artifacts"]
    assert a["verdict"] == "block"
    block = [f for f in a["results"] if f["verdict"] == "block"]
    assert block and block[0]["evidence"]["location"] == "model.pt!archive/data.pkl"
    scratch = container.settings.data_dir / "tmp"
    assert scratch.is_dir() and list(scratch.iterdir()) == []


def test_a_stored_object_that_fails_authentication_is_review_with_the_error(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    sid = prog.ids["sub_a"]
    set_state(client, container, prog, "disabled")
    art = upload(client, firm, sid, EVIL_PICKLE)
    container.queue.join()
    with container.uow() as uow:
        row = uow.session.get(Artifact, art["id"])
        key = (row.segments or [row.storage_key])[-1]  # the sealed chunk holding the end
    stored = b"".join(container.blob_store.open(key))
    container.blob_store.put(key, [stored[:-1] + bytes([stored[-1] ^ 1])])
    set_state(client, container, prog, "enabled")
    with container.uow() as uow:
        assert service.queue_run(uow, name=ENGINE_NAME, subject_id=art["id"])
        uow.commit()
    container.queue.join()
    [a] = results(client, firm, sid)["artifacts"]
    assert a["verdict"] == "review" and a["results"] == [] and "authentication" in a["error"]
    page = client.get(f"/portal/submissions/{sid}/scan", headers=firm)
    assert "scan-error" in page.text and "verdict-review" in page.text


def test_benign_pickle_passes_with_no_results(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    upload(client, firm, prog.ids["sub_a"], BENIGN_PICKLE, name="vocab.pkl")
    container.queue.join()
    [a] = results(client, firm, prog.ids["sub_a"])["artifacts"]
    assert (a["verdict"], a["results"]) == ("pass", [])


def test_scanner_in_evaluation_shows_the_firm_nothing_but_the_assigned_reviewer_everything(
    client, container
):
    prog = make_program(container)
    set_state(client, container, prog, "evaluation")
    firm = auth(container, prog.actors["firm_a_admin"])
    sid = prog.ids["sub_a"]
    upload(client, firm, sid, EVIL_PICKLE)
    container.queue.join()

    [a] = results(client, firm, sid)["artifacts"]
    assert (a["verdict"], a["results"]) == (None, [])
    page = client.get(f"/portal/submissions/{sid}/scan", headers=firm)
    assert "verdict-block" not in page.text and "os.system" not in page.text

    for who in ("reviewer", "coordinator"):
        staff = auth(container, prog.actors[who])
        r = client.get(f"/api/v1/submissions/{sid}/results", headers=staff)
        if who == "reviewer":
            [a] = r.json()["artifacts"]
            assert a["verdict"] == "block" and a["results"]
            page = client.get(f"/review/submissions/{sid}/scan", headers=staff)
            assert "verdict-block" in page.text
        else:
            assert r.status_code == 403  # staff who are not assigned see no results

    set_state(client, container, prog, "enabled")
    [a] = results(client, firm, sid)["artifacts"]
    assert a["verdict"] == "block" and a["results"]


def test_disabled_scanner_does_not_scan(client, container):
    prog = make_program(container)
    set_state(client, container, prog, "disabled")
    firm = auth(container, prog.actors["firm_a_admin"])
    upload(client, firm, prog.ids["sub_a"], EVIL_PICKLE)
    container.queue.join()
    with container.uow() as uow:
        assert (
            uow.session.scalar(
                select(func.count()).select_from(ScanRun).where(ScanRun.scanner_name == ENGINE_NAME)
            )
            == 0
        )


def test_running_the_scan_job_twice_stores_the_results_once(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    art = upload(client, firm, prog.ids["sub_a"], EVIL_PICKLE)
    container.queue.join()

    def count():
        with container.uow() as uow:
            return (
                uow.session.scalar(
                    select(func.count())
                    .select_from(ScanRun)
                    .where(ScanRun.scanner_name == ENGINE_NAME)
                ),
                uow.session.scalar(
                    select(func.count())
                    .select_from(ScanResult)
                    .where(ScanResult.scanner_name == ENGINE_NAME)
                ),
            )

    before = count()
    assert before[0] == 1 and before[1] >= 1
    # A second job for the same artifact (a re-published event), and a redelivery of it.
    with container.uow() as uow:
        # queue_run itself refuses a run this version already made
        assert service.queue_run(uow, name=ENGINE_NAME, subject_id=art["id"]) is None
        job_id = uow.enqueue(service.RUN_CHECK, {"check": ENGINE_NAME, "subject_id": art["id"]})
        uow.commit()
    container.queue.join()
    assert container.run_job(job_id) == "skipped"
    # The run itself, called directly, records nothing either.
    with container.uow() as uow:
        assert service.execute_check(uow, name=ENGINE_NAME, subject_id=art["id"]) is None
        uow.commit()
    assert count() == before


def test_same_payload_in_the_next_version_has_the_same_fingerprint(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    upload(client, firm, prog.ids["sub_a"], EVIL_PICKLE, name="v1/model.pkl")
    upload(client, firm, prog.ids["draft_a"], b"\x80\x04" + EVIL_PICKLE[2:], name="v2.pkl")
    container.queue.join()
    with container.uow() as uow:
        rows = list(uow.session.scalars(select(ScanResult).where(ScanResult.verdict == "block")))
    assert len({r.artifact_id for r in rows}) == 2
    assert len({r.fingerprint for r in rows}) == 1
    [a] = results(client, firm, prog.ids["sub_a"])["artifacts"]
    [f] = [f for f in a["results"] if f["verdict"] == "block"]
    assert f["seen_in_other_submissions"] == 1
    page = client.get(f"/portal/submissions/{prog.ids['sub_a']}/scan", headers=firm)
    assert "Also found in 1 other submission" in page.text


def test_a_destroyed_key_gives_a_review_run_with_the_error(client, container):
    prog = make_program(container)
    firm = auth(container, prog.actors["firm_a_admin"])
    set_state(client, container, prog, "disabled")
    art = upload(client, firm, prog.ids["sub_a"], EVIL_PICKLE)
    container.queue.join()
    with container.uow() as uow:
        row = uow.session.get(Artifact, art["id"])
        row.wrapped_data_key, row.state = None, "destroyed"
        uow.commit()
    set_state(client, container, prog, "enabled")
    with container.uow() as uow:
        assert system_vault(uow).scratch.name == "tmp"
        job_id = service.queue_run(uow, name=ENGINE_NAME, subject_id=art["id"])
        uow.commit()
    container.queue.join()
    with container.uow() as uow:
        [run] = list(
            uow.session.scalars(select(ScanRun).where(ScanRun.scanner_name == ENGINE_NAME))
        )
    assert run.verdict == "review" and "destroyed" in run.error
    assert container.run_job(job_id) == "skipped"
