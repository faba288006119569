"""A small program across stages: the agency with its staff, firms with their members,
models and submissions (stage factories: accounts, vault, scanning)."""

from __future__ import annotations

from dataclasses import dataclass, field

from airlock.accounts import service as accounts
from airlock.accounts.rules import OrgKind, Role
from airlock.bootstrap import Container
from airlock.core.access import Actor
from airlock.demo import example_dossier
from airlock.enrollment import service as enrollment
from airlock.enrollment.rules import CURRENT_AGREEMENT
from airlock.submissions import service as submissions
from airlock.submissions.rules import SubmissionState as SS
from tests.factories.accounts import PASSWORD, token_for

__all__ = ["ALL_SCOPES", "PASSWORD", "Program", "example", "make_program", "token_for"]

ALL_SCOPES = ["architecture", "training_data_docs", "safeguards", "weights", "eval_endpoint"]


example = example_dossier


@dataclass
class Program:
    """Actors by role name and ids of the objects made."""

    actors: dict[str, Actor] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)


def make_program(container: Container) -> Program:
    """An agency (admin, coordinator, two reviewers, auditor) and two enrolled firms, each with
    a model and submissions: firm A's `sub_a` submitted+accepted with reviewer assigned, and a
    draft `draft_a`; firm B's `sub_b` submitted."""
    prog = Program()
    with container.uow() as uow:
        agency = enrollment.create_organisation(uow, name="Agency", kind=OrgKind.AGENCY)
        people = {
            "agency_admin": Role.AGENCY_ADMIN,
            "coordinator": Role.COORDINATOR,
            "reviewer": Role.REVIEWER,
            "other_reviewer": Role.REVIEWER,
            "auditor": Role.AUDITOR,
        }
        for key, role in people.items():
            u = accounts.create_user(
                uow, org_id=agency.id, email=f"{key}@agency.test", password=PASSWORD, role=role
            )
            prog.actors[key] = accounts.actor_for(uow, user_id=u.id)
        for firm in ("a", "b"):
            org = enrollment.create_organisation(
                uow, name=f"Firm {firm.upper()}", kind=OrgKind.DEVELOPER
            )
            prog.ids[f"org_{firm}"] = org.id
            for key, role in (("admin", Role.DEVELOPER_ADMIN), ("member", Role.DEVELOPER_MEMBER)):
                u = accounts.create_user(
                    uow,
                    org_id=org.id,
                    email=f"{key}@firm-{firm}.test",
                    password=PASSWORD,
                    role=role,
                )
                prog.actors[f"firm_{firm}_{key}"] = accounts.actor_for(uow, user_id=u.id)
            admin = prog.actors[f"firm_{firm}_admin"]
            enrollment.enroll(
                uow, actor=admin, agreement_version=CURRENT_AGREEMENT, scopes=ALL_SCOPES
            )
            model = submissions.register_model(uow, actor=admin, name=f"Model {firm}")
            prog.ids[f"model_{firm}"] = model.id
            sub = submissions.create_submission(
                uow,
                actor=admin,
                model_id=model.id,
                title=f"RC of {firm}",
                carries=ALL_SCOPES,
                dossier=example("full"),
                max_dossier_bytes=1 << 20,
            )
            submissions.transition(uow, actor=admin, submission_id=sub.id, target=SS.SUBMITTED)
            prog.ids[f"sub_{firm}"] = sub.id
            draft = submissions.create_submission(
                uow,
                actor=admin,
                model_id=model.id,
                title=f"Draft of {firm}",
                carries=ALL_SCOPES,
                dossier=example("minimal"),
                max_dossier_bytes=1 << 20,
            )
            prog.ids[f"draft_{firm}"] = draft.id
        coord = prog.actors["coordinator"]
        submissions.transition(
            uow, actor=coord, submission_id=prog.ids["sub_a"], target=SS.ACCEPTED
        )
        submissions.assign_reviewer(
            uow,
            actor=coord,
            submission_id=prog.ids["sub_a"],
            reviewer_id=prog.actors["reviewer"].user_id,
        )
        uow.commit()
    return prog
