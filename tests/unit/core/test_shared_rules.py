"""Rules that several stages use have one definition, and agree with what they replaced."""

from __future__ import annotations

import itertools

import pytest

from airlock.core.access import POLICY
from airlock.core.errors import InvalidInput
from airlock.core.roles import ROLES_BY_KIND, OrgKind, Role, kind_for_role, role_fits_org
from airlock.dossiers import rules as dossier_rules
from airlock.enrollment import rules as enrollment_rules
from airlock.enrollment.rules import ParticipationState as PS
from airlock.enrollment.rules import Scope
from airlock.vault import rules as vault_rules
from airlock.vault.rules import ArtifactKind


@pytest.mark.parametrize("role", list(Role))
def test_every_role_belongs_to_exactly_one_kind_of_organisation(role):
    kind = kind_for_role(role)
    assert role_fits_org(role, kind)
    assert [k for k in OrgKind if role in ROLES_BY_KIND[k]] == [kind]


def test_agency_roles_make_agency_members_and_firm_roles_firm_members():
    assert kind_for_role(Role.AUDITOR) == OrgKind.AGENCY
    assert kind_for_role(Role.DEVELOPER_MEMBER) == OrgKind.DEVELOPER


@pytest.mark.parametrize("state", list(PS))
def test_staff_moves_are_the_allowed_moves_to_active_or_suspended(state):
    moves = enrollment_rules.staff_moves(state)
    assert moves == sorted(moves, key=lambda s: s.value)
    for target in PS:
        expected = target in enrollment_rules.ALLOWED[state] and target in {
            PS.ACTIVE,
            PS.SUSPENDED,
        }
        assert (target in moves) == expected


def test_staff_activate_an_enrolled_firm_and_cannot_touch_a_withdrawn_one():
    assert enrollment_rules.staff_moves(PS.ENROLLED) == [PS.ACTIVE]
    assert enrollment_rules.staff_moves(PS.ACTIVE) == [PS.SUSPENDED]
    assert enrollment_rules.staff_moves(PS.WITHDRAWN) == []


def test_firm_states_are_changed_under_their_own_action_not_submission_triage():
    assert POLICY["participation.set_state"] == POLICY["submission.triage"]
    assert Role.REVIEWER not in POLICY["participation.set_state"]


def test_the_dossier_scopes_are_the_agreements_scopes():
    assert tuple(s.value for s in Scope) == dossier_rules.SCOPES


SCOPE_SETS = [
    frozenset(c) for n in range(len(Scope) + 1) for c in itertools.combinations(list(Scope), n)
]


@pytest.mark.parametrize("agreed", SCOPE_SETS)
def test_the_uploader_offers_exactly_the_kinds_an_upload_accepts(agreed):
    offered = vault_rules.allowed_kinds(agreed)
    for kind in ArtifactKind:
        try:
            vault_rules.check_kind_allowed(kind, agreed)
            accepted = True
        except InvalidInput:
            accepted = False
        assert (kind in offered) == accepted, (kind, agreed)
    assert offered == [k for k in ArtifactKind if k in offered]  # declaration order
