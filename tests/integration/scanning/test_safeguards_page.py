"""The safeguards coverage view (issue 14 item 4): the ATLAS matrix of a submission coloured by
whether its declared controls cover each technique, with a table alternative, reached from
the agency's submission page."""

from __future__ import annotations

import copy
import re
from html import unescape

from airlock.scanning.dossier import coverage
from airlock.scanning.dossier.catalogue import load_catalogue
from airlock.submissions import service as submissions
from airlock.submissions.rules import SubmissionState as SS
from tests.factories.accounts import PASSWORD
from tests.factories.program import ALL_SCOPES, example, make_program

INPUT_FILTERING = "AML.M0015"  # ATLAS: Adversarial Input Detection


def only_input_filtering() -> dict:
    """The full example dossier declaring one control, input filtering, served by API."""
    doc = copy.deepcopy(example("full"))
    first = doc["sections"]["H"]["controls"][0]
    first["control_id"]["value"] = INPUT_FILTERING
    first["title"]["value"] = "Prompt filtering before the model"
    doc["sections"]["H"]["controls"] = [first]
    doc["sections"]["F"]["distribution_channels"]["value"] = ["api"]
    return doc


def login(client, email: str) -> None:
    client.cookies.clear()
    r = client.post("/login", data={"email": email, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text


def submitted_with(container, prog, doc: dict) -> str:
    with container.uow() as uow:
        admin = prog.actors["firm_a_admin"]
        sub = submissions.create_submission(
            uow,
            actor=admin,
            model_id=prog.ids["model_a"],
            title="Input filter only",
            carries=ALL_SCOPES,
            dossier=doc,
            max_dossier_bytes=1 << 20,
        )
        submissions.transition(uow, actor=admin, submission_id=sub.id, target=SS.SUBMITTED)
        coord = prog.actors["coordinator"]
        submissions.transition(uow, actor=coord, submission_id=sub.id, target=SS.ACCEPTED)
        submissions.assign_reviewer(
            uow, actor=coord, submission_id=sub.id, reviewer_id=prog.actors["reviewer"].user_id
        )
        uow.commit()
        return sub.id


def test_a_dossier_declaring_only_input_filtering_lists_the_uncovered_atlas_techniques(
    client, container
) -> None:
    prog = make_program(container)
    sid = submitted_with(container, prog, only_input_filtering())
    login(client, "reviewer@agency.test")

    sub_page = client.get(f"/review/submissions/{sid}").text
    link = re.search(r'<a href="([^"]+)" id="safeguards-link">Safeguards coverage</a>', sub_page)
    assert link is not None and link.group(1) == f"/review/submissions/{sid}/safeguards"
    r = client.get(link.group(1))
    assert r.status_code == 200, r.text
    html = r.text

    atlas = load_catalogue()["atlas"]
    techniques = {t["id"]: t for t in atlas["techniques"]}
    filtered = {
        (techniques[t]["parent"] or t)
        for m in atlas["mitigations"]
        if m["id"] == INPUT_FILTERING
        for t in m["techniques"]
    }
    # What the page must list: reachable through an API, addressed by some mitigation, and not
    # by input filtering (computed here from the catalogue, not from the page's engine).
    addressable = {
        (techniques[t]["parent"] or t) for m in atlas["mitigations"] for t in m["techniques"]
    }
    expected = {
        t["id"]
        for t in atlas["techniques"]
        if not t["parent"]
        and coverage.relevant(t["id"], {"api"})
        and t["id"] in addressable
        and t["id"] not in filtered
    }
    listed = set(
        re.findall(
            r'<li data-technique="(AML\.T\d{4})">', html.split('id="uncovered-techniques"')[1]
        )
    )
    assert listed == expected and len(expected) > 20
    # Prompt injection and the supply chain stay uncovered by input filtering alone.
    assert {"AML.T0051", "AML.T0010"} <= listed
    # The matrix: tactics as columns, cells coloured (and labelled) by status.
    cells = dict(re.findall(r'data-technique="(AML\.T\d{4})" data-status="(\w+)"', html))
    covered = {t for t, s in cells.items() if s == "covered"}
    assert covered == filtered & set(cells) and covered
    assert {t for t, s in cells.items() if s == "uncovered"} == expected
    for tactic in atlas["tactics"]:
        if any(tactic["id"] in techniques[t]["tactics"] for t in cells):
            assert f'id="tactic-{tactic["id"].replace(".", "-")}"' in html
    assert 'class="atlas-cell atlas-uncovered"' in html and "Not covered" in html
    # The table alternative carries the same statuses, one row per technique and tactic.
    table = unescape(html.split('id="coverage-table-rows"')[1])
    for tid in ("AML.T0051", next(iter(covered))):
        assert tid in table
    assert table.count("<tr>") - 1 == sum(len(techniques[t]["tactics"]) for t in cells)
    assert INPUT_FILTERING in unescape(html.split('id="declared-controls"')[1])


def test_the_coverage_view_is_for_agency_staff_only(client, container) -> None:
    prog = make_program(container)
    login(client, "admin@firm-a.test")
    r = client.get(f"/review/submissions/{prog.ids['sub_a']}/safeguards")
    assert r.status_code == 403
    login(client, "other_reviewer@agency.test")  # not assigned: public fields only, said so
    r = client.get(f"/review/submissions/{prog.ids['sub_a']}/safeguards")
    assert r.status_code == 200 and 'id="redacted-note"' in r.text
    r = client.get("/review/submissions/no-such-submission/safeguards")
    assert r.status_code == 404


def test_the_dossier_checks_page_shows_the_stored_compute_estimate_and_results(client, container):
    # Issue 14 items 1 and 6: the estimate is stored with its method and inputs and shown,
    # with the other dossier checks' results, from the submission page.
    prog = make_program(container)
    sid = submitted_with(container, prog, only_input_filtering())
    container.queue.start()
    container.queue.join()
    login(client, "reviewer@agency.test")
    sub_page = client.get(f"/review/submissions/{sid}").text
    assert f'href="/review/submissions/{sid}/dossier-checks" id="dossier-checks-link"' in sub_page
    html = unescape(client.get(f"/review/submissions/{sid}/dossier-checks").text)
    expected = coverage.check_coverage(only_input_filtering())  # the same engine, unsealed
    assert re.search(r'id="compute-range">Estimated <strong>[\d.e+]+ to [\d.e+]+ FLOP', html)
    estimates = html.split('id="compute-estimates"')[1].split("</table>")[0]
    assert "6ND" in estimates and "hardware" in estimates and "chips: 4096" in estimates
    assert "EU AI Act Art. 51" in html.split('id="compute-thresholds"')[1]
    coverage_rows = html.split('id="check-dossier-coverage"')[1].split("</section>")[0]
    assert coverage_rows.count('data-rule="DOS-COV-001"') == len(
        [r for r in expected.results if r.rule_id == "DOS-COV-001"]
    )
    assert "AML.T0051" in coverage_rows
    # Not for reviewers not assigned (the results are sealed for need-to-know).
    login(client, "other_reviewer@agency.test")
    assert client.get(f"/review/submissions/{sid}/dossier-checks").status_code == 403
