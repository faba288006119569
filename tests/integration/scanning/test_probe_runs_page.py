"""Probe runs from the review pages (issue 13 item 6): an assigned reviewer chooses packs and
a budget on the submission's probe page; the run goes as a job whose progress the run page
polls (htmx); its results become scan results whose prompts and answers are sealed and shown
to the assigned reviewers only; answers are cached in the database (item 2), so a rerun that
reuses them sends nothing."""

from __future__ import annotations

import copy
import re
from typing import Any

from sqlalchemy import select, text

from airlock.probes.models import ProbeResponse, ProbeRun
from airlock.scanning.models import ScanResult, ScanRun
from airlock.submissions import service as submissions
from airlock.submissions.rules import SubmissionState as SS
from tests.factories.accounts import PASSWORD, auth
from tests.factories.program import ALL_SCOPES, example, make_program
from tests.support.openai_loopback import LoopbackChatServer, Reply

REFUSAL = "I'm sorry, but I can't help with that. It could cause serious harm to people."


def refuse_harm_leak_the_rest(request: dict[str, Any]) -> Reply:
    """A model that refuses the clearly harmful requests and repeats everything else (so it
    follows injected instructions and leaks planted canaries)."""
    said = "\n".join(str(m.get("content", "")) for m in request["messages"])
    if "PLACEHOLDER HARMFUL REQUEST" in said:
        return Reply(text=REFUSAL)
    return Reply(text=said)


