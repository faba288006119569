"""Advisories: publication needs consent or the end of the disclosure deadline and no embargo;
CSAF 2.0 validates against the schema (interim, then final) with stable ids; AVID report."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource
from sqlalchemy import select

from airlock.cases import deadlines
from airlock.cases import service as cases
from airlock.cases.rules import EmbargoState, Phase
from airlock.core.db import utcnow
from airlock.core.errors import Conflict, InvalidInput, InvalidTransition
from airlock.publishing import advisories, advisories_export
from airlock.publishing.advisories_models import Advisory
from airlock.publishing.advisories_rules import AdvisoryState as A
from tests.factories.cases import open_case_with_findings
from tests.factories.program import make_program

SCHEMAS = Path("/work/shared/data/schemas/csaf-2.0")


def csaf_validator() -> jsonschema.Draft202012Validator:
    """The CSAF 2.0 schema with the CVSS schemas it refers to, all read from local files."""
    resources = []
    for name in ("cvss-v2.0.json", "cvss-v3.0.json", "cvss-v3.1.json"):
        doc = json.loads((SCHEMAS / name).read_text())
        resources.append((f"https://www.first.org/cvss/{name}", Resource.from_contents(doc)))
    registry = Registry().with_resources(resources)
    schema = json.loads((SCHEMAS / "csaf_json_schema.json").read_text())
    return jsonschema.Draft202012Validator(
        schema, registry=registry, format_checker=jsonschema.FormatChecker()
    )


def assert_valid_csaf(doc: dict) -> None:
    errors = sorted(csaf_validator().iter_errors(doc), key=lambda e: list(e.path))
    assert errors == [], [f"{list(e.path)}: {e.message}" for e in errors]


@pytest.fixture
def world(container):
    prog = make_program(container)
    ids = open_case_with_findings(container, prog, severities=("critical",))
    with container.uow() as uow:
        adv = advisories.draft(
            uow,
            actor=prog.actors["coordinator"],
            case_id=ids.case_id,
            title="Code execution on load in Model a",
            summary="A pickle in the weights ran code.",
            vulnerabilities={
                ids.findings[0]: {"cwe": "CWE-502", "remediation": "Use safetensors."}
            },
        )
        uow.commit()
    return prog, ids, adv.id


def _walk_to_approved(container, coord, adv_id):
    with container.uow() as uow:
        advisories.move(uow, actor=coord, advisory_id=adv_id, target=A.IN_REVIEW)
        advisories.move(uow, actor=coord, advisory_id=adv_id, target=A.APPROVED)
        uow.commit()


def test_a_draft_exports_as_valid_interim_csaf(container, world):
    prog, _, adv_id = world
    with container.uow() as uow:
        doc = advisories_export.csaf(uow, actor=prog.actors["coordinator"], advisory_id=adv_id)
    assert_valid_csaf(doc)
    assert doc["document"]["tracking"]["status"] == "interim"
    assert doc["document"]["category"] == "csaf_security_advisory"
    assert doc["vulnerabilities"][0]["cwe"]["id"] == "CWE-502"


def test_publishing_without_consent_before_the_disclosure_deadline_is_refused(container, world):
    prog, _, adv_id = world
    coord = prog.actors["coordinator"]
    _walk_to_approved(container, coord, adv_id)
    with (
        container.uow() as uow,
        pytest.raises(Conflict, match="consent or the end of the disclosure"),
    ):
        advisories.move(uow, actor=coord, advisory_id=adv_id, target=A.PUBLISHED)
    with container.uow() as uow:
        assert uow.session.get(Advisory, adv_id).state == "approved"


def test_publishing_under_an_active_embargo_is_refused_even_with_consent(container, world):
    prog, ids, adv_id = world
    coord = prog.actors["coordinator"]
    _walk_to_approved(container, coord, adv_id)
    with container.uow() as uow:
        cases.record_consent(uow, actor=prog.actors["firm_a_admin"], case_id=ids.case_id)
        cases.move_embargo(
            uow,
            actor=coord,
            case_id=ids.case_id,
            target=EmbargoState.PROPOSED,
            ends_at=utcnow() + timedelta(days=9),
        )
        cases.move_embargo(uow, actor=coord, case_id=ids.case_id, target=EmbargoState.ACTIVE)
        uow.commit()
    with container.uow() as uow, pytest.raises(Conflict, match="active embargo"):
        advisories.move(uow, actor=coord, advisory_id=adv_id, target=A.PUBLISHED)
    with container.uow() as uow, pytest.raises(Conflict, match="under embargo; nothing about it"):
        advisories_export.csaf(uow, actor=coord, advisory_id=adv_id)
    with container.uow() as uow:
        assert uow.session.get(Advisory, adv_id).state == "approved"


def test_the_end_of_the_disclosure_deadline_allows_publication_without_consent(container, world):
    prog, ids, adv_id = world
    coord = prog.actors["coordinator"]
    _walk_to_approved(container, coord, adv_id)
    with container.uow() as uow:
        case = cases.get_case(uow, actor=coord, case_id=ids.case_id)
        deadlines.start_phase(
            uow,
            case=case,
            finding_id=ids.findings[0],
            severity="critical",
            phase=Phase.DISCLOSURE,
            at=utcnow() - timedelta(days=91),
        )
        advisories.move(uow, actor=coord, advisory_id=adv_id, target=A.PUBLISHED)
        uow.commit()


def test_published_csaf_is_final_and_keeps_its_ids_across_revisions(container, world):
    prog, ids, adv_id = world
    coord = prog.actors["coordinator"]
    _walk_to_approved(container, coord, adv_id)
    with container.uow() as uow:
        cases.record_consent(uow, actor=prog.actors["firm_a_admin"], case_id=ids.case_id)
        advisories.move(uow, actor=coord, advisory_id=adv_id, target=A.PUBLISHED)
        uow.commit()
    with container.uow() as uow:
        first = advisories_export.csaf(uow, actor=coord, advisory_id=adv_id)
        advisories.revise(
            uow,
            actor=coord,
            advisory_id=adv_id,
            title="Code execution on load",
            summary="Fixed in the next release.",
            change="Fix released",
            vulnerabilities={ids.findings[0]: {"fixed": True, "cwe": "CWE-502"}},
        )
        uow.commit()
    with container.uow() as uow:
        second = advisories_export.csaf(uow, actor=coord, advisory_id=adv_id)
        assert uow.session.get(Advisory, adv_id).state == "updated"
    for doc in (first, second):
        assert_valid_csaf(doc)
        assert doc["document"]["tracking"]["status"] == "final"
    t1, t2 = first["document"]["tracking"], second["document"]["tracking"]
    assert t1["id"] == t2["id"] and (t1["version"], t2["version"]) == ("1", "2")
    assert [r["number"] for r in t2["revision_history"]] == ["1", "2"]

    def pid(doc: dict) -> str:
        return doc["product_tree"]["branches"][0]["branches"][0]["branches"][0]["product"][
            "product_id"
        ]

    assert pid(first) == pid(second)
    assert first["vulnerabilities"][0]["product_status"] == {"known_affected": [pid(first)]}
    assert second["vulnerabilities"][0]["product_status"] == {"fixed": [pid(first)]}


def test_an_avid_report_names_the_model_and_the_tracking_id(container, world):
    prog, _, adv_id = world
    with container.uow() as uow:
        report = advisories_export.avid(uow, actor=prog.actors["coordinator"], advisory_id=adv_id)
        tracking = uow.session.get(Advisory, adv_id).tracking_id
    assert report["data_type"] == "AVID" and report["metadata"]["report_id"] == tracking
    assert report["affects"]["artifacts"][0]["type"] == "Model"
    assert report["affects"]["developer"] == ["Firm A"]


def test_bad_advisory_input_and_illegal_moves_are_refused_and_write_nothing(container, world):
    prog, ids, adv_id = world
    coord = prog.actors["coordinator"]
    with container.uow() as uow, pytest.raises(InvalidTransition, match="from draft to published"):
        advisories.move(uow, actor=coord, advisory_id=adv_id, target=A.PUBLISHED)
    with container.uow() as uow, pytest.raises(InvalidInput, match="cwe: must look like CWE-502"):
        advisories.draft(
            uow,
            actor=coord,
            case_id=ids.case_id,
            title="t",
            summary="s",
            vulnerabilities={ids.findings[0]: {"cwe": "502"}},
        )
    with container.uow() as uow, pytest.raises(InvalidInput, match="title: must not be empty"):
        advisories.draft(uow, actor=coord, case_id=ids.case_id, title=" ", summary="s")
    with container.uow() as uow:
        assert len(uow.session.scalars(select(Advisory)).all()) == 1


def test_the_schema_check_catches_a_broken_document(container, world):
    prog, _, adv_id = world
    with container.uow() as uow:
        doc = advisories_export.csaf(uow, actor=prog.actors["coordinator"], advisory_id=adv_id)
    doc["document"]["tracking"]["status"] = "embargoed"
    del doc["document"]["publisher"]["namespace"]
    messages = [e.message for e in csaf_validator().iter_errors(doc)]
    assert any("embargoed" in m for m in messages) and any("namespace" in m for m in messages)


def _cli(container, *args: str):
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "AIRLOCK_DEV": "1",
        "AIRLOCK_DATABASE_URL": container.settings.resolved_database_url(),
        "AIRLOCK_DATA_DIR": str(container.settings.data_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "airlock.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_airlock_advisory_export_prints_csaf_and_avid_and_names_a_bad_user(container, world):
    _, _, adv_id = world
    csaf = _cli(container, "advisory", "export", adv_id, "--as", "coordinator@agency.test")
    assert csaf.returncode == 0, csaf.stderr
    assert_valid_csaf(json.loads(csaf.stdout))
    avid = _cli(
        container,
        "advisory",
        "export",
        adv_id,
        "--format",
        "avid",
        "--as",
        "coordinator@agency.test",
    )
    assert avid.returncode == 0 and json.loads(avid.stdout)["data_type"] == "AVID"
    bad = _cli(container, "advisory", "export", adv_id, "--as", "admin@firm-a.test")
    assert bad.returncode == 1 and "may not do this (advisory.read)" in " ".join(bad.stderr.split())
