"""Compute estimates: 6·N·D and hardware against Epoch AI's public figures, ranges, thresholds."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from airlock.scanning.dossier import compute

EPOCH_CSV = Path("/work/shared/data/epoch/notable_ai_models_2025-02-24.csv")
# Epoch's documentation rates a "Confident" compute figure as accurate to within a factor of 3.
CONFIDENT_FACTOR = 3.0


def _epoch_rows() -> dict[str, dict[str, str]]:
    if not EPOCH_CSV.exists():
        pytest.skip(f"Epoch data not available at {EPOCH_CSV}")
    with EPOCH_CSV.open(newline="", encoding="utf-8") as fh:
        return {row["Model"]: row for row in csv.DictReader(fh)}


def _field(value: Any, provenance: str = "self_reported") -> dict[str, Any]:
    return {"value": value, "disclosure": "reviewer", "provenance": provenance}


@pytest.mark.parametrize("model", ["Llama 2-70B", "LLaMA-65B", "Qwen2.5-72B"])
def test_six_n_d_for_public_models_falls_within_epochs_stated_range(model: str) -> None:
    row = _epoch_rows()[model]
    assert row["Confidence"] == "Confident"
    params = float(row["Parameters"])
    tokens = float(row["Training dataset size (datapoints)"]) * float(row["Epochs"] or 1)
    stated = float(row["Training compute (FLOP)"])
    doc = {
        "sections": {
            "C": {"parameters_total": _field(int(params))},
            "D": {"training_tokens": _field(int(tokens))},
        }
    }
    report = compute.check_compute(doc)
    central = report.summary["range"]["central"]
    assert central == pytest.approx(6 * params * tokens)
    assert stated / CONFIDENT_FACTOR <= central <= stated * CONFIDENT_FACTOR


def test_hardware_estimate_for_llama_3_1_405b_uses_the_accelerator_table() -> None:
    row = _epoch_rows()["Llama 3.1-405B"]
    acc = compute.find_accelerator(row["Training hardware"])
    assert acc is not None and acc.name == "NVIDIA H100 SXM" and acc.source
    flop = compute.hardware_flop(
        float(row["Hardware quantity"]),
        float(row["Training time (hours)"]),
        acc.peak_flop_per_second,
        float(row["Hardware utilization"]),
    )
    stated = float(row["Training compute (FLOP)"])
    assert stated / CONFIDENT_FACTOR <= flop <= stated * CONFIDENT_FACTOR


def test_mixture_of_experts_uses_active_parameters() -> None:
    doc = {
        "sections": {
            "C": {
                "architecture": _field("mixture_of_experts_transformer"),
                "parameters_total": _field(671_000_000_000),
                "parameters_active": _field(37_000_000_000),
            },
            "D": {"training_tokens": _field(14_800_000_000_000)},
        }
    }
    rng = compute.check_compute(doc).summary["range"]
    assert rng["central"] == pytest.approx(6 * 37e9 * 14.8e12)


def test_fine_tuning_stages_add_up_and_range_follows_stated_uncertainty() -> None:
    doc = {
        "sections": {
            "C": {"parameters_total": _field(10_000_000_000, "measured")},
            "D": {
                "stages": [
                    {
                        "name": _field("pretraining"),
                        "kind": _field("pretraining"),
                        "tokens": _field(1_000_000_000_000, "measured"),
                    },
                    {
                        "name": _field("sft"),
                        "kind": _field("supervised_fine_tuning"),
                        "flop": _field(5e21, "estimated"),
                    },
                ]
            },
        }
    }
    report = compute.check_compute(doc)
    rng = report.summary["range"]
    assert rng["central"] == pytest.approx(6e22 + 5e21)
    # measured inputs ±5% each, the estimated stage ±30%
    assert rng["low"] == pytest.approx(6e22 * 0.95 * 0.95 + 5e21 * 0.7)
    assert rng["high"] == pytest.approx(6e22 * 1.05 * 1.05 + 5e21 * 1.3)
    assert report.summary["includes_fine_tuning"] is True


def test_declared_figure_outside_range_becomes_a_result_with_both_values() -> None:
    doc = {
        "sections": {
            "C": {"parameters_total": _field(70_000_000_000)},
            "D": {"training_tokens": _field(2_000_000_000_000), "training_flop": _field(9e24)},
        }
    }
    report = compute.check_compute(doc)
    [res] = [r for r in report.results if r.rule_id == "DOS-CMP-001"]
    assert res.details["declared"] == 9e24
    assert res.details["estimate"]["central"] == pytest.approx(8.4e23)
    inside = compute.check_compute(
        {
            "sections": {
                **doc["sections"],
                "D": {**doc["sections"]["D"], "training_flop": _field(8.5e23)},
            }
        }
    )
    assert not [r for r in inside.results if r.rule_id == "DOS-CMP-001"]


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (2e25, 3e25, "above"),
        (1e24, 5e24, "below"),
        (5e24, 2e25, "straddles"),
        (1e25, 1e25, "above"),
    ],
)
def test_threshold_status(low: float, high: float, expected: str) -> None:
    assert compute.threshold_status(low, high, 1e25) == expected


def test_estimate_straddling_a_threshold_the_dossier_declares_below_is_flagged_medium() -> None:
    doc = {
        "sections": {
            "C": {"parameters_total": _field(400_000_000_000, "estimated")},
            "D": {
                "training_tokens": _field(4_000_000_000_000, "estimated"),
                "training_flop": _field(9.9e24),
            },
        }
    }
    report = compute.check_compute(doc)
    [res] = [r for r in report.results if r.key == "threshold:1e+25"]
    assert res.severity == "medium" and res.details["status"] == "straddles"


@pytest.mark.parametrize(
    ("section", "field", "value", "expect"),
    [
        ("D", "training_tokens", "2T tokens", "must be a number"),
        ("D", "training_tokens", 2000, "outside the plausible"),
        ("C", "parameters_total", 7, "not millions or billions"),
        ("D", "training_flop", float("inf"), "finite"),
        ("D", "training_flop", True, "must be a number"),
    ],
)
def test_numbers_out_of_range_or_in_mixed_units_give_clear_results(
    section: str, field: str, value: Any, expect: str
) -> None:
    sections: dict[str, Any] = {
        "C": {"parameters_total": _field(7_000_000_000)},
        "D": {"training_tokens": _field(1_000_000_000_000)},
    }
    sections[section][field] = _field(value)
    report = compute.check_compute({"sections": sections})
    problems = [r for r in report.results if r.rule_id == "DOS-CMP-003"]
    assert problems and expect in problems[0].message
    assert problems[0].location == f"sections.{section}.{field}"


def test_utilisation_written_as_percent_is_refused_and_unknown_accelerator_named() -> None:
    doc = {
        "sections": {
            "D": {
                "hardware": {
                    "accelerator": _field("Acme TensorBrick 9"),
                    "accelerator_count": _field(1000),
                    "training_hours": _field(100),
                    "utilisation": _field(40),
                }
            }
        }
    }
    report = compute.check_compute(doc)
    messages = " ".join(r.message for r in report.results)
    assert "Acme TensorBrick 9" in messages
    assert any(r.rule_id == "DOS-CMP-004" for r in report.results)


def test_garbage_document_does_not_crash() -> None:
    for doc in (
        None,
        {},
        {"sections": []},
        {"sections": {"D": {"stages": "x"}}},
        {"sections": {"C": 5}},
    ):
        report = compute.check_compute(doc)  # type: ignore[arg-type]
        assert report.check == "compute"
