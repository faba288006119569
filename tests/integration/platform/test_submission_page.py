"""The submission page to work in (issue 11, items 4, 5 and 9): a summary header and a tab per
part for the agency and the firm, the files list polled while a scan is pending, the queue's
sorts and filters kept in the URL, and no move a firm's participation state forbids."""

from __future__ import annotations

import re

import pytest

from airlock.core.errors import Conflict, Forbidden
from airlock.enrollment import service as enrollment
from airlock.enrollment.rules import ParticipationState
from airlock.submissions import service as submissions
from tests.factories import vault as vault_factory
from tests.factories.accounts import auth
from tests.factories.program import PASSWORD, make_program

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

REVIEW_TABS = ("", "/dossier", "/artifacts", "/scan", "/history")
PORTAL_TABS = ("", "/overview", "/artifacts", "/scan", "/history")


def _sign_in(client, email: str) -> None:
    client.cookies.clear()
    r = client.post(
        "/login", data={"email": email, "password": PASSWORD, "next": "/"}, follow_redirects=False
    )
    assert r.status_code == 303


def _suspend(container, prog, org: str = "org_a") -> None:
    with container.uow() as uow:
        # an enrolled firm is activated before it can be suspended
        for target in (ParticipationState.ACTIVE, ParticipationState.SUSPENDED):
            enrollment.set_state(
                uow,
                actor=prog.actors["coordinator"],
                org_id=prog.ids[org],
                target=target,
                reason="test",
            )
        uow.commit()


def test_every_tab_has_the_summary_header_and_marks_itself_current(client, container) -> None:
    prog = make_program(container)
    sid = prog.ids["sub_a"]
    _sign_in(client, "reviewer@agency.test")
    for tab in REVIEW_TABS:
        r = client.get(f"/review/submissions/{sid}{tab}")
        assert r.status_code == 200, (tab, r.text[:500])
        page = r.text
        assert 'id="submission-summary"' in page
        assert "Firm A" in page and "Model a" in page  # firm and model by name
        assert 'data-state="accepted"' in page and ">Accepted<" in page  # the state in words
        assert "reviewer@agency.test" in page  # the assigned reviewer in the header
        assert 'aria-current="page"' in page
        current = re.search(r'<a href="([^"]+)" id="tab-[a-z]+" class="usa-current"', page)
        assert current and current.group(1) == f"/review/submissions/{sid}{tab}"
    _sign_in(client, "admin@firm-a.test")
    for tab in PORTAL_TABS:
        r = client.get(f"/portal/submissions/{sid}{tab}")
        assert r.status_code == 200, (tab, r.text[:500])
        assert 'id="submission-summary"' in r.text
        assert "reviewer@agency.test" not in r.text  # the firm sees a count, not who
        assert "1 assigned" in r.text


def test_the_history_tab_says_who_when_from_to_and_why(client, container) -> None:
    prog = make_program(container)
    sid = prog.ids["sub_a"]
    _sign_in(client, "coordinator@agency.test")
    page = client.get(f"/review/submissions/{sid}/history").text
    assert "admin@firm-a.test" in page and "coordinator@agency.test" in page
    assert "Submitted" in page and "Accepted" in page and "in_review" not in page
    _sign_in(client, "admin@firm-a.test")
    page = client.get(f"/portal/submissions/{sid}/history").text
    assert "The agency" in page and "coordinator@agency.test" not in page


def test_the_dossier_tab_is_collapsed_by_section_and_names_withheld_fields(
    client, container
) -> None:
    prog = make_program(container)
    _sign_in(client, "other_reviewer@agency.test")  # not assigned: confidential withheld
    page = client.get(f"/review/submissions/{prog.ids['sub_a']}/dossier").text
    assert '<details class="section" id="section-A">' in page  # collapsed
    assert "withheld" in page and "Withheld: shown only to assigned reviewers" in page
    table = page[page.index('<div id="dossier"') : page.index("<summary>Raw JSON")]
    assert "{'redacted'" not in table and "self_reported" not in table  # words, not values


def test_the_files_list_polls_while_a_scan_is_pending_and_stops_after(client, container) -> None:
    prog = make_program(container)
    sid = prog.ids["sub_a"]
    _sign_in(client, "reviewer@agency.test")
    live = client.get(f"/review/submissions/{sid}/artifacts/live")
    assert live.status_code == 200
    assert "<html" not in live.text  # a fragment, for htmx to swap in
    assert "hx-trigger" not in live.text  # no file waits: nothing to poll for
    _sign_in(client, "admin@firm-a.test")
    # the firm may still upload into its draft: sending files starts the polling, which goes
    # on while an upload is open or a file waits for its scan (each poll is an audited read)
    page = client.get(f"/portal/submissions/{prog.ids['draft_a']}/artifacts").text
    assert f'hx-get="/portal/submissions/{prog.ids["draft_a"]}/artifacts/live"' in page
    assert "submit from:#upload-form" in page and "every 3s" not in page
    assert 'id="upload-form"' in page
    client.cookies.clear()  # the API call goes with a token, not the page's session
    r = vault_factory.declare(
        client, auth(container, prog.actors["firm_a_admin"]), prog.ids["draft_a"], b"x" * 10
    )
    assert r.status_code in (200, 201), r.text
    _sign_in(client, "admin@firm-a.test")
    live = client.get(f"/portal/submissions/{prog.ids['draft_a']}/artifacts/live").text
    assert 'hx-trigger="every 3s' in live  # an upload is open: keep the list current


