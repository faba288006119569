"""The finding state machine: every pair of states, the invariants, and who makes each move."""

from __future__ import annotations

import itertools

import pytest

from airlock.core.errors import InvalidInput, InvalidTransition
from airlock.findings import rules
from airlock.findings.rules import FindingState as F
from airlock.findings.rules import Side

# The design's machine, written out again by hand so a change to ALLOWED must change this too.
EXPECTED: set[tuple[F, F]] = {
    (F.DRAFT, F.CONFIRMED),
    (F.DRAFT, F.FALSE_POSITIVE),
    (F.DRAFT, F.DUPLICATE),
    (F.CONFIRMED, F.NOTIFIED),
    (F.NOTIFIED, F.ACKNOWLEDGED),
    (F.NOTIFIED, F.DISPUTED),
    (F.DISPUTED, F.ACKNOWLEDGED),
    (F.DISPUTED, F.FALSE_POSITIVE),
    (F.ACKNOWLEDGED, F.FIX_IN_PROGRESS),
    (F.FIX_IN_PROGRESS, F.FIX_SUBMITTED),
    (F.FIX_SUBMITTED, F.FIX_VERIFIED),
    (F.FIX_SUBMITTED, F.FIX_IN_PROGRESS),
    (F.FIX_VERIFIED, F.CLOSED),
    (F.RISK_ACCEPTED, F.CLOSED),
    # Risk may be accepted at any point after confirmation until the fix is verified.
    (F.CONFIRMED, F.RISK_ACCEPTED),
    (F.NOTIFIED, F.RISK_ACCEPTED),
    (F.DISPUTED, F.RISK_ACCEPTED),
    (F.ACKNOWLEDGED, F.RISK_ACCEPTED),
    (F.FIX_IN_PROGRESS, F.RISK_ACCEPTED),
    (F.FIX_SUBMITTED, F.RISK_ACCEPTED),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(F, F)))
def test_every_pair_of_states_is_allowed_only_if_the_design_says_so(current: F, target: F) -> None:
    if (current, target) in EXPECTED:
        rules.check_transition(current, target)
    else:
        with pytest.raises(InvalidTransition, match=f"from {current}"):
            rules.check_transition(current, target)


def test_every_state_has_a_row_a_label_and_every_target_an_action() -> None:
    assert set(rules.ALLOWED) == set(F)
    assert set(rules.LABELS) == set(F)
    targets = {t for ts in rules.ALLOWED.values() for t in ts}
    assert targets == set(rules.ACTION_FOR) == set(rules.ACTION_LABELS)


def test_a_fix_cannot_be_verified_before_it_was_submitted() -> None:
    sources = {s for s, targets in rules.ALLOWED.items() if F.FIX_VERIFIED in targets}
    assert sources == {F.FIX_SUBMITTED}
    with pytest.raises(InvalidTransition):
        rules.check_path([F.DRAFT, F.CONFIRMED, F.NOTIFIED, F.ACKNOWLEDGED, F.FIX_VERIFIED])


def test_a_confirmed_unverified_finding_closes_only_through_accepted_risk() -> None:
    sources = {s for s, targets in rules.ALLOWED.items() if F.CLOSED in targets}
    assert sources == {F.FIX_VERIFIED, F.RISK_ACCEPTED}
    for state in rules.OPEN_CONFIRMED:
        with pytest.raises(InvalidTransition):
            rules.check_transition(state, F.CLOSED)
    rules.check_path([F.DRAFT, F.CONFIRMED, F.RISK_ACCEPTED, F.CLOSED])


def test_the_full_walk_is_a_legal_path_and_a_skipped_step_is_not() -> None:
    walk = [
        F.DRAFT,
        F.CONFIRMED,
        F.NOTIFIED,
        F.ACKNOWLEDGED,
        F.FIX_IN_PROGRESS,
        F.FIX_SUBMITTED,
        F.FIX_VERIFIED,
        F.CLOSED,
    ]
    rules.check_path(walk)
    with pytest.raises(InvalidTransition):
        rules.check_path([F.CONFIRMED, F.NOTIFIED])
    with pytest.raises(InvalidTransition):
        rules.check_path([F.DRAFT, F.NOTIFIED])


def test_the_firm_responds_and_the_agency_decides() -> None:
    firm = {t for t, side in rules.SIDE_FOR.items() if side == Side.FIRM}
    assert firm == {F.ACKNOWLEDGED, F.DISPUTED, F.FIX_IN_PROGRESS, F.FIX_SUBMITTED}
    assert rules.ACTION_FOR[F.RISK_ACCEPTED] == "finding.accept_risk"


@pytest.mark.parametrize("target", sorted(rules.REASON_REQUIRED))
def test_a_dispute_a_false_positive_and_an_accepted_risk_need_a_reason(target: F) -> None:
    with pytest.raises(InvalidInput, match="reason: required"):
        rules.check_reason(target, "   ")
    assert rules.check_reason(target, " because ") == "because"


def test_a_reason_over_the_limit_is_refused() -> None:
    with pytest.raises(InvalidInput, match="at most"):
        rules.check_reason(F.ACKNOWLEDGED, "x" * (rules.MAX_REASON + 1))


@pytest.mark.parametrize(
    ("state", "severity", "blocks"),
    [
        (F.CONFIRMED, "critical", True),
        (F.FIX_SUBMITTED, "high", True),
        (F.FIX_VERIFIED, "critical", False),
        (F.RISK_ACCEPTED, "critical", False),
        (F.CONFIRMED, "medium", False),
        (F.FALSE_POSITIVE, "critical", False),
    ],
)
def test_only_open_confirmed_critical_or_high_findings_block_review_complete(
    state: F, severity: str, blocks: bool
) -> None:
    assert rules.blocks_review_complete(state=state, severity=severity) is blocks
