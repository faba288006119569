"""Coverage on SQLite and PostgreSQL: importing a registry twice, linking, counting."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from airlock.bootstrap import Container
from airlock.core.audit import AuditEvent
from airlock.core.errors import Conflict, Forbidden, InvalidInput
from airlock.coverage import known_models, service
from airlock.coverage.models import KnownModel, KnownModelLink
from tests.factories.program import make_program

EPOCH = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "data"
    / "epoch"
    / ("notable_ai_models_2025-02-24.csv")
)

REGISTRY = (
    "Model,Organization,Publication date,Training compute (FLOP),Confidence\n"
    "Model a,Firm A,2024-02-10,3e25,Confident\n"  # 1e25..9e25: surely above 1e25
    "Big unshared,Elsewhere,2024-03-01,2e26,Confident\n"
    "Maybe,Elsewhere,2024-05-01,5e24,Likely\n"  # 5e23..5e25: possibly above 1e25
    "Dark,Elsewhere,2024-05-02,,\n"
)


def _parsed(text: str) -> known_models.RegistryImport:
    return known_models.read_registry(io.StringIO(text))


def _import(container: Container, actor: object, text: str, source: str = "test-registry") -> None:
    with container.uow() as uow:
        service.import_registry(
            uow,
            actor=actor,
            parsed=_parsed(text),
            source=source,
            file_name="registry.csv",  # type: ignore[arg-type]
            sha256=hashlib.sha256(text.encode()).hexdigest(),
            credit="Test data",
        )
        uow.commit()


def test_linking_a_submitted_model_counts_it_as_shared(container: Container) -> None:
    prog = make_program(container)
    coord = prog.actors["coordinator"]
    _import(container, coord, REGISTRY)
    with container.uow() as uow:
        known = {row.name: row.id for row in uow.session.scalars(select(KnownModel))}
        table = service.coverage_table(uow)
    cell = table.totals[1e25]
    assert (cell.known_low, cell.known_high, cell.shared_high) == (2, 3, 0)
    assert table.no_figure == 1
    with container.uow() as uow:
        service.link_model(
            uow, actor=coord, known_model_id=known["Model a"], model_id=prog.ids["model_a"]
        )
        uow.commit()
    with container.uow() as uow:
        cell = service.coverage_table(uow).totals[1e25]
        assert (cell.shared_low, cell.not_shared_low, cell.not_shared_high) == (1, 1, 2)
        with pytest.raises(Conflict, match="already linked"):
            service.link_model(
                uow, actor=coord, known_model_id=known["Model a"], model_id=prog.ids["model_b"]
            )
    with container.uow() as uow:
        service.unlink_model(uow, actor=coord, known_model_id=known["Model a"])
        uow.commit()
    with container.uow() as uow:
        assert service.coverage_table(uow).totals[1e25].shared_low == 0
        links = list(uow.session.scalars(select(KnownModelLink)))
        assert len(links) == 1 and links[0].unlinked_at is not None  # history kept
        actions = [e.action for e in uow.session.scalars(select(AuditEvent))]
        assert {"coverage.import", "coverage.link", "coverage.unlink"} <= set(actions)


def test_a_model_only_in_draft_is_not_shared(container: Container) -> None:
    prog = make_program(container)
    coord = prog.actors["coordinator"]
    firm = prog.actors["firm_a_admin"]
    with container.uow() as uow:
        from airlock.submissions import service as submissions

        lone = submissions.register_model(uow, actor=firm, name="Never submitted")
        uow.commit()
    _import(container, coord, REGISTRY)
    with container.uow() as uow:
        big = uow.session.scalars(select(KnownModel).where(KnownModel.name == "Big unshared")).one()
        service.link_model(uow, actor=coord, known_model_id=big.id, model_id=lone.id)
        uow.commit()
    with container.uow() as uow:
        assert service.coverage_table(uow).totals[1e26].shared_high == 0


def test_a_second_import_updates_figures_and_keeps_ids(container: Container) -> None:
    prog = make_program(container)
    coord = prog.actors["coordinator"]
    _import(container, coord, REGISTRY)
    with container.uow() as uow:
        before = {row.name: row.id for row in uow.session.scalars(select(KnownModel))}
    _import(
        container,
        coord,
        REGISTRY.replace("5e24,Likely", "5e25,Confident")
        + "Newcomer,Lab,2024-06-01,1e24,Confident\n",
    )
    with container.uow() as uow:
        after = {row.name: row for row in uow.session.scalars(select(KnownModel))}
        assert {name: row.id for name, row in after.items() if name in before} == before
        assert after["Maybe"].training_flop == 5e25 and len(after) == 5
        latest = service.latest_imports(uow).imports[0]
        assert (latest.added, latest.updated, latest.records) == (1, 4, 5)


def test_the_real_epoch_release_imports_and_counts(container: Container) -> None:
    prog = make_program(container)
    text = EPOCH.read_text(encoding="utf-8")
    _import(container, prog.actors["agency_admin"], text, source="epoch-notable")
    with container.uow() as uow:
        table = service.coverage_table(uow)
        stored = uow.session.scalars(select(KnownModel)).all()
    parsed = _parsed(text)
    assert table.models == len(parsed.records) == len(stored)
    with_figure = [r for r in parsed.records if r.training_flop]
    assert table.no_figure == len(parsed.records) - len(with_figure)
    # a model is "surely above 1e26" only when its low bound is; never more than "possibly"
    for threshold in table.thresholds:
        total = table.totals[threshold]
        assert 0 <= total.known_low <= total.known_high <= len(with_figure)
    assert table.totals[1e26].known_low >= 1  # Grok-3 at 4.64e26, confident


@pytest.mark.parametrize("role", ["reviewer", "firm_a_admin", "auditor"])
def test_only_coordinators_and_admins_manage_coverage(container: Container, role: str) -> None:
    prog = make_program(container)
    with container.uow() as uow, pytest.raises(Forbidden):
        service.import_registry(
            uow,
            actor=prog.actors[role],
            parsed=_parsed(REGISTRY),
            source="x",
            file_name="f.csv",
            sha256="0" * 64,
        )


def test_a_source_name_that_is_not_a_slug_is_refused(container: Container) -> None:
    prog = make_program(container)
    with container.uow() as uow, pytest.raises(InvalidInput, match="source"):
        service.import_registry(
            uow,
            actor=prog.actors["coordinator"],
            parsed=_parsed(REGISTRY),
            source="Epoch AI!",
            file_name="f.csv",
            sha256="0" * 64,
        )


def test_link_proposals_match_names_and_firms_fuzzily(container: Container) -> None:
    prog = make_program(container)
    coord = prog.actors["coordinator"]
    # make_program registers "Model a" for "Firm A" and "Model b" for "Firm B"
    _import(
        container,
        coord,
        "Model,Organization,Training compute (FLOP)\n"
        "model-A,Firm A Inc.,1e25\nModel b,Unrelated Lab,1e24\nSomething else,Firm A,1e24\n",
    )
    with container.uow() as uow:
        proposals = service.propose_links(uow, actor=coord)
        pairs = {(p.known_name, p.model_id) for p in proposals}
        assert ("model-A", prog.ids["model_a"]) in pairs
        # the same name from another developer, and a name one letter away, are no match
        assert ("Model b", prog.ids["model_b"]) not in pairs
        assert ("model-A", prog.ids["model_b"]) not in pairs
        assert not any(p.known_name == "Something else" for p in proposals)
        best = proposals[0]
        assert best.known_name == "model-A" and best.organisation_score > 80
        known_a = best.known_model_id
        service.link_model(uow, actor=coord, known_model_id=known_a, model_id=prog.ids["model_a"])
        uow.commit()
    with container.uow() as uow:
        assert all(p.known_model_id != known_a for p in service.propose_links(uow, actor=coord))


def test_blind_spots_list_unshared_models_above_a_threshold(container: Container) -> None:
    prog = make_program(container)
    coord = prog.actors["coordinator"]
    _import(container, coord, REGISTRY)
    with container.uow() as uow:
        names = [r.name for r in service.blind_spots(uow, actor=coord, threshold=1e25)]
        assert names == ["Big unshared", "Model a", "Maybe"]
        sure = [
            r.name
            for r in service.blind_spots(uow, actor=coord, threshold=1e25, include_uncertain=False)
        ]
        assert sure == ["Big unshared", "Model a"]
        with pytest.raises(Forbidden):
            service.blind_spots(uow, actor=prog.actors["reviewer"], threshold=1e25)
