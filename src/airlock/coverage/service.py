"""What the coverage stage does: import registries, link known models to shared ones, and
count coverage. Keyword-only functions over a unit of work; they never commit."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from airlock.accounts.models import Organisation
from airlock.core import audit
from airlock.core.access import Actor, authorize
from airlock.core.db import utcnow
from airlock.core.errors import Conflict, InvalidInput, NotFound
from airlock.core.uow import UnitOfWork
from airlock.coverage import known_models, rules
from airlock.coverage.models import KnownModel, KnownModelLink, RegistryImport
from airlock.coverage.schemas import (
    PublicCoverageOut,
    QuarterCoverageOut,
    SourceOut,
    ThresholdCoverageOut,
)
from airlock.submissions.models import AIModel, Submission

_SOURCE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")


def import_registry(
    uow: UnitOfWork,
    *,
    actor: Actor | None,
    parsed: known_models.RegistryImport,
    source: str,
    file_name: str,
    sha256: str,
    credit: str = "",
) -> RegistryImport:
    """Add or refresh the known models of one registry source from a parsed file."""
    if actor is not None:
        authorize(actor, "coverage.manage")
    if not _SOURCE.match(source):
        raise InvalidInput(
            f"source: use lower-case letters, digits, '.', '_' or '-' (got {source[:40]!r})"
        )
    run = RegistryImport(
        source=source,
        file_name=file_name[:300],
        sha256=sha256,
        credit=credit[:2000],
        encoding=parsed.encoding,
        rows_read=parsed.rows_read,
        records=len(parsed.records),
        problems=len(parsed.problems),
        added=0,
        updated=0,
        imported_by=actor.user_id if actor else None,
    )
    uow.session.add(run)
    uow.flush()
    existing = {
        row.source_key: row
        for row in uow.session.scalars(select(KnownModel).where(KnownModel.source == source))
    }
    for record in parsed.records:
        row = existing.get(record.source_key)
        if row is None:
            row = KnownModel(
                source=source, source_key=record.source_key, first_seen_import_id=run.id
            )
            uow.session.add(row)
            run.added += 1
        else:
            run.updated += 1
        row.name = record.name
        row.organisation = record.organisation
        row.country = record.country
        row.published_on = record.published_on
        row.parameters = record.parameters
        row.training_flop = record.training_flop
        row.finetune_flop = record.finetune_flop
        row.dataset_size = record.dataset_size
        row.training_flop_estimated = record.training_flop_estimated
        row.source_row = record.line
        row.confidence = record.confidence.value
        row.accessibility = record.accessibility
        row.domain = record.domain
        row.frontier = record.frontier
        row.link = record.link
        row.last_seen_import_id = run.id
    audit.append(
        uow.session,
        actor=actor,
        action="coverage.import",
        object_type="registry_import",
        object_id=run.id,
        detail={
            "source": source,
            "file": run.file_name,
            "sha256": sha256,
            "records": run.records,
            "added": run.added,
            "problems": run.problems,
        },
    )
    return run


def _known(uow: UnitOfWork, known_model_id: str) -> KnownModel:
    row = uow.session.get(KnownModel, known_model_id)
    if row is None:
        raise NotFound("known model not found")
    return row


def _active_link(uow: UnitOfWork, known_model_id: str) -> KnownModelLink | None:
    return uow.session.scalars(
        select(KnownModelLink).where(
            KnownModelLink.known_model_id == known_model_id,
            KnownModelLink.unlinked_at.is_(None),
        )
    ).first()


def link_model(
    uow: UnitOfWork, *, actor: Actor, known_model_id: str, model_id: str
) -> KnownModelLink:
    """Record that a known model is one a firm registered in the program."""
    authorize(actor, "coverage.manage")
    known = _known(uow, known_model_id)
    if uow.session.get(AIModel, model_id) is None:
        raise NotFound("model not found")
    if _active_link(uow, known.id) is not None:
        raise Conflict(f"{known.name!r} is already linked; unlink it first")
    link = KnownModelLink(known_model_id=known.id, model_id=model_id, linked_by=actor.user_id)
    uow.session.add(link)
    uow.flush()
    audit.append(
        uow.session,
        actor=actor,
        action="coverage.link",
        object_type="known_model",
        object_id=known.id,
        detail={"model_id": model_id},
    )
    return link


def unlink_model(uow: UnitOfWork, *, actor: Actor, known_model_id: str) -> KnownModelLink:
    """End the current link of a known model (the link row stays, stamped)."""
    authorize(actor, "coverage.manage")
    known = _known(uow, known_model_id)
    link = _active_link(uow, known.id)
    if link is None:
        raise Conflict(f"{known.name!r} is not linked to any model")
    link.unlinked_at = utcnow()
    link.unlinked_by = actor.user_id
    audit.append(
        uow.session,
        actor=actor,
        action="coverage.unlink",
        object_type="known_model",
        object_id=known.id,
        detail={"model_id": link.model_id},
    )
    return link


def shared_known_model_ids(uow: UnitOfWork) -> set[str]:
    """Known models linked to a registered model with at least one submission past draft."""
    submitted = select(Submission.model_id).where(Submission.submitted_at.is_not(None))
    rows = uow.session.scalars(
        select(KnownModelLink.known_model_id).where(
            KnownModelLink.unlinked_at.is_(None), KnownModelLink.model_id.in_(submitted)
        )
    )
    return set(rows)


def coverage_table(
    uow: UnitOfWork, *, thresholds: tuple[float, ...] = rules.THRESHOLDS
) -> rules.CoverageTable:
    """Known, shared and not-shared models per threshold and quarter (public figures only)."""
    shared = shared_known_model_ids(uow)
    facts = [
        rules.KnownModelFacts(
            key=row.id,
            published_on=row.published_on,
            flops=rules.flop_range(row.training_flop, rules.Confidence(row.confidence)),
            shared=row.id in shared,
        )
        for row in uow.session.scalars(select(KnownModel))
    ]
    return rules.coverage_table(facts, thresholds)


@dataclass(frozen=True)
class Sources:
    """The registry imports a report rests on, newest first, for credit and provenance."""

    imports: Sequence[RegistryImport]


def latest_imports(uow: UnitOfWork) -> Sources:
    """The newest import of each registry source."""
    newest: dict[str, RegistryImport] = {}
    for row in uow.session.scalars(select(RegistryImport).order_by(RegistryImport.imported_at)):
        newest[row.source] = row
    return Sources(imports=sorted(newest.values(), key=lambda r: r.imported_at, reverse=True))


def search_known_models(
    uow: UnitOfWork, *, actor: Actor, text: str = "", unlinked_only: bool = False, limit: int = 50
) -> list[KnownModel]:
    """Known models whose name or developer contains text (for linking), largest first."""
    authorize(actor, "coverage.manage")
    query = select(KnownModel)
    cleaned = text.strip()[:100]
    if cleaned:
        pattern = f"%{cleaned.replace('%', '').replace('_', '')}%"
        query = query.where(KnownModel.name.ilike(pattern) | KnownModel.organisation.ilike(pattern))
    if unlinked_only:
        linked = select(KnownModelLink.known_model_id).where(KnownModelLink.unlinked_at.is_(None))
        query = query.where(KnownModel.id.not_in(linked))
    query = query.order_by(KnownModel.training_flop.desc().nulls_last(), KnownModel.name)
    return list(uow.session.scalars(query.limit(max(1, min(limit, 500)))))


@dataclass(frozen=True)
class LinkProposal:
    """A registered model that looks like a known model, with how alike they are (0-100)."""

    known_model_id: str
    known_name: str
    known_organisation: str
    model_id: str
    model_name: str
    organisation: str
    name_score: float
    organisation_score: float


def propose_links(
    uow: UnitOfWork,
    *,
    actor: Actor,
    min_name_score: float = 90.0,
    min_organisation_score: float = 60.0,
    limit: int = 200,
) -> list[LinkProposal]:
    """Unlinked known models whose name resembles a registered model's (rapidfuzz ratio after
    folding case and punctuation) and whose developer, when stated, resembles its firm
    (token-set ratio), best first, for a coordinator to confirm."""
    from rapidfuzz import fuzz, process, utils

    authorize(actor, "coverage.manage")
    linked = select(KnownModelLink.known_model_id).where(KnownModelLink.unlinked_at.is_(None))
    known_rows = list(uow.session.scalars(select(KnownModel).where(KnownModel.id.not_in(linked))))
    if not known_rows:
        return []
    choices = [row.name for row in known_rows]
    registered = uow.session.execute(
        select(AIModel.id, AIModel.name, Organisation.name).join(
            Organisation, Organisation.id == AIModel.org_id
        )
    ).all()
    proposals: list[LinkProposal] = []
    for model_id, model_name, org_name in registered:
        for _choice, name_score, position in process.extract(
            model_name,
            choices,
            scorer=fuzz.ratio,
            processor=utils.default_process,
            score_cutoff=min_name_score,
            limit=5,
        ):
            known = known_rows[position]
            org_score = (
                fuzz.token_set_ratio(org_name, known.organisation, processor=utils.default_process)
                if known.organisation
                else 0.0
            )
            if known.organisation and org_score < min_organisation_score:
                continue  # a shared word ("Atlas") in another developer's model is no match
            proposals.append(
                LinkProposal(
                    known_model_id=known.id,
                    known_name=known.name,
                    known_organisation=known.organisation,
                    model_id=model_id,
                    model_name=model_name,
                    organisation=org_name,
                    name_score=round(float(name_score), 1),
                    organisation_score=round(float(org_score), 1),
                )
            )
    proposals.sort(key=lambda p: p.name_score + p.organisation_score, reverse=True)
    return proposals[:limit]


def blind_spots(
    uow: UnitOfWork, *, actor: Actor, threshold: float, include_uncertain: bool = True
) -> list[KnownModel]:
    """Known models at or possibly above a threshold that were never shared (agency only)."""
    authorize(actor, "coverage.manage")
    shared = shared_known_model_ids(uow)
    wanted = {rules.Placement.ABOVE}
    if include_uncertain:
        wanted.add(rules.Placement.UNCERTAIN)
    rows = [
        row
        for row in uow.session.scalars(
            select(KnownModel).where(KnownModel.training_flop.is_not(None))
        )
        if row.id not in shared
        and rules.place(
            rules.flop_range(row.training_flop, rules.Confidence(row.confidence)), threshold
        )
        in wanted
    ]
    rows.sort(key=lambda r: (-(r.training_flop or 0.0), r.name))
    return rows


def public_coverage(uow: UnitOfWork, *, min_cell: int) -> PublicCoverageOut:
    """The coverage figures anyone may see: public registry counts, and shared counts only
    where small-cell suppression allows."""
    table = coverage_table(uow)
    rows = rules.public_rows(table, min_cell=min_cell)
    quarters = [
        QuarterCoverageOut(
            quarter=period,
            known_by_threshold={
                rules.threshold_label(t): cell.known_central
                for t in table.thresholds
                if (cell := table.cells.get((t, period))) is not None
            },
            no_compute_figure=table.no_figure_by_quarter.get(period, 0),
        )
        for period in table.quarters
    ]
    # Quarters before the first model that reaches the lowest threshold only list models with
    # no figure; they are summed into one line instead of decades of zero rows.
    first = next((i for i, q in enumerate(quarters) if any(q.known_by_threshold.values())), None)
    earlier = quarters[:first] if first is not None else []
    quarters = quarters[first:] if first is not None else quarters
    return PublicCoverageOut(
        earlier_quarters=len(earlier),
        earlier_no_compute_figure=sum(q.no_compute_figure for q in earlier),
        models=table.models,
        no_compute_figure=table.no_figure,
        thresholds=[
            ThresholdCoverageOut(
                threshold_flop=row.threshold,
                label=rules.threshold_label(row.threshold),
                known=row.known_central,
                known_low=row.known_low,
                known_high=row.known_high,
                shared=row.shared,
                not_shared=row.not_shared,
            )
            for row in rows
        ],
        quarters=quarters,
        min_cell=min_cell,
        spread={c.value: f for c, f in rules.SPREAD.items()},
        sources=[SourceOut.model_validate(run) for run in latest_imports(uow).imports],
    )