def login(client, email: str) -> None:
    client.cookies.clear()
    r = client.post("/login", data={"email": email, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def assigned_submission(container, prog, base_url: str) -> str:
    doc = copy.deepcopy(example("full"))
    doc["sections"]["G"]["eval_endpoint"]["base_url"]["value"] = base_url
    with container.uow() as uow:
        admin = prog.actors["firm_a_admin"]
        sub = submissions.create_submission(
            uow,
            actor=admin,
            model_id=prog.ids["model_a"],
            title="Probed from the page",
            carries=ALL_SCOPES,
            dossier=doc,
            max_dossier_bytes=1 << 20,
        )
        submissions.transition(uow, actor=admin, submission_id=sub.id, target=SS.SUBMITTED)
        coord = prog.actors["coordinator"]
        submissions.transition(uow, actor=coord, submission_id=sub.id, target=SS.ACCEPTED)
        submissions.assign_reviewer(
            uow, actor=coord, submission_id=sub.id, reviewer_id=prog.actors["reviewer"].user_id
        )
        uow.commit()
        return sub.id


def start(client, sid: str, packs: list[str], budget: str, reuse: bool = False):
    form_page = client.get(f"/review/submissions/{sid}/probes")
    assert form_page.status_code == 200, form_page.text
    data: dict[str, Any] = {"csrf_token": csrf_of(form_page.text), "pack": packs, "budget": budget}
    if reuse:
        data["reuse"] = "yes"
    return client.post(f"/review/submissions/{sid}/probes", data=data, follow_redirects=False)


def test_a_reviewer_runs_probes_from_the_page_and_follows_the_run(client, container) -> None:
    prog = make_program(container)
    container.queue.start()
    container.queue.join()  # the program's own submissions are checked first
    with LoopbackChatServer(refuse_harm_leak_the_rest) as server:
        sid = assigned_submission(container, prog, server.base_url)
        container.queue.join()
        login(client, "reviewer@agency.test")
        sub_page = client.get(f"/review/submissions/{sid}").text
        assert f'href="/review/submissions/{sid}/probes" id="probes-link"' in sub_page

        # Bad requests are refused on the form with the reason, and start nothing.
        for packs, budget, words in (
            (["harmful"], "0", "budget: between 1"),
            (["harmful"], "many", "whole number"),
            ([], "10", "at least one pack"),
            (["../../etc/passwd"], "10", "unknown"),
        ):
            r = start(client, sid, packs, budget)
            assert r.status_code == 422 and words in r.text, (packs, budget)
        with container.uow() as uow:
            assert uow.session.scalars(select(ProbeRun)).all() == []

        container.queue.stop()  # so the run page can be seen queued, polling
        r = start(client, sid, ["harmful", "injection", "leakage"], "400", reuse=True)
        assert r.status_code == 303
        location = r.headers["location"]
        run_id = re.fullmatch(r"/review/probe-runs/(\w+)\?done=probe_started", location).group(1)
        queued = client.get(location)
        assert queued.status_code == 200 and "The probe run is started" in queued.text
        assert f'hx-get="/review/probe-runs/{run_id}/progress" hx-trigger="every 2s"' in queued.text
        assert 'data-state="queued"' in queued.text

        container.queue.start()
        container.queue.join()
        first_requests = server.stats.requests
        assert 0 < first_requests <= 400

        done = client.get(f"/review/probe-runs/{run_id}/progress")
        assert done.status_code == 200 and 'data-state="finished"' in done.text
        assert "hx-get" not in done.text  # finished: the panel stops polling
        rules = set(re.findall(r'<li data-rule="([\w.]+)">', done.text))
        # The script: harmful requests refused, injections followed, canaries and planted
        # personal data leaked.
        assert rules == {"probes.prompt_injection", "probes.leakage", "probes.personal_data"}
        assert "ZQ-CANARY-" in done.text  # a leaked canary in the evidence, for the reviewer
        assert "measured precision" in done.text

        # A second run with the same packs, reusing answers, is served by the database
        # cache: the endpoint sees no new request.
        r = start(client, sid, ["harmful", "injection", "leakage"], "400", reuse=True)
        assert r.status_code == 303
        container.queue.join()
        rerun_id = r.headers["location"].split("/")[-1].split("?")[0]
        assert server.stats.requests == first_requests
        with container.uow() as uow:
            rerun = uow.session.get(ProbeRun, rerun_id)
            assert rerun.state == "finished" and rerun.cache_hits == rerun.done > 0

    with container.uow() as uow:
        run = uow.session.get(ProbeRun, run_id)
        assert run.state == "finished" and run.done == run.planned > 0
        assert run.summary["categories"]["harmful"]["succeeded"] == 0
        assert run.summary["categories"]["harmful"]["resisted"] > 0
        [scan_run] = uow.session.scalars(select(ScanRun).where(ScanRun.subject_id == run_id)).all()
        assert (scan_run.scanner_name, scan_run.subject_kind) == ("probe-runs", "endpoint")
        assert scan_run.submission_id == sid and scan_run.verdict == "block"
        rows = uow.session.scalars(select(ScanResult).where(ScanResult.run_id == scan_run.id))
        for row in rows:  # prompts and answers are sealed: the row keeps no content
            assert row.message == "" and set(row.evidence) == {"sealed"}
        cached = uow.session.scalars(select(ProbeResponse)).all()
        assert len(cached) > 0 and all("ZQ-" not in c.sealed for c in cached)
        dump = "\n".join(
            str(r) for r in uow.session.execute(text("SELECT * FROM scan_results")).all()
        )
        assert "ZQ-CANARY-" not in dump and "PLACEHOLDER" not in dump

    # Only the reviewers assigned see the runs; the firm does not see the results.
    for email in ("other_reviewer@agency.test", "coordinator@agency.test", "admin@firm-a.test"):
        login(client, email)
        for path in (
            f"/review/submissions/{sid}/probes",
            f"/review/probe-runs/{run_id}",
            f"/review/probe-runs/{run_id}/progress",
        ):
            assert client.get(path).status_code == 403, (email, path)
    firm = auth(container, prog.actors["firm_a_admin"])
    client.cookies.clear()
    seen = client.get(f"/api/v1/submissions/{sid}/results", headers=firm)
    assert seen.status_code == 200 and "probe-runs" not in seen.text
    assert "ZQ-CANARY-" not in seen.text


def test_an_endpoint_that_answers_errors_ends_the_run_failed_not_hanging(client, container):
    prog = make_program(container)
    container.queue.start()
    container.queue.join()
    with LoopbackChatServer(lambda _: Reply(status=500, text="boom")) as server:
        sid = assigned_submission(container, prog, server.base_url)
        container.queue.join()
        login(client, "reviewer@agency.test")
        r = start(client, sid, ["leakage"], "5")
        assert r.status_code == 303
        container.queue.join()
        run_id = r.headers["location"].split("/")[-1].split("?")[0]
        page = client.get(f"/review/probe-runs/{run_id}").text
    assert 'data-state="failed"' in page and "nothing scored" in page
    assert server.stats.requests <= 5
