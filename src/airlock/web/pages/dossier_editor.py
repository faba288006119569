"""The dossier editor of the developer portal: one page per section, a checklist, submit.

"Save draft" keeps whatever was typed (the working copy, `submissions.drafts`); a draft that
passes the schema is also written to the submission's dossier. "Save and submit for review"
lists every remaining problem at once, each linking to its field, and discards nothing.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airlock.core import safejson
from airlock.core.access import Actor
from airlock.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from airlock.core.uow import UnitOfWork
from airlock.dossiers import rules as dossier_rules
from airlock.dossiers import validation
from airlock.enrollment import service as enrollment
from airlock.submissions import drafts
from airlock.submissions import rules as submission_rules
from airlock.submissions import service as submissions
from airlock.submissions.models import Submission
from airlock.submissions.rules import SubmissionState
from airlock.web.deps import ActorDep, ContainerDep, UoWDep
from airlock.web.pages import dossier_form, dossier_post
from airlock.web.pages.dossier_form import Problem
from airlock.web.pages.render import form_lists, page, redirect

router = APIRouter(prefix="/portal/submissions/{submission_id}/dossier", include_in_schema=False)


@dataclass(frozen=True)
class SectionStatus:
    """One line of the completeness checklist."""

    key: str
    title: str
    shared: bool  # the submission carries the scope this section needs
    required: bool  # required to submit
    filled: bool
    problems: int

    @property
    def complete(self) -> bool:
        """Filled in with nothing left to fix."""
        return self.shared and self.filled and not self.problems

    @property
    def status(self) -> str:
        """The checklist's words for the section."""
        if not self.shared:
            return "Not carried"
        if self.problems:
            return f"{self.problems} to fix" if self.filled else "Required, not started"
        if self.filled:
            return "Complete"
        return "Required, not started" if self.required else "Optional"

    @property
    def tone(self) -> str:
        """The tag colour of the status."""
        if self.complete:
            return "ok"
        if self.shared and (self.problems or self.required):
            return "bad"
        return "neutral"


def _firm(actor: Actor) -> Actor:
    if actor.is_agency:
        raise Forbidden("the developer portal is for participating firms")
    return actor


def _sub(uow: UnitOfWork, actor: Actor, submission_id: str) -> Submission:
    return submissions.get_submission(uow, actor=_firm(actor), submission_id=submission_id[:64])


def _current(uow: UnitOfWork, actor: Actor, sub: Submission) -> tuple[dict[str, Any], bool]:
    """The dossier being edited (the working copy if current) and whether submit was tried."""
    if submission_rules.is_editable(SubmissionState(sub.state)):
        kept = drafts.working_copy(uow, actor=actor, sub=sub)
        if kept is not None:
            return kept
    return submissions.stored_dossier(uow, sub=sub), False


def _errors(doc: dict[str, Any], carries: list[str], max_bytes: int) -> list[dict[str, str]]:
    """Every dossier error: the schema's, then what the carried scopes allow, then gaps."""
    scopes = frozenset(carries)
    found = validation.validate_dossier(doc, max_bytes=max_bytes)
    found += dossier_rules.check_scopes(doc, scopes)
    out = [e.as_dict() for e in found]
    for gap in dossier_rules.check_complete(doc, scopes=scopes):
        section = gap.path.removeprefix("sections.")
        fields = dossier_rules.REQUIRED_ON_SUBMIT.get(section, ())
        if gap.rule != "required" or "." in section or not fields:
            out.append(gap.as_dict())
            continue
        # a required section left empty: name each field it needs, each with its own link
        for name in fields:
            path = f"sections.{section}.{name}"
            out.append({"path": path, "rule": "required", "message": f"{path}: is required"})
    return out


def _checklist(
    doc: dict[str, Any], carries: list[str], problems: list[Problem]
) -> list[SectionStatus]:
    sections = doc.get("sections") if isinstance(doc.get("sections"), dict) else {}
    must = dossier_rules.required_sections(frozenset(carries))
    out = []
    for spec in dossier_form.layout():
        needed = dossier_rules.SECTION_SCOPES.get(spec.key)
        body = sections.get(spec.key) if isinstance(sections, dict) else None
        out.append(
            SectionStatus(
                key=spec.key,
                title=spec.title,
                shared=needed is None or needed in carries,
                required=spec.key in must,
                filled=bool(body),
                problems=sum(1 for p in problems if p.section == spec.key),
            )
        )
    return out


def status_for(
    uow: UnitOfWork, *, actor: Actor, sub: Submission, max_bytes: int
) -> list[SectionStatus]:
    """The completeness checklist of a submission's dossier (for the submission page)."""
    doc, _ = _current(uow, actor, sub)
    problems = dossier_form.problems_of(_errors(doc, list(sub.carries), max_bytes))
    return _checklist(doc, list(sub.carries), problems)