def test_the_scan_tab_includes_the_dossier_checks(client, container) -> None:
    prog = make_program(container)
    _sign_in(client, "reviewer@agency.test")
    page = client.get(f"/review/submissions/{prog.ids['sub_a']}/scan").text
    assert "Dossier checks" in page and "Files" in page
    _sign_in(client, "other_reviewer@agency.test")
    page = client.get(f"/review/submissions/{prog.ids['sub_a']}/scan").text
    assert 'id="scan-hidden"' in page  # need to know: counts only, in the header


def test_the_queue_sorts_and_filters_by_age_assignee_verdicts_and_deadline(
    client, container
) -> None:
    prog = make_program(container)
    _sign_in(client, "coordinator@agency.test")
    page = client.get("/review").text
    for column in ("Age", "Assigned to", "Scan verdicts", "Next deadline"):
        assert column in page
    assert "reviewer@agency.test" in page
    mine = client.get("/review?assignee=none").text  # sub_b has no reviewer, sub_a has one
    assert "RC of b" in mine and "RC of a" not in mine
    by_reviewer = client.get(f"/review?assignee={prog.actors['reviewer'].user_id}").text
    assert "RC of a" in by_reviewer and "RC of b" not in by_reviewer
    # the sort links keep the filters, and the filters survive in the form
    page = client.get("/review?assignee=none&sort=firm&order=asc").text
    assert 'href="?assignee=none&amp;sort=age"' in page
    assert 'aria-sort="ascending"' in page
    assert '<option value="none" selected>' in page
    a_first = client.get("/review?sort=firm&order=asc").text
    b_first = client.get("/review?sort=firm&order=desc").text
    assert a_first.index("RC of a") < a_first.index("RC of b")
    assert b_first.index("RC of b") < b_first.index("RC of a")
    assert client.get("/review?deadline=overdue").text.count("/review/submissions/") == 0
    assert client.get("/review?verdict=clear").status_code == 200
    assert client.get("/review?sort=nonsense").status_code == 200  # falls back to updated


def test_the_firm_dashboard_names_what_needs_the_firms_action(client, container) -> None:
    make_program(container)
    _sign_in(client, "admin@firm-a.test")
    page = client.get("/portal").text
    assert 'id="todo"' in page
    assert "Complete and submit the draft Draft of a" in page
    assert 'id="firm-counts"' in page and "<title" in page  # the chart and its table


def test_a_suspended_firm_is_offered_nothing_that_would_fail(client, container) -> None:
    prog = make_program(container)
    _suspend(container, prog)
    _sign_in(client, "admin@firm-a.test")
    dash = client.get("/portal").text
    assert 'id="participation-notice"' in dash
    assert 'id="new-submission"' not in dash and 'action="/portal/models"' not in dash
    editor = client.get(f"/portal/submissions/{prog.ids['draft_a']}").text
    assert 'id="participation-notice"' in editor
    assert 'id="save"' not in editor and 'id="dossier-form"' not in editor
    files = client.get(f"/portal/submissions/{prog.ids['draft_a']}/artifacts").text
    assert 'id="upload-form"' not in files and "suspended" in files
    new = client.get("/portal/submissions/new").text
    assert 'id="create-submission"' not in new and "suspended" in new
    with container.uow() as uow, pytest.raises(Forbidden):
        submissions.register_model(uow, actor=prog.actors["firm_a_admin"], name="Another")


def test_the_agency_is_offered_no_move_a_withdrawn_firm_forbids(client, container) -> None:
    prog = make_program(container)
    with container.uow() as uow:
        enrollment.withdraw(uow, actor=prog.actors["firm_a_admin"], reason="leaving")
        uow.commit()
    _sign_in(client, "coordinator@agency.test")
    sid = prog.ids["sub_a"]
    page = client.get(f"/review/submissions/{sid}").text
    assert 'id="participation-notice"' in page and "withdrawn" in page
    assert 'id="assign"' not in page and 'id="to-in_review"' not in page
    assert "Grant access to restricted fields" not in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = client.post(
        f"/review/submissions/{sid}/assign",
        data={"csrf_token": token, "reviewer_id": prog.actors["other_reviewer"].user_id},
    )
    assert r.status_code == 409
    with container.uow() as uow:
        assert (
            submissions.allowed_moves(uow, actor=prog.actors["reviewer"], submission_id=sid) == []
        )
        with pytest.raises(Conflict):
            submissions.assign_reviewer(
                uow,
                actor=prog.actors["coordinator"],
                submission_id=sid,
                reviewer_id=prog.actors["other_reviewer"].user_id,
            )
