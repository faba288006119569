"""Case pages for both sides: the case view (timeline, findings, threads, deadlines, embargo,
advisory editor), the firm's answers (move a finding, reply, ask for more time, consent) and
notifications. Every change is a form post that redirects to the page with a confirmation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airlock.cases import deadlines, notify
from airlock.cases import service as cases
from airlock.cases.models import Case
from airlock.cases.rules import EMBARGO_MOVES, EmbargoState, PublicEvent, check_zone, show_time
from airlock.core.access import Actor, allowed
from airlock.core.errors import AirlockError, InvalidInput
from airlock.core.transitions import ObjectType, history
from airlock.core.uow import UnitOfWork
from airlock.findings import service as findings
from airlock.findings.rules import FindingState
from airlock.publishing import advisories
from airlock.publishing.advisories_rules import ADVISORY_MOVES, AdvisoryState
from airlock.web.deps import ActorDep, UoWDep
from airlock.web.pages import once
from airlock.web.pages.render import form_data, page, redirect

router = APIRouter(include_in_schema=False)
TZ_COOKIE = "airlock_tz"

DONE = {
    "moved": "The finding was updated.",
    "message": "Your message was sent.",
    "extension": "Your request for more time was sent to the coordinator.",
    "decided": "Your answer was recorded and the firm was told.",
    "embargo": "The embargo was updated.",
    "public": "Recorded; an embargo in force has ended.",
    "consent": "Your consent to publication was recorded.",
    "advisory": "The advisory was saved.",
    "advisory_moved": "The advisory moved.",
    "zone": "Times are now shown in your time zone.",
    "read": "Notifications marked as read.",
}


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a case's timeline."""

    at: datetime
    shown: str
    what: str


def _zone(request: Request) -> str | None:
    zone = request.cookies.get(TZ_COOKIE)
    try:
        return check_zone(zone) if zone else None
    except InvalidInput:
        return None


def _timeline(
    uow: UnitOfWork, actor: Actor, case: Case, tz: str | None, finding_ids: list[str]
) -> list[TimelineEntry]:
    rows: list[tuple[datetime, str]] = [(case.created_at, f"Case {case.reference} opened")]
    for t in history(uow.session, object_type=ObjectType.EMBARGO, object_id=case.id):
        rows.append(
            (t.at, f"Embargo {t.from_state} → {t.to_state}" + (f": {t.reason}" if t.reason else ""))
        )
    for n, fid in enumerate(finding_ids, start=1):
        for t in history(uow.session, object_type=ObjectType.FINDING, object_id=fid):
            rows.append((t.at, f"Finding {n}: {t.from_state or 'new'} → {t.to_state}"))
    for d in deadlines.deadlines_of(uow, actor=actor, case_id=case.id):
        rows.append((d.started_at, f"{d.phase.capitalize()} deadline started"))
        if d.met_at:
            rows.append((d.met_at, f"{d.phase.capitalize()} deadline met"))
        if d.escalated_at:
            rows.append((d.escalated_at, f"{d.phase.capitalize()} deadline missed; escalated"))
    if allowed(actor, "advisory.read"):
        for adv in advisories.of_case(uow, actor=actor, case_id=case.id):
            for t in history(uow.session, object_type=ObjectType.ADVISORY, object_id=adv.id):
                rows.append(
                    (t.at, f"Advisory {adv.tracking_id}: {t.from_state or 'new'} → {t.to_state}")
                )
    rows.sort(key=lambda r: r[0])
    return [TimelineEntry(at, show_time(at, tz).text, what) for at, what in rows]


