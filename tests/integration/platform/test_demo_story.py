"""The demo program tells one consistent story (issue 11, item 10): each firm's dossiers name
that firm as the developer and the submission's own model, and no two firms share a model."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from airlock import demo
from airlock.accounts.models import Organisation
from airlock.submissions.models import AIModel, Submission


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_each_demo_firms_dossiers_describe_that_firm_and_its_own_model(container) -> None:
    assert demo.seed(container)
    assert not demo.seed(container)  # seeding twice adds nothing
    with container.uow() as uow:
        rows = uow.session.execute(
            select(Submission, Organisation.name, AIModel.name)
            .join(Organisation, Organisation.id == Submission.org_id)
            .join(AIModel, AIModel.id == Submission.model_id)
        ).all()
        models = uow.session.execute(select(AIModel.org_id, AIModel.name)).all()
    assert {firm for _, firm, _ in rows} == set(demo.FIRMS.values())
    for sub, firm, model in rows:
        sections = sub.dossier["sections"]
        assert sections["A"]["developer_name"]["value"] == firm, sub.title
        assert sections["B"]["model_name"]["value"] == model, sub.title
        assert sub.title.startswith(model), f"{sub.title!r} is not about {model}"
    owners: dict[str, set[str]] = {}
    for org_id, name in models:
        owners.setdefault(name, set()).add(org_id)
    assert all(len(orgs) == 1 for orgs in owners.values()), owners
