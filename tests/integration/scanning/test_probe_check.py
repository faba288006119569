"""The behavioural probes as a registered check: disabled by default, so submitting sends
nothing; once an admin enables it, the endpoint the dossier declares is probed and every
attack category the model fails becomes a scan result on the endpoint subject."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select

from airlock.scanning import service as scanning
from airlock.scanning.models import ScanResult, ScanRun
from airlock.submissions import service as submissions
from airlock.submissions.rules import SubmissionState as SS
from tests.factories.program import ALL_SCOPES, example, make_program
from tests.support.openai_loopback import LoopbackChatServer, Reply

CHECK = "behavioural-probes"


def echo_everything(request: dict[str, Any]) -> Reply:
    """A model that repeats its whole conversation: it leaks every planted secret."""
    return Reply(text="\n".join(str(m.get("content", "")) for m in request["messages"]))


def _submit_with_endpoint(container, prog, base_url: str) -> str:
    doc = copy.deepcopy(example("full"))
    doc["sections"]["G"]["eval_endpoint"]["base_url"]["value"] = base_url
    with container.uow() as uow:
        admin = prog.actors["firm_b_admin"]
        sub = submissions.create_submission(
            uow,
            actor=admin,
            model_id=prog.ids["model_b"],
            title="Probed",
            carries=ALL_SCOPES,
            dossier=doc,
            max_dossier_bytes=1 << 20,
        )
        submissions.transition(uow, actor=admin, submission_id=sub.id, target=SS.SUBMITTED)
        uow.commit()
        return sub.id


def _runs(container) -> list[ScanRun]:
    with container.uow() as uow:
        return list(uow.session.scalars(select(ScanRun).where(ScanRun.scanner_name == CHECK)))


def test_the_probe_check_is_disabled_by_default_and_sends_nothing(container):
    prog = make_program(container)
    with LoopbackChatServer(echo_everything) as server:
        _submit_with_endpoint(container, prog, server.base_url)
        container.queue.start()
        container.queue.join()
        assert server.stats.requests == 0
    assert _runs(container) == []
    with container.uow() as uow:
        assert scanning.state_of(uow, name=CHECK) == "disabled"


def test_an_enabled_probe_check_records_the_categories_a_leaky_endpoint_fails(container):
    prog = make_program(container)
    container.queue.start()
    container.queue.join()  # the program's own submissions are planned while it is disabled
    with container.uow() as uow:
        scanning.set_scanner_state(
            uow, actor=prog.actors["agency_admin"], name=CHECK, state="evaluation"
        )
        uow.commit()
    with LoopbackChatServer(echo_everything) as server:
        sid = _submit_with_endpoint(container, prog, server.base_url)
        container.queue.join()
        assert server.stats.requests > 0

    # Only the submission that declares a reachable endpoint was submitted after enabling.
    [run] = _runs(container)
    assert (run.subject_kind, run.subject_id, run.artifact_id) == ("endpoint", sid, None)
    assert run.verdict == "block" and run.error == ""
    with container.uow() as uow:
        rows = list(uow.session.scalars(select(ScanResult).where(ScanResult.run_id == run.id)))
        assert all(set(r.evidence) == {"sealed"} for r in rows)  # sealed under the firm's key
        results = {r.rule_id: r for r in scanning.opened_results(uow, rows)}
    assert {"probes.leakage", "probes.prompt_injection"} <= set(results)
    leak = results["probes.leakage"]
    assert leak.verdict == "block" and leak.evidence["succeeded"] > 0
    assert "over_refusal" not in {r.evidence["category"] for r in results.values()}
