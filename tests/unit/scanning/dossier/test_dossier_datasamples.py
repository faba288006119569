"""Training-data samples: planted personal data and secrets are found, counted, never echoed."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from airlock.scanning.dossier import datasamples
from airlock.scanning.dossier.detectors import Detector, Hit, luhn_ok, redact

EMAILS = ["jane.doe@example.com", "r.smith+ml@corp.example.org", "zhang.wei@mail.example.cn"]
CARDS = ["4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005"]
AWS_KEY = "AKIAQ3EGRTYUXMPL7ZVB"
IBAN = "DE89 3704 0044 0532 0130 00"
PHONE = "+1 415-555-0132"
SSN = "123-45-6789"
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq\n-----END RSA PRIVATE KEY-----"


def _field(value: Any) -> dict[str, Any]:
    return {"value": value, "disclosure": "reviewer", "provenance": "self_reported"}


def _jsonl(path: Path, n: int = 500) -> list[str]:
    rng = random.Random(7)
    words = ["the", "model", "learns", "from", "text", "about"]
    words += ["weather", "cooking", "music", "travel", "history"]
    planted = [*EMAILS, *CARDS, AWS_KEY, IBAN, PHONE, SSN]
    rows = []
    for i in range(n):
        text = " ".join(rng.choice(words) for _ in range(20))
        row: dict[str, Any] = {"id": i, "text": text, "meta": {"lang": "en"}}
        if i % 50 == 7:
            row["text"] += f" contact {planted[(i // 50) % len(planted)]} now"
        rows.append(row)
    rows.append(
        {"id": n, "config": f'aws_access_key_id = "{AWS_KEY}"', "nested": [{"card": CARDS[0]}]}
    )
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return planted


def test_planted_emails_cards_and_aws_key_are_found_and_no_raw_value_is_reported(
    tmp_path: Path,
) -> None:
    sample = tmp_path / "sample.jsonl"
    planted = _jsonl(sample)
    report = datasamples.check_datasamples([sample], None, root=tmp_path)
    [rep] = report.summary["samples"]
    personal, secrets = rep["counts"]["personal_data"], rep["counts"]["secret"]
    assert personal["email"] == 3
    assert personal["card_number"] == 4  # three planted in text, one nested
    assert personal["iban"] == 1 and personal["phone_number"] == 1 and personal["us_ssn"] == 1
    assert secrets["aws_access_key"] == 2
    assert rep["rows"] == 501
    assert any("row 502" not in e and "field text" in e for e in rep["examples"]["email"])
    rendered = json.dumps(report.to_dict())
    for value in [
        *planted,
        *(c.replace(" ", "").replace("-", "") for c in CARDS),
        "jane.doe",
        "example.com",
    ]:
        assert value not in rendered
    rules = {r.rule_id for r in report.results}
    assert rules == {"DOS-DAT-001", "DOS-DAT-002"}


def test_clean_text_gives_no_results(tmp_path: Path) -> None:
    sample = tmp_path / "clean.txt"
    sample.write_text("On 2024-03-01 the order 12345678 shipped; total 1,234.56 USD.\n" * 200)
    report = datasamples.check_datasamples([sample], None)
    assert report.results == ()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_csv_and_parquet_samples_name_row_and_column(fmt: str, tmp_path: Path) -> None:
    rows = [{"name": "a", "contact": "nobody"}, {"name": "b", "contact": f"mail {EMAILS[0]}"}]
    if fmt == "csv":
        path = tmp_path / "s.csv"
        path.write_text(
            "name,contact\n" + "\n".join(f"{r['name']},{r['contact']}" for r in rows) + "\n"
        )
        expect = "row 3 column contact"
    else:
        pa = pytest.importorskip("pyarrow")
        import pyarrow.parquet as pq

        path = tmp_path / "s.parquet"
        pq.write_table(pa.Table.from_pylist([{**r, "n": 1} for r in rows]), path)
        expect = "row 2 column contact"
    rep = datasamples.scan_sample(path)
    assert rep.counts["personal_data"] == {"email": 1}
    assert rep.examples["email"][0].startswith(expect)


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        (b"\x00\x01\x02\x03binary\x00" * 100, "binary"),
        ("contact jane.doe@example.com\n".encode("utf-16"), None),
        ("contact jane.doe@example.com\n".encode("utf-16-le"), None),
        ("café jane.doe@example.com\n".encode("latin-1") + b"\xe9" * 20, "Latin-1"),
    ],
)
def test_binary_and_other_encodings_are_handled(
    content: bytes, expect: str | None, tmp_path: Path
) -> None:
    path = tmp_path / "s.txt"
    path.write_bytes(content)
    rep = datasamples.scan_sample(path)
    if expect == "binary":
        assert rep.counts["personal_data"] == {} and "binary" in rep.problems[0]
    else:
        assert rep.counts["personal_data"] == {"email": 1}
        if expect:
            assert any(expect in p for p in rep.problems)


def test_limits_stop_enormous_samples_and_long_lines(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_text('{"t": "x"}\n' * 5000 + '{"t": "' + "y" * 5000 + '"}\n')
    rep = datasamples.scan_sample(path, limits=datasamples.SampleLimits(max_rows=100))
    assert rep.rows == 100 and any("100 rows" in p for p in rep.problems)
    rep = datasamples.scan_sample(path, limits=datasamples.SampleLimits(max_line=1000))
    assert any("longer than 1000" in p for p in rep.problems)
    rep = datasamples.scan_sample(path, limits=datasamples.SampleLimits(max_bytes=10_000))
    assert any("bytes (limit)" in p for p in rep.problems)


def test_broken_rows_and_bad_parquet_do_not_crash(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(
        '{"t": "ok"}\n{broken jane.doe@example.com\n' + "[" * 100000 + "\n"
    )
    (tmp_path / "b.parquet").write_bytes(b"PAR1 not really")
    (tmp_path / "c.csv").write_text('a,"unterminated\n' * 3)
    report = datasamples.check_datasamples(datasamples.find_samples(tmp_path), None, root=tmp_path)
    by_path = {s["path"]: s for s in report.summary["samples"]}
    assert by_path["a.jsonl"]["counts"]["personal_data"] == {"email": 1}
    assert "not valid JSON" in by_path["a.jsonl"]["problems"][0]
    assert "Parquet is not readable" in by_path["b.parquet"]["problems"][0]


def test_datasets_without_licence_or_provenance_and_contradicted_declarations(
    tmp_path: Path,
) -> None:
    doc = {
        "sections": {
            "E": {
                "datasets": [
                    {
                        "name": _field("web"),
                        "provenance": _field("web_crawl"),
                        "licence": _field("CC-BY-4.0"),
                        "personal_data": _field("none_known"),
                    },
                    {"name": _field("mystery")},
                ]
            }
        }
    }
    sample = tmp_path / "s.txt"
    sample.write_text(f"write to {EMAILS[1]}\n")
    report = datasamples.check_datasamples([sample], doc, root=tmp_path)
    by_rule: dict[str, list[Any]] = {}
    for r in report.results:
        by_rule.setdefault(r.rule_id, []).append(r)
    assert [r.location for r in by_rule["DOS-DAT-003"]] == ["sections.E.datasets.1.licence"]
    assert [r.location for r in by_rule["DOS-DAT-004"]] == ["sections.E.datasets.1.provenance"]
    assert by_rule["DOS-DAT-001"][0].severity == "high"


def test_detectors_validate_checksums_and_redact_every_kind() -> None:
    det = Detector()
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert not list(det.scan("card 4111 1111 1111 1112"))  # fails Luhn
    assert not list(det.scan("iban DE89 3704 0044 0532 0130 01"))  # fails mod-97
    hits = list(det.scan(f"{PRIVATE_KEY} ghp_{'a1B2' * 9} {IBAN} 12345678Z"))
    kinds = {h.kind for h in hits}
    assert {"private_key", "github_token", "iban", "es_dni"} <= kinds
    for h in hits:
        assert h.value not in redact(h)
    assert redact(Hit("secret", "aws_access_key", AWS_KEY)).startswith("AKIA********")


def test_croissant_manifests_without_licence_or_provenance_are_results(tmp_path: Path) -> None:
    from airlock.scanning.dossier import manifests

    good = {
        "@context": {"cr": "http://mlcommons.org/croissant/"},
        "name": "ok",
        "conformsTo": "http://mlcommons.org/croissant/1.0",
        "license": "CC-BY-4.0",
        "distribution": [{"@type": "cr:FileObject", "contentUrl": "https://example.org/a"}],
    }
    bare = {"conformsTo": "http://mlcommons.org/croissant/1.0", "name": "bare"}
    (tmp_path / "ok.croissant.json").write_text(json.dumps(good))
    (tmp_path / "bare.croissant.json").write_text(json.dumps(bare))
    (tmp_path / "broken-croissant.json").write_text("{")
    (tmp_path / "config.json").write_text(json.dumps(bare))  # not a manifest by name
    found = manifests.find_manifests(tmp_path)
    assert [p.name for p in found] == [
        "bare.croissant.json",
        "broken-croissant.json",
        "ok.croissant.json",
    ]
    report = datasamples.check_datasamples([], None, root=tmp_path, manifests=found)
    got = sorted((r.rule_id, r.location) for r in report.results)
    assert got == [
        ("DOS-DAT-003", "bare.croissant.json"),
        ("DOS-DAT-004", "bare.croissant.json"),
        ("DOS-DAT-005", "broken-croissant.json"),
    ]
