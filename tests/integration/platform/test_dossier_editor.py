"""The dossier editor (issue 11, item 3): structured groups from the schema, drafts saved as
typed, a submit that lists every problem at once with links to the fields, and the example
dossiers of the demo filled in through the structured form alone."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from airlock.dossiers import rules as dossier_rules
from airlock.submissions import service as submissions
from airlock.submissions.models import Submission
from airlock.web.pages import dossier_form
from tests.factories.program import ALL_SCOPES, PASSWORD, example, make_program
from tests.integration.platform.editor_forms import successful_controls

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _checkbox_keys(spec: dossier_form.Spec) -> list[list[str]]:
    here = [[spec.key]] if spec.input == "checkboxes" else []
    return here + [k for c in spec.children for k in _checkbox_keys(c)]


CHECKBOXES = [k for s in dossier_form.layout() for k in _checkbox_keys(s)]


def _sign_in(client, email: str) -> str:
    r = client.post(
        "/login", data={"email": email, "password": PASSWORD, "next": "/"}, follow_redirects=False
    )
    assert r.status_code == 303, r.text[:300]
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account").text).group(1)


def _draft(client, csrf: str, model_id: str, title: str, carries: list[str]) -> str:
    r = client.post(
        "/portal/submissions",
        data={"csrf_token": csrf, "model_id": model_id, "title": title, "carries": carries},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:500]
    assert r.headers["location"].split("?")[0].endswith("/dossier/A")
    return r.headers["location"].split("/")[3]


def _stored(container, sub_id: str) -> tuple[dict, str]:
    with container.uow() as uow:
        sub = uow.session.get(Submission, sub_id)
        return submissions.stored_dossier(uow, sub=sub), sub.state


def _section_form(client, sub_id: str, key: str) -> tuple[list[tuple[str, str]], set[str]]:
    r = client.get(f"/portal/submissions/{sub_id}/dossier/{key}")
    assert r.status_code == 200, r.text[:300]
    return successful_controls(r.text, "dossier-form")


@pytest.mark.parametrize("name", ["full", "minimal", "helios_orion"])
def test_each_demo_dossier_fills_a_fresh_draft_through_the_structured_form(
    client, container, name
) -> None:
    prog = make_program(container)
    csrf = _sign_in(client, "admin@firm-a.test")
    doc = example(name)
    carried = [s for s in ALL_SCOPES if s != "eval_endpoint" or "eval_endpoint" in str(doc)]
    with container.uow() as uow:
        source = submissions.create_submission(
            uow,
            actor=prog.actors["firm_a_admin"],
            model_id=prog.ids["model_a"],
            title=f"source {name}",
            carries=ALL_SCOPES,
            dossier=doc,
            max_dossier_bytes=1 << 20,
        )
        uow.commit()
        source_id = source.id
    fresh = _draft(client, csrf, prog.ids["model_a"], f"fresh {name}", ALL_SCOPES)
    for spec in dossier_form.layout():
        fields, names = _section_form(client, source_id, spec.key)
        # the form posts nothing raw: no JSON boxes, every value in an input of its own
        assert not any(n.startswith("v:") and "." not in n for n in names)
        for required in dossier_rules.REQUIRED_ON_SUBMIT.get(spec.key, ()):
            assert any(n.startswith(f"v:{spec.key}.{required}") for n in names), required
        posted: dict[str, list[str]] = {"action": ["save"]}
        for k, v in fields:
            posted.setdefault(k, []).append(v)
        r = client.post(
            f"/portal/submissions/{fresh}/dossier/{spec.key}", data=posted, follow_redirects=False
        )
        assert r.status_code == 303, r.text[:500]
    stored, _ = _stored(container, fresh)
    with container.uow() as uow:
        original = submissions.stored_dossier(uow, sub=uow.session.get(Submission, source_id))
    assert _differences(stored, original) == []
    del carried


def _differences(got: object, want: object, at: str = "") -> list[str]:
    """Where two JSON values differ, as paths (for a readable failure)."""
    if isinstance(got, dict) and isinstance(want, dict):
        out = []
        for k in sorted(set(got) | set(want)):
            out += _differences(got.get(k), want.get(k), f"{at}.{k}")
        return out
    if isinstance(got, list) and isinstance(want, list) and at.split(".")[-2:-1] in CHECKBOXES:
        # ticked boxes are posted in the order the page lists them: a set, not a sequence
        got, want = sorted(got), sorted(want)
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        return [
            d for i, (g, w) in enumerate(zip(got, want)) for d in _differences(g, w, f"{at}.{i}")
        ]
    return [] if got == want and type(got) is type(want) else [f"{at}: {got!r} != {want!r}"]


def test_a_draft_keeps_what_was_typed_and_submit_lists_every_problem_with_links(
    client, container
) -> None:
    prog = make_program(container)
    csrf = _sign_in(client, "admin@firm-a.test")
    sub_id = _draft(client, csrf, prog.ids["model_a"], "typed as is", ["architecture"])
    base = f"/portal/submissions/{sub_id}/dossier"
    form = {
        "csrf_token": csrf,
        "v:A.developer_name": "Firm A",
        "d:A.developer_name": "public",
        "p:A.developer_name": "self_reported",
        "v:A.contact_email": "not-an-email",
        "v:A.website": "ftp://nowhere",
        "v:A.submission_date": "31/12/2026",
        "action": "save",
    }
    r = client.post(f"{base}/A", data=form, follow_redirects=False)
    assert r.status_code == 303 and "done=draft_saved" in r.headers["location"]
    page = client.get(f"{base}/A").text
    # kept as typed, with the problem at its field, and in words (never a raw path)
    assert 'value="not-an-email"' in page and 'value="31/12/2026"' in page
    field = page[page.index('id="f-A-contact_email"') :][:3000]
    assert "usa-form-group--error" in page[page.index('id="f-A-contact_email"') - 120 :][:200]
    assert "usa-error-message" in field
    assert "sections.A" not in page
    stored, _ = _stored(container, sub_id)
    assert "not-an-email" not in str(stored)  # the dossier itself holds only valid content

    # section C with a number that is not one
    r = client.post(
        f"{base}/C",
        data={"csrf_token": csrf, "v:C.parameters_total": "seventy billion", "action": "save"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = client.post(f"{base}/B", data={"csrf_token": csrf, "action": "submit"})
    assert r.status_code == 422
    problems = re.findall(r'<li><a href="([^"]*)">([^<]*)</a>: ([^<]*)</li>', r.text)
    titles = [t for _, t, _ in problems]
    assert any("Contact email" in t for t in titles), problems
    assert any("Website" in t for t in titles)
    assert any("Submission date" in t for t in titles)
    assert any("Parameters total" in t for t in titles)
    assert any(t.startswith("B. Model identity") and "Model name" in t for t in titles)
    assert any(t.endswith("Versions") for t in titles)
    assert not any(re.search(r"\w\.\w|\[\d|_", t) for t in titles), titles
    # every link leads to an element of that id on its page
    for href, _, _ in problems:
        path, anchor = href.split("#")
        target = client.get(path or f"{base}/B").text
        assert f'id="{anchor}"' in target, href
    # nothing typed was discarded by the refused submit
    assert 'value="not-an-email"' in client.get(f"{base}/A").text
    # after a submit was tried, the missing fields show at the fields too
    assert "Fill in this field to submit." in client.get(f"{base}/B").text

    fixed = {
        "csrf_token": csrf,
        "v:A.developer_name": "Firm A",
        "v:A.contact_email": "security@firm-a.test",
        "action": "save",
    }
    assert client.post(f"{base}/A", data=fixed, follow_redirects=False).status_code == 303
    c = {
        "csrf_token": csrf,
        "v:C.architecture": "dense_transformer",
        "v:C.parameters_total": "70,000,000,000",
        "action": "save",
    }
    assert client.post(f"{base}/C", data=c, follow_redirects=False).status_code == 303
    b = {
        "csrf_token": csrf,
        "v:B.model_name": "Model a",
        "v:B.versions.0.version": "1.0",
        "action": "submit",
    }
    r = client.post(f"{base}/B", data=b, follow_redirects=False)
    assert r.status_code == 303, re.findall(r"<li><a[^>]*>[^<]*</a>: [^<]*</li>", r.text)
    stored, state = _stored(container, sub_id)
    assert state == "submitted"
    assert stored["sections"]["C"]["parameters_total"]["value"] == 70_000_000_000
    assert stored["sections"]["B"]["versions"][0]["version"]["value"] == "1.0"


def test_groups_are_added_removed_and_reordered_with_plain_posts(client, container) -> None:
    prog = make_program(container)
    csrf = _sign_in(client, "admin@firm-a.test")
    sub_id = _draft(client, csrf, prog.ids["model_a"], "groups", [])
    base = f"/portal/submissions/{sub_id}/dossier"

    def post(action: str, **values: str) -> str:
        data = {"csrf_token": csrf, "action": action, **values}
        r = client.post(f"{base}/B", data=data, follow_redirects=False)
        assert r.status_code == 303, r.text[:300]
        return r.headers["location"]

    post("add:B.versions", **{"v:B.versions.0.version": "one"})
    where = post(
        "add:B.versions.0.authenticity_hashes",
        **{"v:B.versions.0.version": "one", "v:B.versions.1.version": "two"},
    )
    assert where.endswith("#f-B-versions-0-authenticity_hashes-0")
    page = client.get(f"{base}/B").text
    assert 'id="f-B-versions-0-authenticity_hashes-0-digest"' in page
    assert "Authenticity hash 1" in page and "Version 2" in page
    post("up:B.versions.1", **{"v:B.versions.0.version": "one", "v:B.versions.1.version": "two"})
    fields, _ = _section_form(client, sub_id, "B")
    values = dict(fields)
    assert values["v:B.versions.0.version"] == "two" and values["v:B.versions.1.version"] == "one"
    post("remove:B.versions.0", **{k: v for k, v in fields if k.startswith(("v:", "d:", "p:"))})
    fields, _ = _section_form(client, sub_id, "B")
    assert dict(fields)["v:B.versions.0.version"] == "one"
    assert "v:B.versions.1.version" not in dict(fields)
    with container.uow() as uow:
        sub = uow.session.scalars(select(Submission).where(Submission.id == sub_id)).one()
        assert sub.state == "draft"


def test_the_overview_saves_raw_json_and_what_the_submission_carries(client, container) -> None:
    prog = make_program(container)
    csrf = _sign_in(client, "admin@firm-a.test")
    sub_id = _draft(client, csrf, prog.ids["model_a"], "json", [])
    base = f"/portal/submissions/{sub_id}/dossier"
    page = client.get(base).text
    assert 'id="checklist"' in page and "Required, not started" in page
    r = client.post(base, data={"csrf_token": csrf, "action": "json", "raw_json": "{"})
    assert r.status_code == 422 and "The JSON is not valid" in r.text
    doc = example("minimal")
    import json

    r = client.post(
        base,
        data={"csrf_token": csrf, "action": "json", "raw_json": json.dumps(doc)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = client.post(
        base,
        data={"csrf_token": csrf, "title": "json v2", "version": "2", "carries": ["safeguards"]},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "H. Safeguards" in client.get(base).text
    with container.uow() as uow:
        sub = uow.session.get(Submission, sub_id)
        assert sub.title == "json v2" and sub.carries == ["safeguards"]


def test_agency_staff_and_other_firms_cannot_open_or_post_the_editor(client, container) -> None:
    prog = make_program(container)
    draft = prog.ids["draft_a"]
    csrf = _sign_in(client, "admin@firm-b.test")
    assert client.get(f"/portal/submissions/{draft}/dossier/A").status_code == 404
    r = client.post(f"/portal/submissions/{draft}/dossier/A", data={"csrf_token": csrf})
    assert r.status_code == 404
    client.cookies.clear()
    csrf = _sign_in(client, "coordinator@agency.test")
    assert client.get(f"/portal/submissions/{draft}/dossier").status_code == 403
    r = client.post(f"/portal/submissions/{draft}/dossier", data={"csrf_token": csrf})
    assert r.status_code == 403
    client.cookies.clear()
    csrf = _sign_in(client, "admin@firm-a.test")
    assert client.get(f"/portal/submissions/{draft}/dossier/Z").status_code == 404
    sub = prog.ids["sub_a"]  # accepted: no longer editable
    r = client.post(f"/portal/submissions/{sub}/dossier/A", data={"csrf_token": csrf})
    assert r.status_code == 409