def next_section(key: str, carries: list[str]) -> str:
    """The section after `key` that this submission carries ("" after the last)."""
    keys = [s.key for s in dossier_form.layout()]
    for later in keys[keys.index(key) + 1 :] if key in keys else []:
        needed = dossier_rules.SECTION_SCOPES.get(later)
        if needed is None or needed in carries:
            return later
    return ""


def _render(
    request: Request,
    uow: UnitOfWork,
    actor: Actor,
    sub: Submission,
    *,
    max_bytes: int,
    section: str = "",
    doc: dict[str, Any] | None = None,
    checked: bool = False,
    refused: bool = False,
    message: str = "",
    raw_json: str | None = None,
    status_code: int = 200,
) -> Response:
    if doc is None:
        doc, checked = _current(uow, actor, sub)
    carries = list(sub.carries)
    problems = dossier_form.problems_of(_errors(doc, carries, max_bytes))
    checklist = _checklist(doc, carries, problems)
    shown = [p for p in problems if checked or not p.missing]
    form = None
    if section:
        form = dossier_form.build_section(doc, section)
        dossier_form.place_errors(form, shown)
    keys = [s.key for s in checklist]
    at = keys.index(section) if section in keys else -1
    p = enrollment.get_participation(uow, actor=actor, org_id=actor.org_id)
    required = [s for s in checklist if s.required]
    return page(
        request,
        "portal/dossier/section.html" if section else "portal/dossier/overview.html",
        status_code=status_code,
        sub=sub,
        section=checklist[at] if at >= 0 else None,
        position=at + 1,
        next_section=next_section(section, carries) if section else "",
        form=form,
        checklist=checklist,
        required_done=sum(1 for s in required if s.complete),
        required_total=len(required),
        problems=problems if refused else [],
        problem_count=len(problems),
        message=message,
        editable=submission_rules.is_editable(SubmissionState(sub.state)),
        may_submit=actor.role == "developer_admin",
        scopes=list(p.scopes),
        raw_json=raw_json if raw_json is not None else json.dumps(doc, indent=2),
        disclosures=dossier_form.DISCLOSURES,
        provenances=dossier_form.PROVENANCES,
    )


@router.get("")
def overview(
    submission_id: str, request: Request, actor: ActorDep, uow: UoWDep, container: ContainerDep
) -> Response:
    """The dossier checklist: every section's completeness, what the submission carries."""
    with uow:
        sub = _sub(uow, actor, submission_id)
        max_bytes = container.settings.max_dossier_bytes
        return _render(request, uow, actor, sub, max_bytes=max_bytes)


@router.get("/{section}")
def section_page(
    submission_id: str,
    section: str,
    request: Request,
    actor: ActorDep,
    uow: UoWDep,
    container: ContainerDep,
) -> Response:
    """One section of the dossier as a form."""
    with uow:
        sub = _sub(uow, actor, submission_id)
        if dossier_form.section_spec(section) is None:
            raise NotFound("no such dossier section")
        max_bytes = container.settings.max_dossier_bytes
        return _render(request, uow, actor, sub, max_bytes=max_bytes, section=section)


def _editable(sub: Submission) -> None:
    if not submission_rules.is_editable(SubmissionState(sub.state)):
        raise Conflict(f"a submission that is {sub.state} can no longer be edited")


def _save(
    uow: UnitOfWork, actor: Actor, sub: Submission, doc: dict[str, Any], *, max_bytes: int
) -> None:
    """Keep the typed dossier; write it to the submission too when the schema accepts it."""
    kept = drafts.working_copy(uow, actor=actor, sub=sub)
    checked = kept[1] if kept else False
    # an invalid draft is kept as typed in the working copy; its problems show at the fields
    with contextlib.suppress(InvalidInput):
        submissions.update_submission(
            uow, actor=actor, submission_id=sub.id, dossier=doc, max_dossier_bytes=max_bytes
        )
    drafts.keep(uow, actor=actor, sub=sub, doc=doc, checked=checked)


def _submit(
    request: Request,
    uow: UnitOfWork,
    actor: Actor,
    sub: Submission,
    doc: dict[str, Any],
    *,
    max_bytes: int,
    section: str = "",
) -> Response:
    """Submit if nothing is left to fix; otherwise list every problem and keep everything."""
    errors = _errors(doc, list(sub.carries), max_bytes)
    if not errors:
        try:
            submissions.update_submission(
                uow, actor=actor, submission_id=sub.id, dossier=doc, max_dossier_bytes=max_bytes
            )
            submissions.transition(
                uow, actor=actor, submission_id=sub.id, target=SubmissionState.SUBMITTED
            )
        except (InvalidInput, Forbidden) as exc:
            uow.session.rollback()
            sub = _sub(uow, actor, sub.id)
            drafts.keep(uow, actor=actor, sub=sub, doc=doc, checked=True)
            uow.commit()
            return _render(
                request,
                uow,
                actor,
                sub,
                max_bytes=max_bytes,
                section=section,
                doc=doc,
                checked=True,
                message=str(exc),
                status_code=exc.status_code,
            )
        drafts.discard(uow, sub=sub)
        uow.commit()
        return redirect(f"/portal/submissions/{sub.id}", done="submitted")
    _save(uow, actor, sub, doc, max_bytes=max_bytes)
    drafts.keep(uow, actor=actor, sub=sub, doc=doc, checked=True)
    uow.commit()
    return _render(
        request,
        uow,
        actor,
        sub,
        max_bytes=max_bytes,
        section=section,
        doc=doc,
        checked=True,
        refused=True,
        status_code=422,
    )


