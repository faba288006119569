"""The advisory machine over every pair of states and what publication requires."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from airlock.core.errors import Conflict, InvalidTransition
from airlock.publishing import advisories_rules as rules
from airlock.publishing.advisories_rules import AdvisoryState as A

ALLOWED = {
    (A.DRAFT, A.IN_REVIEW),
    (A.IN_REVIEW, A.APPROVED),
    (A.IN_REVIEW, A.DRAFT),
    (A.APPROVED, A.PUBLISHED),
    (A.PUBLISHED, A.UPDATED),
    (A.PUBLISHED, A.WITHDRAWN),
    (A.UPDATED, A.UPDATED),
    (A.UPDATED, A.WITHDRAWN),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(A, A)))
def test_advisory_moves_exactly_as_designed(current: A, target: A) -> None:
    if (current, target) in ALLOWED:
        rules.check_advisory_move(current, target)
    else:
        with pytest.raises(InvalidTransition, match=f"from {current} to {target}"):
            rules.check_advisory_move(current, target)


NOW = datetime(2026, 5, 1, tzinfo=UTC)


def test_publication_is_refused_under_embargo_even_with_consent() -> None:
    with pytest.raises(Conflict, match="embargo"):
        rules.check_may_publish(embargoed=True, firm_consented=True, disclosure_due=None, now=NOW)


def test_publication_needs_consent_or_the_end_of_the_disclosure_deadline() -> None:
    later = NOW + timedelta(days=3)
    with pytest.raises(Conflict, match="consent or the end of the disclosure deadline"):
        rules.check_may_publish(
            embargoed=False, firm_consented=False, disclosure_due=later, now=NOW
        )
    rules.check_may_publish(embargoed=False, firm_consented=True, disclosure_due=later, now=NOW)
    rules.check_may_publish(embargoed=False, firm_consented=False, disclosure_due=NOW, now=NOW)


@pytest.mark.parametrize("state", list(A))
def test_csaf_status_is_final_only_once_public(state: A) -> None:
    assert rules.csaf_status(state) == ("final" if state in {A.PUBLISHED, A.UPDATED} else "interim")
