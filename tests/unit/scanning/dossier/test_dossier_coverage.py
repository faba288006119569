"""Safeguards coverage against the ATLAS mitigation-to-technique map, OWASP and NIST ids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airlock.scanning.dossier import catalogue, coverage

ATLAS_YAML = Path("/work/shared/data/atlas/ATLAS.yaml")


def _field(value: Any) -> dict[str, Any]:
    return {"value": value, "disclosure": "reviewer", "provenance": "self_reported"}


def _doc(
    controls: list[tuple[str, str]],
    channels: list[str] | None = None,
    uses: list[str] | None = None,
) -> dict[str, Any]:
    f: dict[str, Any] = {}
    if channels is not None:
        f["distribution_channels"] = _field(channels)
    if uses is not None:
        f["intended_uses"] = _field(uses)
    return {
        "sections": {
            "F": f,
            "H": {
                "controls": [
                    {"control_id": _field(cid), "title": _field(cid), "status": _field(status)}
                    for cid, status in controls
                ]
            },
        }
    }


def test_shipped_catalogue_is_compiled_from_the_published_atlas_yaml() -> None:
    if not ATLAS_YAML.exists():
        pytest.skip("ATLAS.yaml not available")
    assert catalogue.compile_catalogue(ATLAS_YAML) == catalogue.load_catalogue()
    atlas = catalogue.load_catalogue()["atlas"]
    assert (len(atlas["tactics"]), len(atlas["techniques"]), len(atlas["mitigations"])) == (
        16,
        170,
        35,
    )
    m0015 = next(m for m in atlas["mitigations"] if m["id"] == "AML.M0015")
    assert m0015["name"] == "Adversarial Input Detection" and "AML.T0015" in m0015["techniques"]


def test_catalogue_ids_carry_their_edition_and_nist_lists_twelve_risks() -> None:
    cat = catalogue.load_catalogue()
    assert [o["id"] for o in cat["owasp_llm_2025"]][:2] == ["LLM01:2025", "LLM02:2025"]
    assert len(cat["owasp_llm_2025"]) == 10
    assert len(cat["nist_ai_600_1"]["risks"]) == 12


def test_dossier_with_only_input_filtering_lists_uncovered_techniques_by_tactic() -> None:
    report = coverage.check_coverage(_doc([("AML.M0015", "implemented")], ["api"]))
    uncovered = {r.key for r in report.results if r.rule_id == "DOS-COV-001"}
    # the ones input filtering addresses are not reported; prompt injection and supply chain are
    atlas = catalogue.load_catalogue()["atlas"]
    m0015 = set(next(m for m in atlas["mitigations"] if m["id"] == "AML.M0015")["techniques"])
    assert not uncovered & m0015
    assert {"AML.T0051", "AML.T0010", "AML.T0024", "AML.T0054"} <= uncovered
    assert "AML.T0044" not in uncovered  # full model access needs open weights
    by_tactic = {g["name"]: g for g in report.summary["by_tactic"]}
    assert "AML.T0051" in by_tactic["Execution"]["uncovered"]
    assert by_tactic["Impact"]["covered"] >= 1
    res = next(r for r in report.results if r.key == "AML.T0051")
    assert (
        res.details["tactic_names"] == ["Execution"] and "AML.M0020" in res.details["mitigations"]
    )
    assert res.atlas == ("AML.T0051",)


def test_open_weights_and_agentic_deployments_change_what_is_relevant() -> None:
    ow = {r.key for r in coverage.check_coverage(_doc([], ["open_weights"])).results}
    assert "AML.T0044" in ow and "AML.T0040" not in ow and "AML.T0053" not in ow
    agent = coverage.check_coverage(_doc([], ["api"], ["coding agent with tool use"]))
    assert agent.summary["deployment"] == ["agentic", "api"]
    assert "AML.T0053" in {r.key for r in agent.results}


def test_planned_controls_do_not_cover_and_more_controls_cover_more() -> None:
    planned = coverage.check_coverage(_doc([("AML.M0020", "planned")], ["api"]))
    implemented = coverage.check_coverage(_doc([("AML.M0020", "implemented")], ["api"]))
    assert "AML.T0051" in {r.key for r in planned.results}
    assert "AML.T0051" not in {r.key for r in implemented.results}
    assert len(implemented.results) < len(planned.results)


def test_owasp_and_nist_ids_are_checked_and_unknown_ids_reported() -> None:
    report = coverage.check_coverage(
        _doc(
            [
                ("LLM01:2025", "implemented"),
                ("GV-1.3-002", "implemented"),
                ("GV-9.9-999", "implemented"),
                ("AML.M9999", "implemented"),
                ("LLM01", "implemented"),
                ("input filter", "implemented"),
            ],
            ["api"],
        )
    )
    declared = {d["id"]: d for d in report.summary["declared"]}
    assert declared["LLM01:2025"]["name"] == "Prompt Injection"
    assert (
        declared["GV-1.3-002"]["verified"] is True and declared["GV-9.9-999"]["verified"] is False
    )
    unknown = {r.key for r in report.results if r.rule_id == "DOS-COV-002"}
    assert unknown == {"AML.M9999", "LLM01", "input filter"}
    assert next(o for o in report.summary["owasp_llm_2025"] if o["id"] == "LLM01:2025")["declared"]


def test_no_channel_declared_assumes_every_deployment_and_garbage_does_not_crash() -> None:
    report = coverage.check_coverage({"sections": {"H": {"controls": [{"control_id": 5}, "x"]}}})
    assert report.summary["deployment"] == ["agentic", "api", "open_weights"]
    assert any(r.rule_id == "DOS-COV-002" for r in report.results)
    assert coverage.check_coverage(None).check == "coverage"