@router.post("/{section}")
async def save_section(
    submission_id: str,
    section: str,
    request: Request,
    actor: ActorDep,
    uow: UoWDep,
    container: ContainerDep,
) -> Response:
    """Save one section as typed; add, remove or move a group's item; or submit."""
    data = await form_lists(request)
    action = (data.get("action") or ["save"])[0]
    max_bytes = container.settings.max_dossier_bytes
    with uow:
        sub = _sub(uow, actor, submission_id)
        if dossier_form.section_spec(section) is None:
            raise NotFound("no such dossier section")
        _editable(sub)
        doc, _ = _current(uow, actor, sub)
        doc = dossier_post.merge_section(doc, section, dossier_post.parse_section(section, data))
        base = f"/portal/submissions/{sub.id}/dossier"
        if action == "submit":
            return _submit(request, uow, actor, sub, doc, max_bytes=max_bytes, section=section)
        target = f"{base}/{section}"
        if action.split(":", 1)[0] in ("add", "remove", "up", "down"):
            at = dossier_post.apply_op(doc, action)
            if at is None:
                raise InvalidInput("action: names no group of this section")
            _save(uow, actor, sub, doc, max_bytes=max_bytes)
            uow.commit()
            return redirect(f"{target}?done=saved#{dossier_form.anchor(at)}")
        _save(uow, actor, sub, doc, max_bytes=max_bytes)
        uow.commit()
    if action == "next":
        following = next_section(section, list(sub.carries))
        target = f"{base}/{following}" if following else base
    return redirect(target, done="draft_saved")


@router.post("")
async def save_overview(
    submission_id: str, request: Request, actor: ActorDep, uow: UoWDep, container: ContainerDep
) -> Response:
    """Change the title, version and what the submission carries; save raw JSON; or submit."""
    data = await form_lists(request)
    first = {k: v[0] for k, v in data.items()}
    action = first.get("action", "details")
    max_bytes = container.settings.max_dossier_bytes
    with uow:
        sub = _sub(uow, actor, submission_id)
        _editable(sub)
        doc, _ = _current(uow, actor, sub)
        if action == "submit":
            return _submit(request, uow, actor, sub, doc, max_bytes=max_bytes)
        if action == "json":
            raw = first.get("raw_json", "")
            try:
                parsed = safejson.loads(raw or "{}", where="raw_json")
                if not isinstance(parsed, dict):
                    raise ValueError("the dossier must be a JSON object")
            except ValueError as exc:  # JSONRefused names the problem and where
                detail = str(exc)
                return _render(
                    request,
                    uow,
                    actor,
                    sub,
                    max_bytes=max_bytes,
                    message=f"The JSON is not valid: {detail}. Nothing was saved.",
                    raw_json=raw,
                    status_code=422,
                )
            _save(uow, actor, sub, parsed, max_bytes=max_bytes)
            uow.commit()
            return redirect(f"/portal/submissions/{sub.id}/dossier", done="draft_saved")
        try:
            submissions.update_submission(
                uow,
                actor=actor,
                submission_id=sub.id,
                title=first.get("title"),
                version=first.get("version"),
                carries=data.get("carries", []),
                max_dossier_bytes=max_bytes,
            )
        except InvalidInput as exc:
            uow.session.rollback()
            sub = _sub(uow, actor, submission_id)
            return _render(
                request,
                uow,
                actor,
                sub,
                max_bytes=max_bytes,
                message=_carries_message(exc),
                status_code=422,
            )
        if drafts.working_copy(uow, actor=actor, sub=sub) is not None:
            drafts.keep(uow, actor=actor, sub=sub, doc=doc, checked=False)
        uow.commit()
    return redirect(f"/portal/submissions/{submission_id}/dossier", done="saved")


def _carries_message(exc: InvalidInput) -> str:
    titles = [dossier_form.title_of(dossier_form.path_of(e.get("path", ""))) for e in exc.errors]
    if titles:
        return (
            "The dossier has content in sections this submission would no longer carry: "
            f"{', '.join(titles)}. Empty them first, or keep them ticked."
        )
    return str(exc)
