"""Severity, CVSS 4.0 and taxonomy ids are checked against the real sources."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from cvss import CVSS4

from airlock.core.errors import InvalidInput
from airlock.findings import taxonomy

ATLAS_YAML = Path("/work/shared/data/atlas/ATLAS.yaml")


@pytest.mark.skipif(not ATLAS_YAML.exists(), reason="MITRE's ATLAS.yaml is not on this machine")
def test_the_packaged_atlas_ids_are_exactly_the_techniques_of_mitres_matrix():
    doc = yaml.safe_load(ATLAS_YAML.read_text())
    ids = {
        t["id"]
        for m in doc["matrices"]
        for t in m.get("techniques", [])
        if t.get("object-type") == "technique"
    }
    assert set(taxonomy.atlas_techniques()) == ids
    assert "AML.T0010.003" in ids


def test_a_cvss_4_vector_is_scored_by_the_cvss_library():
    vector = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    parsed = taxonomy.parse_cvss(vector)
    assert parsed is not None
    assert parsed.score == float(CVSS4(vector).base_score) == 9.3
    assert parsed.severity == "critical"
    assert taxonomy.parse_cvss("  ") is None


@pytest.mark.parametrize(
    ("vector", "message"),
    [
        ("CVSS:4.0/AV:N", "does not parse"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:Z", "does not parse"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS 4.0"),
        ("CVSS:4.0/" + "A" * 400, "at most"),
    ],
)
def test_a_cvss_vector_that_does_not_parse_is_refused_naming_it(vector, message):
    with pytest.raises(InvalidInput, match=message):
        taxonomy.parse_cvss(vector)


def test_taxonomy_ids_are_checked_and_duplicates_dropped():
    assert taxonomy.check_atlas(["AML.T0010", "AML.T0010", " "]) == ["AML.T0010"]
    assert taxonomy.check_owasp_llm(["LLM10:2025"]) == ["LLM10:2025"]
    assert taxonomy.check_cwe(["CWE-502"]) == ["CWE-502"]
    for bad, check in [
        (["AML.T0010.999"], taxonomy.check_atlas),
        (["LLM11:2025"], taxonomy.check_owasp_llm),
        (["LLM01:2023"], taxonomy.check_owasp_llm),
        (["CWE-0"], taxonomy.check_cwe),
        ([f"CWE-{i}" for i in range(1, 30)], taxonomy.check_cwe),
    ]:
        with pytest.raises(InvalidInput):
            check(bad)
    with pytest.raises(InvalidInput, match="severity: must be one of"):
        taxonomy.check_severity("severe")