def _view(
    request: Request,
    uow: UnitOfWork,
    actor: Actor,
    case_id: str,
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    tz = _zone(request)
    case = cases.get_case(uow, actor=actor, case_id=case_id)
    rows = cases.case_findings(uow, actor=actor, case=case)
    finding_objs = {
        f.finding_id: findings.get_finding(uow, actor=actor, finding_id=f.finding_id) for f in rows
    }
    moves = {
        fid: [m.value for m in findings.allowed_moves(uow, actor=actor, finding=f)]
        for fid, f in finding_objs.items()
    }
    participant = cases.is_participant(uow, case_id=case.id, user_id=actor.user_id)
    threads = []
    for n, t in enumerate(cases.threads(uow, actor=actor, case=case)):
        messages = cases.read_thread(uow, actor=actor, thread_id=t.id) if participant else []
        label = "General"
        if t.finding_id is not None:
            number = [f.finding_id for f in rows].index(t.finding_id) + 1
            label = f"Finding {number}: {finding_objs[t.finding_id].title}"
        threads.append(
            {
                "id": t.id,
                "label": label,
                "n": n,
                "messages": [
                    {"text": m.text, "at": show_time(m.at, tz).text, "author": m.author_user_id}
                    for m in messages
                ],
            }
        )
    due = [
        {"row": d, "due": show_time(d.due_at, tz).text}
        for d in deadlines.deadlines_of(uow, actor=actor, case_id=case.id)
    ]
    advs = []
    if allowed(actor, "advisory.read"):
        for a in advisories.of_case(uow, actor=actor, case_id=case.id):
            revs = advisories.revisions(uow, advisory_id=a.id)
            advs.append(
                {
                    "row": a,
                    "latest": revs[-1],
                    "moves": sorted(m.value for m in ADVISORY_MOVES[AdvisoryState(a.state)]),
                }
            )
    embargo_moves = sorted(m.value for m in EMBARGO_MOVES[EmbargoState(case.embargo_state)])
    people = cases.all_participants(uow, case_id=case.id)
    return page(
        request,
        "cases/case.html",
        status_code=status_code,
        case=case,
        rows=rows,
        finding_objs=finding_objs,
        moves=moves,
        threads=threads,
        participant=participant,
        deadlines=due,
        extensions=deadlines.extensions_of(uow, actor=actor, case_id=case.id),
        advisories=advs,
        embargo_moves=embargo_moves,
        embargo_ends=show_time(case.embargo_ends_at, tz).text if case.embargo_ends_at else "",
        timeline=_timeline(uow, actor, case, tz, [f.finding_id for f in rows]),
        people=people,
        zone=tz or "UTC",
        error=error,
        done=DONE.get(request.query_params.get("done", ""), ""),
        may_manage=allowed(actor, "case.manage"),
        may_consent=allowed(actor, "case.consent"),
        may_extend=allowed(actor, "deadline.extend"),
        may_decide=allowed(actor, "deadline.decide"),
    )


@router.get("/cases")
def list_cases(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """The cases the viewer may see."""
    with uow:
        return page(request, "cases/list.html", cases=cases.list_cases(uow, actor=actor))


@router.get("/cases/{case_id}")
def view_case(case_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """A case: timeline, findings with their moves, threads, deadlines, embargo, advisories."""
    with uow:
        response = _view(request, uow, actor, case_id)
        uow.commit()  # the audit rows of reading the threads
        return response


async def _act(
    request: Request,
    uow: UnitOfWork,
    actor: Actor,
    case_id: str,
    done: str,
    fn: Callable[[dict[str, str]], Any],
) -> Response:
    data = await form_data(request)
    with uow:
        again = once.replay(uow, data, actor, f"case-{done}")
        if again is not None:
            return again
        try:
            fn(data)
        except ValueError as exc:
            uow.session.rollback()
            return _view(
                request,
                uow,
                actor,
                case_id,
                error=f"the form was not understood: {exc}",
                status_code=422,
            )
        except AirlockError as exc:
            uow.session.rollback()
            return _view(request, uow, actor, case_id, error=str(exc), status_code=exc.status_code)
        once.record(uow, data, actor, f"case-{done}", f"/cases/{case_id}")
        uow.commit()
    return redirect(f"/cases/{case_id}?done={done}")


def _when(value: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            f"{field}: give a date and hour like 2026-06-01T12:00+02:00 (got {value!r})"
        ) from None
    if moment.tzinfo is None:
        raise InvalidInput(f"{field}: give the time zone too, like 2026-06-01T12:00+02:00")
    return moment


@router.post("/cases/{case_id}/findings/{finding_id}/move")
async def move_finding(
    case_id: str, finding_id: str, request: Request, actor: ActorDep, uow: UoWDep
) -> Response:
    """Acknowledge, dispute, start or submit the fix (the firm); verify, close (the agency)."""

    def fn(data: dict[str, str]) -> None:
        case = cases.get_case(uow, actor=actor, case_id=case_id)
        if finding_id not in {
            f.finding_id for f in cases.case_findings(uow, actor=actor, case=case)
        }:
            raise InvalidInput("this finding is not part of the case")
        findings.transition(
            uow,
            actor=actor,
            finding_id=finding_id,
            target=FindingState(data.get("to", "")),
            reason=data.get("reason", ""),
        )

    return await _act(request, uow, actor, case_id, "moved", fn)


@router.post("/cases/{case_id}/threads/{thread_id}")
async def reply(
    case_id: str, thread_id: str, request: Request, actor: ActorDep, uow: UoWDep
) -> Response:
    """Write in a thread (participants)."""
    return await _act(
        request,
        uow,
        actor,
        case_id,
        "message",
        lambda d: cases.post_message(uow, actor=actor, thread_id=thread_id, text=d.get("text", "")),
    )


@router.post("/cases/{case_id}/deadlines/{deadline_id}/extension")
async def ask_extension(
    case_id: str, deadline_id: str, request: Request, actor: ActorDep, uow: UoWDep
) -> Response:
    """The firm asks for more time."""
    return await _act(
        request,
        uow,
        actor,
        case_id,
        "extension",
        lambda d: deadlines.request_extension(
            uow,
            actor=actor,
            deadline_id=deadline_id,
            until=_when(d.get("until", ""), "until"),
            reason=d.get("reason", ""),
        ),
    )


@router.post("/cases/{case_id}/extensions/{extension_id}")
async def decide(
    case_id: str, extension_id: str, request: Request, actor: ActorDep, uow: UoWDep
) -> Response:
    """A coordinator grants or refuses a request for more time."""
    return await _act(
        request,
        uow,
        actor,
        case_id,
        "decided",
        lambda d: deadlines.decide_extension(
            uow,
            actor=actor,
            extension_id=extension_id,
            grant=d.get("decision") == "grant",
            reason=d.get("reason", ""),
        ),
    )


@router.post("/cases/{case_id}/embargo")
async def embargo(case_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Propose, activate, revise or end the embargo."""
    return await _act(
        request,
        uow,
        actor,
        case_id,
        "embargo",
        lambda d: cases.move_embargo(
            uow,
            actor=actor,
            case_id=case_id,
            target=EmbargoState(d.get("to", "")),
            ends_at=_when(d["ends_at"], "ends_at") if d.get("ends_at", "").strip() else None,
            reason=d.get("reason", ""),
        ),
    )


@router.post("/cases/{case_id}/public")
async def public(case_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Record that the issue is public or exploited."""
    return await _act(
        request,
        uow,
        actor,
        case_id,
        "public",
        lambda d: cases.record_public_event(
            uow,
            actor=actor,
            case_id=case_id,
            event=PublicEvent(d.get("event", "")),
            note=d.get("note", ""),
        ),
    )


@router.post("/cases/{case_id}/consent")
async def consent(case_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """The firm's administrator agrees to publication."""
    return await _act(
        request,
        uow,
        actor,
        case_id,
        "consent",
        lambda d: cases.record_consent(uow, actor=actor, case_id=case_id),
    )


@router.post("/cases/{case_id}/advisories")
async def draft_advisory(case_id: str, request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Draft an advisory, or revise one (with `advisory_id` and `change`)."""

    def fn(d: dict[str, str]) -> None:
        if d.get("advisory_id"):
            advisories.revise(
                uow,
                actor=actor,
                advisory_id=d["advisory_id"],
                title=d.get("title", ""),
                summary=d.get("summary", ""),
                change=d.get("change", ""),
            )
        else:
            advisories.draft(
                uow,
                actor=actor,
                case_id=case_id,
                title=d.get("title", ""),
                summary=d.get("summary", ""),
            )

    return await _act(request, uow, actor, case_id, "advisory", fn)


@router.post("/cases/{case_id}/advisories/{advisory_id}/move")
async def move_advisory(
    case_id: str, advisory_id: str, request: Request, actor: ActorDep, uow: UoWDep
) -> Response:
    """Send an advisory to review, approve, publish or withdraw it."""
    return await _act(
        request,
        uow,
        actor,
        case_id,
        "advisory_moved",
        lambda d: advisories.move(
            uow,
            actor=actor,
            advisory_id=advisory_id,
            target=AdvisoryState(d.get("to", "")),
            reason=d.get("reason", ""),
        ),
    )


@router.post("/time-zone")
async def set_zone(request: Request, actor: ActorDep) -> Response:
    """Show times in the zone the viewer chose (kept in a cookie)."""
    data = await form_data(request)
    back = data.get("back", "/cases")
    if not back.startswith("/") or back.startswith("//"):
        back = "/cases"
    zone = check_zone(data.get("zone", "").strip() or "UTC")
    sep = "&" if "?" in back else "?"
    response = redirect(f"{back}{sep}done=zone")
    response.set_cookie(
        TZ_COOKIE,
        quote(zone, safe="/_+-"),
        max_age=365 * 86400,
        samesite="lax",
        secure=request.app.state.container.settings.cookie_secure,
        httponly=True,
    )
    return response


@router.get("/notifications")
def notifications(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """The viewer's notifications."""
    with uow:
        tz = _zone(request)
        rows = notify.list_for(uow, actor=actor)
        shown = [{"row": n, "at": show_time(n.created_at, tz).text} for n in rows]
        return page(
            request,
            "cases/notifications.html",
            rows=shown,
            done=DONE.get(request.query_params.get("done", ""), ""),
        )


@router.post("/notifications/read")
async def read_all(request: Request, actor: ActorDep, uow: UoWDep) -> Response:
    """Mark every notification read."""
    await form_data(request)
    with uow:
        notify.mark_read(uow, actor=actor)
        uow.commit()
    return redirect("/notifications?done=read")
