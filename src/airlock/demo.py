"""A demo program: the agency, two firms, their models and submissions in several states.

Each firm's dossiers describe that firm and its own models: Northwind AI's Atlas-70B
(examples/full.json, and the draft examples/minimal.json), Helios Labs' Orion-8x22B
(examples/helios_orion.json)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from sqlalchemy import select

from airlock.accounts import service as accounts
from airlock.accounts.models import Organisation
from airlock.bootstrap import Container
from airlock.core.access import Actor
from airlock.core.roles import OrgKind, Role
from airlock.enrollment import service as enrollment
from airlock.enrollment.rules import CURRENT_AGREEMENT, ParticipationState, Scope
from airlock.submissions import service as submissions
from airlock.submissions.rules import SubmissionState as SS

DEMO_PASSWORD = "airlock-demo-2026"  # noqa: S105 - the published demo password
AGENCY = "National AI Security Agency"
DEMO_ACCOUNTS: list[tuple[str, Role]] = [
    ("admin@agency.example", Role.AGENCY_ADMIN),
    ("coordinator@agency.example", Role.COORDINATOR),
    ("reviewer@agency.example", Role.REVIEWER),
    ("reviewer2@agency.example", Role.REVIEWER),
    ("auditor@agency.example", Role.AUDITOR),
    ("admin@northwind.example", Role.DEVELOPER_ADMIN),
    ("member@northwind.example", Role.DEVELOPER_MEMBER),
    ("admin@helios.example", Role.DEVELOPER_ADMIN),
]
FIRMS = {"northwind.example": "Northwind AI", "helios.example": "Helios Labs"}
ALL_SCOPES = [s.value for s in Scope]


def example_dossier(name: str) -> dict[str, Any]:
    """One of the example dossiers shipped with the package."""
    text = resources.files("airlock.dossiers").joinpath(f"examples/{name}.json").read_text()
    doc: dict[str, Any] = json.loads(text)
    return doc


def seed(container: Container) -> bool:
    """Create the demo data; return False if it was already there."""
    with container.uow() as uow:
        if uow.session.scalars(select(Organisation).where(Organisation.name == AGENCY)).first():
            return False
        agency = enrollment.create_organisation(uow, name=AGENCY, kind=OrgKind.AGENCY)
        orgs = {"agency.example": agency.id}
        for domain, name in FIRMS.items():
            org = enrollment.create_organisation(uow, name=name, kind=OrgKind.DEVELOPER)
            orgs[domain] = org.id
        actors: dict[str, Actor] = {}
        for email, role in DEMO_ACCOUNTS:
            user = accounts.create_user(
                uow,
                org_id=orgs[email.split("@")[1]],
                email=email,
                password=DEMO_PASSWORD,
                role=role,
                name=email.split("@")[0].capitalize(),
            )
            actors[email] = accounts.actor_for(uow, user_id=user.id)
        coordinator = actors["coordinator@agency.example"]
        reviewer = actors["reviewer@agency.example"]
        full = example_dossier("full")
        minimal = example_dossier("minimal")
        limits = container.settings.max_dossier_bytes

        nw = actors["admin@northwind.example"]
        enrollment.enroll(uow, actor=nw, agreement_version=CURRENT_AGREEMENT, scopes=ALL_SCOPES)
        enrollment.set_state(
            uow,
            actor=coordinator,
            org_id=nw.org_id,
            target=ParticipationState.ACTIVE,
            reason="agreement checked",
        )
        atlas = submissions.register_model(
            uow, actor=nw, name="Atlas-70B", description="General-purpose dense LLM"
        )
        submissions.register_model(
            uow, actor=nw, name="Atlas-Vision", description="Multimodal model (planned)"
        )
        s1 = submissions.create_submission(
            uow,
            actor=nw,
            model_id=atlas.id,
            title="Atlas-70B release candidate 1",
            version="rc1",
            carries=ALL_SCOPES,
            dossier=full,
            max_dossier_bytes=limits,
        )
        submissions.transition(uow, actor=nw, submission_id=s1.id, target=SS.SUBMITTED)
        submissions.transition(uow, actor=coordinator, submission_id=s1.id, target=SS.ACCEPTED)
        submissions.assign_reviewer(
            uow, actor=coordinator, submission_id=s1.id, reviewer_id=reviewer.user_id
        )
        submissions.transition(uow, actor=reviewer, submission_id=s1.id, target=SS.IN_REVIEW)
        s2 = submissions.create_submission(
            uow,
            actor=nw,
            model_id=atlas.id,
            title="Atlas-70B release candidate 2",
            version="rc2",
            carries=ALL_SCOPES,
            dossier=full,
            max_dossier_bytes=limits,
        )
        submissions.transition(uow, actor=nw, submission_id=s2.id, target=SS.SUBMITTED)
        submissions.create_submission(
            uow,
            actor=nw,
            model_id=atlas.id,
            title="Atlas-70B rc3 (draft)",
            version="rc3",
            carries=ALL_SCOPES,
            dossier=minimal,
            max_dossier_bytes=limits,
        )

        he = actors["admin@helios.example"]
        enrollment.enroll(
            uow,
            actor=he,
            agreement_version=CURRENT_AGREEMENT,
            scopes=["architecture", "safeguards"],
        )
        orion = submissions.register_model(
            uow, actor=he, name="Orion-8x22B", description="Mixture-of-experts assistant"
        )
        s3 = submissions.create_submission(
            uow,
            actor=he,
            model_id=orion.id,
            title="Orion-8x22B preview",
            version="0.9",
            carries=[],
            dossier=example_dossier("helios_orion"),
            max_dossier_bytes=limits,
        )
        submissions.transition(uow, actor=he, submission_id=s3.id, target=SS.SUBMITTED)
        submissions.transition(
            uow,
            actor=coordinator,
            submission_id=s3.id,
            target=SS.RETURNED,
            reason="Section C (architecture) is missing; please add it.",
        )
        uow.commit()
    return True
