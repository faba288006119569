"""Severity, CVSS 4.0 vectors and taxonomy ids (ATLAS, OWASP LLM 2025, CWE), checked; pure.

The ATLAS technique ids come from MITRE's ATLAS.yaml through `scripts/atlas_techniques.py`,
stored with the package so validation reads nothing at run time from outside it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

from cvss import CVSS4
from cvss.exceptions import CVSSError

from airlock.core.errors import InvalidInput
from airlock.scanning.engine.model import Severity

MAX_VECTOR: Final = 300
MAX_IDS: Final = 20
OWASP_LLM_2025: Final[Mapping[str, str]] = {
    "LLM01": "Prompt Injection",
    "LLM02": "Sensitive Information Disclosure",
    "LLM03": "Supply Chain",
    "LLM04": "Data and Model Poisoning",
    "LLM05": "Improper Output Handling",
    "LLM06": "Excessive Agency",
    "LLM07": "System Prompt Leakage",
    "LLM08": "Vector and Embedding Weaknesses",
    "LLM09": "Misinformation",
    "LLM10": "Unbounded Consumption",
}
_OWASP = re.compile(r"^(LLM(?:0[1-9]|10)):(\d{4})$")
_CWE = re.compile(r"^CWE-([1-9]\d{0,5})$")


@dataclass(frozen=True)
class Cvss:
    """A parsed CVSS 4.0 vector, its base score and the severity word CVSS gives it."""

    vector: str
    score: float
    severity: str


@cache
def atlas_techniques() -> Mapping[str, str]:
    """ATLAS technique id -> name, as packaged."""
    text = resources.files("airlock.findings").joinpath("data/atlas_techniques.json").read_text()
    data: dict[str, dict[str, str]] = json.loads(text)
    return data["techniques"]


def check_severity(value: str) -> Severity:
    """The severity named by value, or InvalidInput naming the allowed words."""
    try:
        return Severity(value.strip().lower())
    except ValueError:
        allowed = ", ".join(s.value for s in Severity)
        raise InvalidInput(f"severity: must be one of {allowed} (got {value!r})") from None


def parse_cvss(vector: str) -> Cvss | None:
    """Parse a CVSS 4.0 vector with the `cvss` library; None for an empty one."""
    vector = vector.strip()
    if not vector:
        return None
    if len(vector) > MAX_VECTOR:
        raise InvalidInput(f"cvss_vector: must be at most {MAX_VECTOR} characters")
    if not vector.startswith("CVSS:4.0/"):
        raise InvalidInput(
            f"cvss_vector: must be a CVSS 4.0 vector starting CVSS:4.0/ (got {vector!r})"
        )
    try:
        parsed = CVSS4(vector)
    except CVSSError as exc:
        raise InvalidInput(
            f"cvss_vector: does not parse as CVSS 4.0: {exc} (got {vector!r})"
        ) from None
    return Cvss(
        vector=parsed.clean_vector(),
        score=float(parsed.base_score),
        severity=str(parsed.severity).lower(),
    )


def _ids(values: Iterable[str], field: str) -> list[str]:
    out = [v.strip() for v in values if v.strip()]
    if len(out) > MAX_IDS:
        raise InvalidInput(f"{field}: at most {MAX_IDS} ids (got {len(out)})")
    return list(dict.fromkeys(out))


def check_atlas(values: Iterable[str]) -> list[str]:
    """ATLAS technique ids that exist in the packaged matrix."""
    ids = _ids(values, "atlas")
    known = atlas_techniques()
    for i in ids:
        if i not in known:
            raise InvalidInput(f"atlas: {i!r} is not an ATLAS technique id (like AML.T0010)")
    return ids


def check_owasp_llm(values: Iterable[str]) -> list[str]:
    """OWASP Top 10 for LLM applications ids with their edition, 2025 only (LLM01:2025)."""
    ids = _ids(values, "owasp_llm")
    for i in ids:
        m = _OWASP.match(i)
        if m is None:
            raise InvalidInput(f"owasp_llm: {i!r} must be an id with its edition, like LLM01:2025")
        if m.group(2) != "2025":
            raise InvalidInput(f"owasp_llm: {i!r}: only the 2025 edition is known")
    return ids


def check_cwe(values: Iterable[str]) -> list[str]:
    """CWE ids written CWE-<number>."""
    ids = _ids(values, "cwe")
    for i in ids:
        if _CWE.match(i) is None:
            raise InvalidInput(f"cwe: {i!r} must be written like CWE-502")
    return ids


@dataclass(frozen=True)
class Classification:
    """A reviewer's judgement of a finding: severity, CVSS and taxonomy ids, all checked."""

    severity: str
    cvss_vector: str = ""
    cvss_score: float | None = None
    atlas: tuple[str, ...] = ()
    owasp_llm: tuple[str, ...] = ()
    cwe: tuple[str, ...] = ()


def classify(
    *,
    severity: str,
    cvss_vector: str = "",
    atlas: Iterable[str] = (),
    owasp_llm: Iterable[str] = (),
    cwe: Iterable[str] = (),
) -> Classification:
    """Check every field of a confirmation; InvalidInput names the first bad one."""
    sev = check_severity(severity)
    cvss = parse_cvss(cvss_vector)
    return Classification(
        severity=sev.value,
        cvss_vector=cvss.vector if cvss else "",
        cvss_score=cvss.score if cvss else None,
        atlas=tuple(check_atlas(atlas)),
        owasp_llm=tuple(check_owasp_llm(owasp_llm)),
        cwe=tuple(check_cwe(cwe)),
    )
