"""What a firm's participation state allows, for the firm and for the agency on its
submissions: one table that services and pages both read (issue 11, item 9)."""

from __future__ import annotations

from airlock.enrollment import rules as enrollment_rules
from airlock.enrollment.rules import FirmMove, ParticipationState
from airlock.submissions.rules import FIRM_MOVE_FOR, SubmissionState


def test_the_participation_table_is_the_one_rule() -> None:
    S, M = ParticipationState, FirmMove
    assert enrollment_rules.may(S.ACTIVE, M.UPLOAD) and enrollment_rules.may(S.ACTIVE, M.ASSIGN)
    assert not enrollment_rules.may(S.SUSPENDED, M.UPLOAD)
    assert enrollment_rules.may(S.SUSPENDED, M.ASSIGN)  # the agency may still review
    assert [m for m in M if enrollment_rules.may(S.WITHDRAWN, m)] == [M.CLOSE]
    assert not enrollment_rules.may(None, M.DRAFT)
    assert "withdrawn" in enrollment_rules.why_not(S.WITHDRAWN, M.ASSIGN)
    assert enrollment_rules.why_not(S.ACTIVE, M.EDIT) == ""


def test_every_submission_move_is_a_firm_move() -> None:
    assert set(FIRM_MOVE_FOR) == {s for s in SubmissionState if s != SubmissionState.DRAFT}
