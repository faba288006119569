"""Reading registries of known models: Epoch AI's real file, drifted columns, bad input."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest

from airlock.coverage.known_models import (
    ImportLimits,
    RegistryFileInvalid,
    map_columns,
    parse_day,
    parse_figure,
    read_registry,
    read_registry_bytes,
    source_key,
)
from airlock.coverage.rules import Confidence

EPOCH = Path(__file__).parents[4] / "shared" / "data" / "epoch" / "notable_ai_models_2025-02-24.csv"
if not EPOCH.exists():  # a worktree beside the project folder
    EPOCH = Path(__file__).resolve().parents[4].parent / "shared" / "data" / "epoch" / EPOCH.name


def _epoch_rows() -> list[dict[str, str]]:
    with EPOCH.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_the_epoch_release_imports_with_every_figure_it_states() -> None:
    rows = _epoch_rows()
    with EPOCH.open(encoding="utf-8") as fh:
        result = read_registry(fh)
    assert result.columns["name"] == "Model"
    assert result.columns["training_flop"] == "Training compute (FLOP)"
    assert result.columns["organisation"] == "Organization"
    keys = {source_key(r["Model"], r["Organization"]) for r in rows if r["Model"].strip()}
    # every distinct model becomes a record; repeats are reported, not silently merged
    assert len(result.records) == len(keys)
    assert len(result.records) + sum("repeats" in p.message for p in result.problems) == len(
        [r for r in rows if r["Model"].strip()]
    )
    stated = sum(1 for r in rows if r["Training compute (FLOP)"].strip())
    parsed = sum(1 for r in result.records if r.training_flop is not None)
    assert parsed >= stated - sum("repeats" in p.message for p in result.problems)
    grok = next(r for r in result.records if r.name == "Grok-3")
    assert grok.training_flop == pytest.approx(4.64e26)
    assert grok.published_on == date(2025, 2, 17)
    assert grok.confidence is Confidence.CONFIDENT
    frontier = {
        source_key(r["Model"], r["Organization"]) for r in rows if r["Frontier model"] == "True"
    }
    assert frontier and {r.source_key for r in result.records if r.frontier} == frontier
    assert not [p for p in result.problems if p.column == "training_flop"]


def test_renamed_and_reordered_columns_of_a_later_release_are_found() -> None:
    rows = _epoch_rows()[:40]
    drifted = io.StringIO()
    names = {
        "Model": "Model name",
        "Organization": "Organisation(s)",
        "Training compute (FLOP)": "Training compute",
        "Publication date": "Release date",
        "Confidence": "Compute confidence",
    }
    order = list(reversed(list(rows[0].keys())))
    writer = csv.writer(drifted)
    writer.writerow([names.get(col, col) for col in order])
    for row in rows:
        writer.writerow([row[col] for col in order])
    drifted.seek(0)
    result = read_registry(drifted)
    with EPOCH.open(encoding="utf-8") as fh:
        original = read_registry(fh)
    assert result.columns["organisation"] == "Organisation(s)"
    first = {r.source_key: r for r in original.records}
    for record in result.records:
        same = first[record.source_key]
        assert (record.training_flop, record.published_on, record.confidence) == (
            same.training_flop,
            same.published_on,
            same.confidence,
        )


def test_a_byte_order_mark_on_the_first_header_does_not_hide_it() -> None:
    result = read_registry(io.StringIO("\ufeffModel,Organization\nA,B\n"))
    assert [r.name for r in result.records] == ["A"]


def test_a_file_without_a_name_column_is_refused_with_the_headers_it_has() -> None:
    with pytest.raises(RegistryFileInvalid, match=r"no column for name.*'Title'"):
        read_registry(io.StringIO("Title,Compute\nA,1e20\n"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("Model\n" + "x\n" * 11, "more than 10 rows"),
        ("a," * 20 + "Model\n", "columns"),
    ],
)
def test_bounds_refuse_the_whole_file(text: str, message: str) -> None:
    limits = ImportLimits(max_rows=10, max_columns=15)
    with pytest.raises(RegistryFileInvalid, match=message):
        read_registry(io.StringIO(text), limits=limits)


def test_a_file_larger_than_the_limit_is_refused() -> None:
    with pytest.raises(RegistryFileInvalid, match="larger than"):
        read_registry(io.StringIO("Model\n" + "x" * 100), limits=ImportLimits(max_bytes=50))


def test_an_overlong_field_is_refused_not_read() -> None:
    text = 'Model,Notes\nA,"' + "n" * 500 + '"\n'
    with pytest.raises(RegistryFileInvalid, match="line"):
        read_registry(io.StringIO(text), limits=ImportLimits(max_field_chars=100))


def test_bad_values_are_reported_per_row_and_the_rest_imports() -> None:
    text = (
        "Model,Organization,Training compute (FLOP),Publication date,Parameters\n"
        "Good,Lab,1.5e+25,2024-05-01,7e9\n"
        "Words,Lab,about 1e25 FLOP,May 2024,-3\n"
        ",Lab,1e20,2024-01-01,1\n"
        "Inf,Lab,inf,2024,1\n"
    )
    result = read_registry(io.StringIO(text))
    assert [r.name for r in result.records] == ["Good", "Words", "Inf"]
    words = result.records[1]
    assert words.training_flop is None and words.published_on is None and words.parameters is None
    assert result.records[2].published_on == date(2024, 1, 1)
    messages = [(p.line, p.column) for p in result.problems]
    assert (3, "training_flop") in messages and (3, "published_on") in messages
    assert (
        (3, "parameters") in messages
        and (4, "name") in messages
        and (5, "training_flop") in messages
    )


@pytest.mark.parametrize(
    ("text", "value"), [("4.64e+26", 4.64e26), ("1,000", 1000.0), ("  ", None), ("0", 0.0)]
)
def test_figures(text: str, value: float | None) -> None:
    assert parse_figure(text) == value


@pytest.mark.parametrize("text", ["1e400", "nan", "-1", "1e25 FLOP", "9" * 50])
def test_figures_that_are_not_figures(text: str) -> None:
    with pytest.raises(ValueError):
        parse_figure(text)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2024-05-17", date(2024, 5, 17)),
        ("2024-05", date(2024, 5, 1)),
        ("2024", date(2024, 1, 1)),
        ("2024-05-17T10:00:00", date(2024, 5, 17)),
    ],
)
def test_days(text: str, day: date) -> None:
    assert parse_day(text) == day


@pytest.mark.parametrize("text", ["May 2024", "2024-13-01", "2024-02-30", "17/05/2024"])
def test_days_that_are_not_days(text: str) -> None:
    with pytest.raises(ValueError):
        parse_day(text)


def test_source_keys_survive_spelling_changes_of_case_and_punctuation() -> None:
    assert source_key("GPT-4o", "OpenAI") == source_key("gpt 4o", "openai")
    assert source_key("GPT-4o", "OpenAI") != source_key("GPT-4", "OpenAI")
    assert source_key("Llama 3.1 405B", "Meta AI") == source_key("llama-3.1-405b", "meta ai")


def test_map_columns_prefers_the_first_alias() -> None:
    found = map_columns(["Model", "System", "Organization"])
    assert found["name"] == "Model"


@pytest.mark.parametrize(
    ("text", "value"),
    [("~1e25", 1e25), ("1.2e25 (est.)", 1.2e25), ("about 3e24", 3e24), ("≈ 2e23", 2e23)],
)
def test_hedged_figures_are_read_with_a_warning_naming_row_and_column(
    text: str, value: float
) -> None:
    result = read_registry(io.StringIO(f'Model,Training compute (FLOP)\nA,"{text}"\n'))
    assert result.records[0].training_flop == pytest.approx(value)
    assert [(p.line, p.column) for p in result.problems] == [(2, "training_flop")]
    assert "approximate" in result.problems[0].message


def test_a_bound_is_not_taken_for_a_figure() -> None:
    result = read_registry(io.StringIO("Model,Training compute (FLOP)\nA,<1e23\n"))
    assert result.records[0].training_flop is None
    assert "bound" in result.problems[0].message


def test_unknown_and_missing_columns_are_reported_not_fatal() -> None:
    result = read_registry(io.StringIO("Model,Shoe size,Training compute (FLOP)\nA,42,1e20\n"))
    assert result.unknown_columns == ["Shoe size"]
    assert (
        "organisation" in result.missing_columns and "training_flop" not in result.missing_columns
    )
    assert result.records[0].organisation == ""


def test_latin1_and_bom_files_are_read_and_say_how() -> None:
    latin = "Model,Organization\nCafé model,Société\n".encode("latin-1")
    result = read_registry_bytes(latin)
    assert result.records[0].organisation == "Société" and result.encoding == "cp1252"
    bom = "\ufeffModel,Organization\nA,B\n".encode("utf-8")
    result = read_registry_bytes(bom)
    assert result.columns["name"] == "Model" and result.encoding == "utf-8"


def test_a_binary_file_is_refused() -> None:
    with pytest.raises(RegistryFileInvalid, match="binary"):
        read_registry_bytes(b"PK\x03\x04\x00\x00binary")


def test_missing_compute_is_estimated_from_parameters_and_data_and_marked() -> None:
    text = (
        "Model,Parameters,Training dataset size (datapoints),Training compute (FLOP),Confidence\n"
        "Est,7e9,2e12,,Confident\nStated,7e9,2e12,9e22,Confident\n"
    )
    estimated, stated = read_registry(io.StringIO(text)).records
    assert estimated.training_flop == pytest.approx(6 * 7e9 * 2e12)
    assert estimated.training_flop_estimated and estimated.confidence is Confidence.UNKNOWN
    assert stated.training_flop == 9e22 and not stated.training_flop_estimated


def test_repeated_models_name_the_row_they_repeat() -> None:
    result = read_registry(io.StringIO("Model,Organization\nA,B\nA,B\n"))
    assert len(result.records) == 1
    assert result.problems[0].line == 3 and "row 2" in result.problems[0].message


def _independent_counts(threshold: float) -> tuple[int, int, int]:
    """Count the Epoch file's models surely and possibly above a threshold with csv and plain
    arithmetic: a stated figure spreads by 3, 10 or 30 times for Confident, Likely and
    Speculative (30 for anything else); a missing one is 6 x parameters x datapoints, spread 30."""
    spread = {"Confident": 3.0, "Likely": 10.0, "Speculative": 30.0}
    seen: set[tuple[str, str]] = set()
    sure = stated = possible = 0
    for row in _epoch_rows():
        name = row["Model"].strip()
        key = (
            "".join(ch for ch in name.lower() if ch.isalnum()),
            "".join(ch for ch in row["Organization"].lower() if ch.isalnum()),
        )
        if not name or key in seen:
            continue
        seen.add(key)
        try:
            flop = float(row["Training compute (FLOP)"])
            factor = spread.get(row["Confidence"].strip(), 30.0)
        except ValueError:
            try:
                flop = (
                    6 * float(row["Parameters"]) * float(row["Training dataset size (datapoints)"])
                )
            except ValueError:
                continue
            factor = 30.0
        sure += flop / factor >= threshold
        stated += flop >= threshold
        possible += flop * factor >= threshold
    return sure, stated, possible


@pytest.mark.parametrize("threshold", [1e23, 1e25, 1e26])
def test_epoch_counts_per_threshold_match_an_independent_count(threshold: float) -> None:
    from airlock.coverage.rules import KnownModelFacts, coverage_table, flop_range

    with EPOCH.open("rb") as fh:
        result = read_registry_bytes(fh.read())
    table = coverage_table(
        KnownModelFacts(
            key=r.source_key,
            published_on=r.published_on,
            flops=flop_range(r.training_flop, r.confidence),
            shared=False,
        )
        for r in result.records
    )
    total = table.totals[threshold]
    assert (total.known_low, total.known_central, total.known_high) == _independent_counts(
        threshold
    )
