"""Pure rules of the scanning stage: scanner states, visibility, evidence locations."""

from __future__ import annotations

import pytest

from airlock.core.errors import InvalidInput
from airlock.scanning import rules
from airlock.scanning.rules import ScannerState


@pytest.mark.parametrize("state", list(ScannerState))
def test_every_state_has_a_visibility_and_a_run_decision(state):
    firm, staff = rules.visible_states(firm=True), rules.visible_states(firm=False)
    assert firm <= staff  # staff always see at least what the firm sees
    assert (state in firm) == (state == ScannerState.ENABLED)
    assert (state in staff) == rules.runs(state)
    assert rules.runs(state) == (state != ScannerState.DISABLED)


def test_parse_state_names_the_allowed_states():
    assert rules.parse_state("evaluation") is ScannerState.EVALUATION
    with pytest.raises(InvalidInput, match="enabled, evaluation, disabled"):
        rules.parse_state("on")


def test_relocate_replaces_only_the_scanned_file_path():
    tmp = "/data/tmp/scan-1.bin"
    assert rules.relocate(tmp, scanned_path=tmp, artifact_name="m.pt") == "m.pt"
    inner = rules.relocate(f"{tmp}!archive/data.pkl", scanned_path=tmp, artifact_name="m.pt")
    assert inner == "m.pt!archive/data.pkl"
    assert rules.relocate("/elsewhere", scanned_path=tmp, artifact_name="m.pt") == "/elsewhere"
