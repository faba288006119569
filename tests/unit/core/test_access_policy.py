"""The access policy: deny by default, tenancy answered with 404, need-to-know."""

from __future__ import annotations

import pytest

from airlock.accounts.rules import OrgKind, Role
from airlock.core.access import POLICY, Actor, authorize, may_read_confidential
from airlock.core.errors import Forbidden, NotFound


def actor(role: Role, org: str = "o1", user: str = "u1") -> Actor:
    kind = (
        OrgKind.DEVELOPER
        if role in (Role.DEVELOPER_ADMIN, Role.DEVELOPER_MEMBER)
        else (OrgKind.AGENCY)
    )
    return Actor(user_id=user, email=f"{user}@x", org_id=org, org_kind=kind, role=role)


def test_anonymous_and_unknown_actions_are_denied() -> None:
    with pytest.raises(NotFound):
        authorize(None, "submission.read")
    with pytest.raises(Forbidden):
        authorize(actor(Role.AGENCY_ADMIN), "no.such.action")


@pytest.mark.parametrize("action", sorted(POLICY))
@pytest.mark.parametrize("role", list(Role))
def test_every_role_and_action(action: str, role: Role) -> None:
    a = actor(role)
    if role in POLICY[action]:
        authorize(a, action)
    else:
        with pytest.raises(Forbidden):
            authorize(a, action)


def test_a_firm_never_reaches_another_firms_object() -> None:
    for action, roles in POLICY.items():
        for role in (Role.DEVELOPER_ADMIN, Role.DEVELOPER_MEMBER):
            if role in roles:
                with pytest.raises(NotFound):
                    authorize(actor(role, org="mine"), action, org_id="theirs")


def test_confidential_content_is_need_to_know() -> None:
    assert may_read_confidential(
        actor(Role.DEVELOPER_MEMBER, org="f"), org_id="f", assigned_user_ids=[]
    )
    assert not may_read_confidential(
        actor(Role.DEVELOPER_ADMIN, org="g"), org_id="f", assigned_user_ids=[]
    )
    assert may_read_confidential(
        actor(Role.REVIEWER, user="r"), org_id="f", assigned_user_ids=["r"]
    )
    assert not may_read_confidential(
        actor(Role.REVIEWER, user="r"), org_id="f", assigned_user_ids=["other"]
    )
    for role in (Role.AGENCY_ADMIN, Role.AUDITOR):
        assert not may_read_confidential(actor(role, user="r"), org_id="f", assigned_user_ids=["r"])
    assert not may_read_confidential(None, org_id="f", assigned_user_ids=[])
