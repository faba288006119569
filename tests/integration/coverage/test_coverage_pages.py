"""Coverage pages and API: public figures with small cells withheld, and the agency's
blind spots and link confirmation through the page."""

from __future__ import annotations

import io
import re

from fastapi.testclient import TestClient

from airlock.bootstrap import Container
from airlock.coverage import known_models, service
from tests.factories.program import PASSWORD, make_program


def login(client: TestClient, email: str) -> None:
    r = client.post(
        "/login", data={"email": email, "password": PASSWORD, "next": "/"}, follow_redirects=False
    )
    assert r.status_code == 303, r.text


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def _registry(rows: int) -> str:
    """`rows` unrelated models above 1e25 plus firm A's "Model a" and firm B's "Model b"."""
    lines = ["Model,Organization,Publication date,Training compute (FLOP),Confidence"]
    lines += [
        f"Other {i},Lab {i},2024-0{1 + i % 9}-01,{2 + i % 5}e25,Confident" for i in range(rows)
    ]
    lines += [
        "Model a,Firm A,2024-02-01,3e25,Confident",
        "Model b,Firm B,2024-02-01,3e25,Confident",
    ]
    return "\n".join(lines) + "\n"


def _import(container: Container, text: str) -> None:
    with container.uow() as uow:
        service.import_registry(
            uow,
            actor=None,
            parsed=known_models.read_registry(io.StringIO(text)),
            source="test",
            file_name="t.csv",
            sha256="0" * 64,
            credit="Test credit",
        )
        uow.commit()


def test_the_public_page_works_before_any_import(client: TestClient, container: Container) -> None:
    r = client.get("/coverage")
    assert r.status_code == 200 and "No registry of known models has been imported" in r.text
    assert client.get("/api/v1/public/coverage").json()["models"] == 0


def test_a_coordinator_links_a_proposal_and_the_public_split_stays_withheld_while_small(
    client: TestClient, container: Container
) -> None:
    make_program(container)
    _import(container, _registry(20))
    login(client, "coordinator@agency.test")
    page = client.get("/review/coverage")
    assert page.status_code == 200 and "Other 0" in page.text  # blind spot listed
    known_a = re.search(
        r'name="known_model_id" value="([0-9a-f]+)"><input type="hidden" '
        r'name="model_id" value="([0-9a-f]+)"><button[^>]*>Link Model a to Model a',
        page.text,
    )
    assert known_a, page.text
    r = client.post(
        "/review/coverage/link",
        data={
            "csrf_token": csrf_of(page.text),
            "known_model_id": known_a.group(1),
            "model_id": known_a.group(2),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/review/coverage?linked=1"
    after = client.get(r.headers["location"])
    assert "Link recorded" in after.text
    # the same post again is refused with the reason, nothing new written
    again = client.post(
        "/review/coverage/link",
        data={
            "csrf_token": csrf_of(after.text),
            "known_model_id": known_a.group(1),
            "model_id": known_a.group(2),
        },
    )
    assert again.status_code == 409 and "already linked" in again.text
    client.post("/logout", data={"csrf_token": csrf_of(after.text)})
    public = client.get("/api/v1/public/coverage").json()
    at_1e25 = next(t for t in public["thresholds"] if t["threshold_flop"] == 1e25)
    assert at_1e25["known"] == 22
    assert at_1e25["shared"] is None and at_1e25["not_shared"] is None  # 1 shared < 5
    html = client.get("/coverage").text
    assert "withheld" in html and "Test credit" in html
    for secret in ("Firm A", "Firm B", "Model a", "Model b", "firm-a.test"):
        assert secret not in html and secret not in str(public)


def _share(container: Container, prog: object, names: list[str], *, submit: bool) -> None:
    """Register a model per known model, link them, and (if submit) send a version in."""
    from sqlalchemy import select

    from airlock.coverage.models import KnownModel
    from airlock.demo import example_dossier
    from airlock.submissions import service as submissions
    from airlock.submissions.rules import SubmissionState
    from tests.factories.program import ALL_SCOPES

    firm = prog.actors["firm_a_admin"]  # type: ignore[attr-defined]
    coord = prog.actors["coordinator"]  # type: ignore[attr-defined]
    with container.uow() as uow:
        for name in names:
            row = uow.session.scalars(select(KnownModel).where(KnownModel.name == name)).one()
            model = submissions.register_model(uow, actor=firm, name=f"Registered {name}")
            if submit:
                sub = submissions.create_submission(
                    uow,
                    actor=firm,
                    model_id=model.id,
                    title=name,
                    carries=ALL_SCOPES,
                    dossier=example_dossier("full"),
                    max_dossier_bytes=1 << 20,
                )
                submissions.transition(
                    uow, actor=firm, submission_id=sub.id, target=SubmissionState.SUBMITTED
                )
            service.link_model(uow, actor=coord, known_model_id=row.id, model_id=model.id)
        uow.commit()


def _at(public: dict, threshold: float) -> dict:  # type: ignore[type-arg]
    return next(t for t in public["thresholds"] if t["threshold_flop"] == threshold)


def test_linked_models_count_as_shared_only_once_a_version_was_submitted(
    client: TestClient, container: Container
) -> None:
    prog = make_program(container)
    _import(container, _registry(20))
    _share(container, prog, [f"Other {i}" for i in range(6)], submit=False)
    assert _at(client.get("/api/v1/public/coverage").json(), 1e25)["shared"] == 0


def test_the_split_is_published_once_counts_are_large_enough(
    client: TestClient, container: Container
) -> None:
    prog = make_program(container)
    _import(container, _registry(20))  # 22 known above 1e25, with stated figures 2e25..6e25
    _share(container, prog, [f"Other {i}" for i in range(6)], submit=True)
    public = client.get("/api/v1/public/coverage").json()
    at = _at(public, 1e25)
    assert (at["known"], at["shared"], at["not_shared"]) == (22, 6, 16)
    html = client.get("/coverage").text
    assert re.search(
        r"At least 10<sup>25</sup> FLOP</th><td>22</td><td>\d+ to \d+</td>\s*<td>6</td>", html
    )
