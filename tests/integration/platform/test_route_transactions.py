"""A route opens at most one transaction: it parses, calls services, commits once, renders.

Workflows that must span transactions (the chunked upload) live in `vault/flows.py` and are
handed the container's unit-of-work factory; routes never open a unit of work themselves.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterator
from pathlib import Path

import airlock
from airlock.core.uow import UnitOfWork
from airlock.web.deps import get_container, get_uow
from tests.factories.program import make_program, token_for

WEB = Path(airlock.__file__).resolve().parent / "web"


class CountingUnitOfWork(UnitOfWork):
    """A unit of work that counts how often it was opened and committed."""

    opened = 0
    committed = 0

    def __enter__(self) -> UnitOfWork:
        self.opened += 1
        return super().__enter__()

    def commit(self) -> None:
        self.committed += 1
        super().commit()


def test_no_request_opens_or_commits_the_routes_unit_of_work_more_than_once(client, container):
    prog = make_program(container)
    seen: list[CountingUnitOfWork] = []

    def counting_uow() -> Iterator[UnitOfWork]:
        uow = CountingUnitOfWork(container.session_factory, container.queue, container)
        seen.append(uow)
        yield uow

    client.app.dependency_overrides[get_uow] = counting_uow
    assert client.app.dependency_overrides.get(get_container) is None

    def as_(actor: str, html: bool = True) -> dict[str, str]:
        h = {"Authorization": f"Bearer {token_for(container, prog.actors[actor])}"}
        return {**h, "Accept": "text/html"} if html else h

    firm, coord, auditor = as_("firm_a_admin"), as_("coordinator"), as_("auditor")
    sub, draft = prog.ids["sub_a"], prog.ids["draft_a"]
    data = b"tiny config"
    requests = [
        ("GET", "/portal", firm, None),
        ("GET", f"/portal/submissions/{draft}", firm, None),
        ("POST", f"/portal/submissions/{draft}", firm, {"mode": "json", "raw_json": "{"}),
        ("POST", "/portal/models", firm, {"name": "Model a"}),  # taken: the form again
        ("POST", "/portal/models", firm, {"name": "Model z"}),
        ("GET", "/account", firm, None),
        ("POST", "/account/tokens", firm, {"name": "ci"}),
        ("GET", "/members", firm, None),
        ("POST", "/members/invite", firm, {"email": "new@firm-a.test", "role": "reviewer"}),
        ("GET", "/review", coord, None),
        ("GET", f"/review/submissions/{sub}", coord, None),
        ("POST", f"/review/submissions/{sub}/transition", coord, {"to": "nowhere"}),
        ("POST", f"/review/submissions/{sub}/transition", coord, {"to": "closed"}),
        ("POST", f"/review/submissions/{sub}/assign", coord, {"reviewer_id": "nobody"}),
        ("GET", "/review/firms", coord, None),
        ("POST", f"/review/firms/{prog.ids['org_b']}/state", coord, {"state": "suspended"}),
        ("POST", f"/review/firms/{prog.ids['org_b']}/state", coord, {"state": "active"}),
        ("GET", "/audit?verify=true", auditor, None),
    ]
    for method, url, headers, form in requests:
        before = len(seen)
        r = client.request(method, url, headers=headers, data=form, follow_redirects=False)
        assert r.status_code < 500, (url, r.status_code)
        for uow in seen[before:]:
            assert uow.opened == 1 and uow.committed <= 1, (method, url, uow.committed)
    api = as_("firm_a_admin", html=False)
    body = {"name": "config.json", "kind": "config", "size": len(data)}
    body["sha256"] = hashlib.sha256(data).hexdigest()
    up = client.post(f"/api/v1/submissions/{sub}/uploads", headers=api, json=body).json()
    r = client.put(f"/api/v1/uploads/{up['id']}/chunks/0", headers=api, content=data)
    assert r.status_code == 200
    assert client.post(f"/api/v1/uploads/{up['id']}/complete", headers=api).status_code == 201
    # A manifest read commits its audit row; the history is a plain read.
    for url, commits in (
        (f"/api/v1/submissions/{sub}/artifacts", 1),
        (f"/api/v1/submissions/{sub}/history", 0),
    ):
        before = len(seen)
        assert client.get(url, headers=api).status_code == 200
        assert [(u.opened, u.committed) for u in seen[before:]] == [(1, commits)]
    assert len(seen) >= len(requests)


def _routes(path: Path) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
            ast.unparse(d).startswith("router.") for d in node.decorator_list
        ):
            yield node


def test_routes_get_their_unit_of_work_from_the_dependency_and_open_it_once():
    checked = 0
    for path in sorted(WEB.rglob("*.py")):
        if path.name == "deps.py":  # signing in reads the session in a unit of work of its own
            continue
        tree = ast.parse(path.read_text())
        opened_here = [
            node.lineno
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "uow"
        ]
        assert opened_here == [], f"{path.relative_to(WEB)} opens units of work: {opened_here}"
        for route in _routes(path):
            withs = [n for n in ast.walk(route) if isinstance(n, ast.With)]
            assert len(withs) <= 1, f"{path.relative_to(WEB)}:{route.name} opens {len(withs)}"
            checked += 1
    assert checked > 40
