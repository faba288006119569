"""Every API route and page, driven with every role (anonymous and a second firm included)."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute

from tests.factories.program import make_program, token_for

ROLES = [
    "anonymous",
    "firm_a_admin",
    "firm_a_member",
    "firm_b_admin",
    "coordinator",
    "reviewer",
    "other_reviewer",
    "agency_admin",
    "auditor",
]
FIRM_A = {"firm_a_admin", "firm_a_member"}
STAFF = {"coordinator", "reviewer", "other_reviewer", "agency_admin"}


def expect(default: int, **by_role: int) -> dict[str, int]:
    """Expected status per role: `default` for signed-in roles not named, 401 for anonymous."""
    out = {r: default for r in ROLES}
    out["anonymous"] = 401
    out.update(by_role)
    return out


def group(roles: set[str], status: int) -> dict[str, int]:
    return dict.fromkeys(roles, status)


FINDING_READ = expect(
    403, **group(FIRM_A, 404), firm_b_admin=404, reviewer=200, coordinator=200, agency_admin=200
)
FINDING_TRIAGE = expect(403, **group(FIRM_A, 404), firm_b_admin=404, reviewer=422, coordinator=422)

# (method, path template, JSON body or None, expected statuses). {sub_a} is firm A's accepted
# submission with `reviewer` assigned; {draft_a} a draft of firm A; {org_a} firm A's id.
API: list[tuple[str, str, Any, dict[str, int]]] = [
    ("GET", "/api/v1/health", None, expect(200, anonymous=200)),
    ("GET", "/api/v1/schemas/dossier", None, expect(200, anonymous=200)),
    ("GET", "/api/v1/me", None, expect(200)),
    ("GET", "/api/v1/tokens", None, expect(200)),
    ("POST", "/api/v1/tokens", {"name": "matrix"}, expect(201)),
    ("DELETE", "/api/v1/tokens/{foreign_token}", None, expect(404)),
    ("GET", "/api/v1/members", None, expect(200)),
    (
        "POST",
        "/api/v1/invitations",
        {"email": "new-{role}@x.test", "role": "developer_member"},
        expect(403, firm_a_admin=201, firm_b_admin=201, agency_admin=422),
    ),
    (
        "GET",
        "/api/v1/participation",
        None,
        expect(404, **group(FIRM_A, 200), firm_b_admin=200, auditor=403),
    ),
    (
        "PUT",
        "/api/v1/participation/scopes",
        {
            "scopes": [
                "architecture",
                "weights",
                "training_data_docs",
                "safeguards",
                "eval_endpoint",
            ]
        },
        expect(403, firm_a_admin=200, firm_b_admin=200),
    ),
    (
        "POST",
        "/api/v1/participation/enroll",
        {"agreement_version": "2026-1", "scopes": []},
        expect(403, firm_a_admin=409, firm_b_admin=409),
    ),
    ("POST", "/api/v1/participation/withdraw", {"confirm": False}, expect(422)),
    ("GET", "/api/v1/firms", None, expect(403, **group(STAFF, 200), auditor=200)),
    (
        "POST",
        "/api/v1/firms/{org_a}/participation",
        {"state": "enrolled"},
        expect(403, coordinator=422, agency_admin=422),
    ),
    ("GET", "/api/v1/models", None, expect(200, auditor=403)),
    (
        "POST",
        "/api/v1/models",
        {"name": "model-{role}"},
        expect(403, **group(FIRM_A, 201), firm_b_admin=201),
    ),
    ("GET", "/api/v1/submissions", None, expect(403, **group(FIRM_A, 200), firm_b_admin=200)),
    (
        "POST",
        "/api/v1/submissions",
        {"model_id": "{model_a}", "title": "t"},
        expect(403, **group(FIRM_A, 201), firm_b_admin=404),
    ),
    ("GET", "/api/v1/submissions/{sub_a}", None, expect(200, firm_b_admin=404, auditor=403)),
    ("GET", "/api/v1/submissions/{draft_a}", None, expect(404, **group(FIRM_A, 200), auditor=403)),
    (
        "PATCH",
        "/api/v1/submissions/{sub_a}",
        {"title": "new"},
        expect(403, **group(FIRM_A, 409), firm_b_admin=404),
    ),
    (
        "GET",
        "/api/v1/submissions/{sub_a}/dossier",
        None,
        expect(200, firm_b_admin=404, auditor=403),
    ),
    (
        "GET",
        "/api/v1/submissions/{sub_a}/dossier/export?format=sb53&audience=agency",
        None,
        expect(200, firm_b_admin=404, auditor=403),
    ),
    (
        "POST",
        "/api/v1/dossiers/validate",
        {"schema_version": "1.1.0", "sections": {}},
        expect(200, auditor=403),
    ),
    (
        "POST",
        "/api/v1/submissions/{sub_a}/transitions",
        {"to": "closed"},
        expect(403, firm_b_admin=404, coordinator=409, agency_admin=409),
    ),
    (
        "GET",
        "/api/v1/submissions/{sub_a}/history",
        None,
        expect(200, firm_b_admin=404, auditor=403),
    ),
    (
        "GET",
        "/api/v1/submissions/{sub_a}/assignments",
        None,
        expect(200, firm_b_admin=404, auditor=403),
    ),
    (
        "POST",
        "/api/v1/submissions/{sub_a}/assignments",
        {"reviewer_id": "{firm_user}"},
        expect(403, firm_b_admin=404, coordinator=422, agency_admin=422),
    ),
    (
        "GET",
        "/api/v1/submissions/{sub_a}/restricted-grants",
        None,
        expect(403, **group(STAFF, 200), firm_b_admin=404),
    ),
    (
        "POST",
        "/api/v1/submissions/{sub_a}/restricted-grants",
        {"reviewer_id": "{firm_user}"},
        expect(403, firm_b_admin=404, coordinator=422, agency_admin=422),
    ),
    (
        "DELETE",
        "/api/v1/submissions/{sub_a}/restricted-grants/{firm_user}",
        None,
        expect(403, firm_b_admin=404, coordinator=404, agency_admin=404),
    ),
    (
        "GET",
        "/api/v1/submissions/{sub_a}/endpoint-key",
        None,
        expect(403, **group(FIRM_A, 200), firm_b_admin=404),
    ),
    (
        "PUT",
        "/api/v1/submissions/{sub_a}/endpoint-key",
        {"api_key": "sk-matrix"},
        expect(403, **group(FIRM_A, 200), firm_b_admin=404),
    ),
    (
        "DELETE",
        "/api/v1/submissions/{sub_a}/endpoint-key",
        None,
        expect(403, **group(FIRM_A, 204), firm_b_admin=404),
    ),
    ("GET", "/api/v1/queue", None, expect(403, **group(STAFF, 200))),
    ("GET", "/api/v1/audit", None, expect(403, auditor=200, agency_admin=200)),
    ("GET", "/api/v1/audit/verify", None, expect(403, auditor=200, agency_admin=200)),
    ("GET", "/api/v1/public/coverage", None, expect(200, anonymous=200)),
    # the public site (issue 12): anyone; unknown reports and advisories are 404 for all
    ("GET", "/api/v1/public/home", None, expect(200, anonymous=200)),
    ("GET", "/api/v1/public/reports", None, expect(200, anonymous=200)),
    ("GET", "/api/v1/public/reports/2025Q3", None, expect(404, anonymous=404)),
    ("GET", "/api/v1/public/advisories", None, expect(200, anonymous=200)),
    ("GET", "/api/v1/public/advisories/NOPE-1", None, expect(404, anonymous=404)),
    ("GET", "/api/v1/public/advisories/NOPE-1/csaf", None, expect(404, anonymous=404)),
    ("GET", "/api/v1/public/advisories/NOPE-1/avid", None, expect(404, anonymous=404)),
    (
        "PUT",
        "/api/v1/participation/public-name",
        {"consent": False},
        expect(403, firm_a_admin=200, firm_b_admin=200),
    ),
    # report snapshots: coordinators read, agency admins build and publish
    ("POST", "/api/v1/reports", {"period": "2025Q9"}, expect(403, agency_admin=422)),
    ("GET", "/api/v1/reports/{sub_a}", None, expect(403, coordinator=404, agency_admin=404)),
    ("GET", "/api/v1/reports/{sub_a}/audit", None, expect(403, coordinator=404, agency_admin=404)),
    ("POST", "/api/v1/reports/{sub_a}/publish", {}, expect(403, agency_admin=404)),
    ("GET", "/api/v1/coverage/known-models", None, expect(403, coordinator=200, agency_admin=200)),
    ("GET", "/api/v1/coverage/blind-spots", None, expect(403, coordinator=200, agency_admin=200)),
    (
        "POST",
        "/api/v1/coverage/known-models/{sub_a}/link",
        {"model_id": "0" * 32},
        expect(403, coordinator=404, agency_admin=404),
    ),
    (
        "DELETE",
        "/api/v1/coverage/known-models/{sub_a}/link",
        None,
        expect(403, coordinator=404, agency_admin=404),
    ),
    # cases: {case_a} is sub_a's case (coordinator, reviewer and firm A's admin take part),
    # {thread_a} its general thread, {deadline_a} a deadline with a pending {extension_a},
    # {advisory_a} a draft advisory, {webhook_a} firm A's endpoint.
    ("GET", "/api/v1/cases", None, expect(200, auditor=403)),
    (
        "POST",
        "/api/v1/cases",
        {"submission_id": "{sub_a}"},
        expect(403, coordinator=201, agency_admin=201),
    ),
    (
        "GET",
        "/api/v1/cases/{case_a}",
        None,
        expect(200, firm_b_admin=404, other_reviewer=404, auditor=403),
    ),
    (
        "POST",
        "/api/v1/cases/{case_a}/participants",
        {"user_id": "{firm_user}", "role": "observer"},
        expect(403, coordinator=422, agency_admin=422),
    ),
    (
        "DELETE",
        "/api/v1/cases/{case_a}/participants/{firm_user}",
        None,
        expect(403, coordinator=404, agency_admin=404),
    ),
    (
        "GET",
        "/api/v1/threads/{thread_a}/messages",
        None,
        expect(
            403,
            firm_a_admin=200,
            firm_b_admin=404,
            coordinator=200,
            reviewer=200,
            other_reviewer=404,
        ),
    ),
    (
        "POST",
        "/api/v1/threads/{thread_a}/messages",
        {"text": "hello from {role}"},
        expect(
            403,
            firm_a_admin=201,
            firm_b_admin=404,
            coordinator=201,
            reviewer=201,
            other_reviewer=404,
        ),
    ),
    (
        "POST",
        "/api/v1/cases/{case_a}/embargo",
        {"target": "active"},
        expect(403, coordinator=409, agency_admin=409),
    ),
    (
        "POST",
        "/api/v1/cases/{case_a}/public-event",
        {"event": "public", "note": " "},
        expect(403, coordinator=422, agency_admin=422),
    ),
    (
        "POST",
        "/api/v1/cases/{case_a}/consent",
        None,
        expect(403, firm_a_admin=200, firm_b_admin=404),
    ),
    (
        "POST",
        "/api/v1/deadlines/{deadline_a}/extensions",
        {"until": "2020-01-01T00:00:00Z", "reason": "more time"},
        expect(403, **group(FIRM_A, 422), firm_b_admin=404),
    ),
    (
        "POST",
        "/api/v1/extensions/{extension_a}/decision",
        {"grant": False, "reason": " "},
        expect(403, coordinator=422, agency_admin=422),
    ),
    ("GET", "/api/v1/deadline-policy", None, expect(403, **group(STAFF, 200))),
    (
        "PUT",
        "/api/v1/deadline-policy",
        {"hours": {}, "reason": "matrix"},
        expect(403, agency_admin=422),
    ),
    ("GET", "/api/v1/notifications", None, expect(200)),
    ("POST", "/api/v1/notifications/read", {}, expect(200)),
    ("GET", "/api/v1/webhooks", None, expect(403, firm_a_admin=200, firm_b_admin=200)),
    (
        "POST",
        "/api/v1/webhooks",
        {"url": "ftp://hooks.example/"},
        expect(403, firm_a_admin=422, firm_b_admin=422),
    ),
    (
        "GET",
        "/api/v1/webhooks/{webhook_a}/deliveries",
        None,
        expect(403, firm_a_admin=200, firm_b_admin=404),
    ),
    (
        "DELETE",
        "/api/v1/webhooks/{webhook_a}",
        None,
        expect(403, firm_a_admin=204, firm_b_admin=404),
    ),
    (
        "POST",
        "/api/v1/cases/{case_a}/advisories",
        {"title": "t", "summary": "s", "vulnerabilities": {"nope": {}}},
        expect(403, coordinator=422, agency_admin=422),
    ),
    (
        "GET",
        "/api/v1/advisories/{advisory_a}",
        None,
        expect(403, coordinator=200, agency_admin=200),
    ),
    (
        "POST",
        "/api/v1/advisories/{advisory_a}/revisions",
        {"title": "t", "summary": "s", "change": "c", "vulnerabilities": {"nope": {}}},
        expect(403, coordinator=422, agency_admin=422),
    ),
    (
        "POST",
        "/api/v1/advisories/{advisory_a}/moves",
        {"target": "published"},
        expect(403, coordinator=409, agency_admin=409),
    ),
    (
        "GET",
        "/api/v1/advisories/{advisory_a}/export",
        None,
        expect(403, coordinator=200, agency_admin=200),
    ),
    # Findings: {finding_a} is a draft of sub_a (the firm does not see drafts). Bodies that
    # pass the route's access checks fail the rule after them, so no role changes the state.
    ("GET", "/api/v1/findings", None, expect(200, auditor=403)),
    (
        "POST",
        "/api/v1/findings",
        {"submission_id": "{sub_a}", "title": "t", "severity": "grave"},
        expect(403, firm_b_admin=404, reviewer=422),
    ),
    ("GET", "/api/v1/findings/{finding_a}", None, FINDING_READ),
    ("GET", "/api/v1/findings/{finding_a}/history", None, FINDING_READ),
    (
        "POST",
        "/api/v1/findings/{finding_a}/confirm",
        {"severity": "grave"},
        FINDING_TRIAGE,
    ),
    ("POST", "/api/v1/findings/{finding_a}/false-positive", {"reason": ""}, FINDING_TRIAGE),
    (
        "POST",
        "/api/v1/findings/false-positive",
        {"finding_ids": ["{finding_a}"], "reason": ""},
        FINDING_TRIAGE,
    ),
    (
        "POST",
        "/api/v1/findings/{finding_a}/duplicate",
        {"duplicate_of": "{finding_a}"},
        FINDING_TRIAGE,
    ),
    (
        "POST",
        "/api/v1/findings/{finding_a}/transitions",
        {"target": "notified"},
        expect(403, **group(FIRM_A, 404), firm_b_admin=404, reviewer=409, coordinator=409),
    ),
    (
        "GET",
        "/api/v1/submissions/{sub_a}/fix-diff",
        None,
        expect(200, firm_b_admin=404, auditor=403),
    ),
    (
        "GET",
        "/api/v1/submissions/{sub_a}/review-status",
        None,
        expect(
            403,
            firm_b_admin=404,
            coordinator=200,
            reviewer=200,
            other_reviewer=200,
            agency_admin=200,
        ),
    ),
    (
        "POST",
        "/api/v1/submissions/{sub_a}/signoffs",
        {"decision": "approve"},
        expect(403, firm_b_admin=404, coordinator=409, reviewer=409, other_reviewer=409),
    ),
    ("GET", "/api/v1/signoff-policy", None, expect(403, **group(STAFF, 200))),
    (
        "PUT",
        "/api/v1/signoff-policy",
        {"required_roles": ["auditor"]},
        expect(403, agency_admin=422),
    ),
    ("GET", "/api/v1/metrics/findings", None, expect(403, coordinator=200, agency_admin=200)),
    (
        "POST",
        "/api/v1/findings/{finding_a}/attachments",
        None,
        expect(403, **group(FIRM_A, 404), firm_b_admin=404, reviewer=422),
    ),
    (
        "GET",
        "/api/v1/findings/{finding_a}/attachments/{finding_a}",
        None,
        expect(403, **group(FIRM_A, 404), firm_b_admin=404, reviewer=404),
    ),
]

# Pages answer an anonymous visitor with a redirect to the sign-in page.
PAGES: list[tuple[str, str, dict[str, int]]] = [
    ("GET", "/", expect(303, anonymous=200)),
    ("GET", "/login", expect(303, anonymous=200)),
    ("GET", "/account", expect(200, anonymous=303)),
    ("GET", "/account/mfa", expect(200, anonymous=303)),
    # without a password just accepted there is no code to ask for: back to the sign-in form
    ("GET", "/login/code", expect(303, anonymous=303)),
    ("GET", "/members", expect(200, anonymous=303, auditor=200)),
    ("GET", "/portal", expect(403, **group(FIRM_A, 200), firm_b_admin=200, anonymous=303)),
    (
        "GET",
        "/portal/submissions/new",
        expect(403, **group(FIRM_A, 200), firm_b_admin=200, anonymous=303),
    ),
    (
        "GET",
        "/portal/submissions/{draft_a}",
        expect(403, **group(FIRM_A, 200), firm_b_admin=404, anonymous=303),
    ),
    (
        "GET",
        "/portal/submissions/{draft_a}/dossier",
        expect(403, **group(FIRM_A, 200), firm_b_admin=404, anonymous=303),
    ),
    (
        "GET",
        "/portal/submissions/{draft_a}/dossier/{section_b}",
        expect(403, **group(FIRM_A, 200), firm_b_admin=404, anonymous=303),
    ),
    ("GET", "/review", expect(403, **group(STAFF, 200), auditor=303, anonymous=303)),
    ("GET", "/review/firms", expect(403, **group(STAFF, 200), auditor=200, anonymous=303)),
    ("GET", "/review/submissions/{sub_a}", expect(403, **group(STAFF, 200), anonymous=303)),
    (
        "GET",
        "/review/submissions/{sub_a}/safeguards",
        expect(403, **group(STAFF, 200), anonymous=303),
    ),
    ("GET", "/review/submissions/{sub_a}/probes", expect(403, reviewer=200, anonymous=303)),
    (
        "GET",
        "/review/submissions/{sub_a}/dossier-checks",
        expect(403, reviewer=200, anonymous=303),
    ),
    *[
        (
            "GET",
            f"/review/submissions/{{sub_a}}/{tab}",
            expect(403, **group(STAFF, 200), anonymous=303),
        )
        for tab in ("dossier", "artifacts", "artifacts/live", "scan", "findings", "history")
    ],
    *[
        (
            "GET",
            f"/portal/submissions/{{draft_a}}/{tab}",
            expect(403, **group(FIRM_A, 200), firm_b_admin=404, anonymous=303),
        )
        for tab in ("overview", "artifacts", "artifacts/live", "scan", "findings", "history")
    ],
    ("GET", "/audit", expect(403, auditor=200, agency_admin=200, anonymous=303)),
    ("GET", "/coverage", expect(200, anonymous=200)),
    ("GET", "/reports", expect(200, anonymous=200)),
    ("GET", "/reports/2025Q3", expect(404, anonymous=404)),
    ("GET", "/reports/2025Q3/v1.csv", expect(404, anonymous=404)),
    ("GET", "/advisories", expect(200, anonymous=200)),
    ("GET", "/advisories/NOPE-1", expect(404, anonymous=404)),
    ("GET", "/advisories/NOPE-1/csaf.json", expect(404, anonymous=404)),
    ("GET", "/advisories/NOPE-1/avid.json", expect(404, anonymous=404)),
    ("GET", "/feed.atom", expect(200, anonymous=200)),
    ("GET", "/review/reports", expect(403, coordinator=200, agency_admin=200, anonymous=303)),
    (
        "GET",
        "/review/reports/{sub_a}",
        expect(403, coordinator=404, agency_admin=404, anonymous=303),
    ),
    ("GET", "/audit/export", expect(403, auditor=200, agency_admin=200, anonymous=303)),
    ("GET", "/api/v1/docs", expect(200, anonymous=200)),
    ("GET", "/review/coverage", expect(403, coordinator=200, agency_admin=200, anonymous=303)),
    ("GET", "/review/findings", expect(403, **group(STAFF, 200), anonymous=303)),
    (
        "GET",
        "/review/findings/{finding_a}",
        expect(403, reviewer=200, coordinator=200, agency_admin=200, anonymous=303),
    ),
    ("GET", "/portal/findings", expect(403, **group(FIRM_A, 200), firm_b_admin=200, anonymous=303)),
    (
        "GET",
        "/portal/findings/{finding_a}",
        expect(403, **group(FIRM_A, 404), firm_b_admin=404, anonymous=303),
    ),
    ("GET", "/review/metrics", expect(403, coordinator=200, agency_admin=200, anonymous=303)),
    ("GET", "/cases", expect(200, auditor=403, anonymous=303)),
    (
        "GET",
        "/cases/{case_a}",
        expect(200, firm_b_admin=404, other_reviewer=404, auditor=403, anonymous=303),
    ),
    ("GET", "/notifications", expect(200, anonymous=303)),
]

# Routes whose every role is exercised by a dedicated test (sign-in, invitations, forms).
DEDICATED = {
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/invitations/accept"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/invitations"),
    ("POST", "/invitations/open"),
    ("POST", "/invitations/accept"),
    ("POST", "/account/tokens"),
    ("POST", "/account/tokens/{token_id}/revoke"),
    ("POST", "/portal/enroll"),
    ("POST", "/portal/withdraw"),
    ("POST", "/portal/models"),
    ("POST", "/portal/submissions"),
    ("POST", "/portal/submissions/{submission_id}"),
    # the dossier editor: tests/integration/platform/test_dossier_editor.py
    ("POST", "/portal/submissions/{submission_id}/dossier"),
    ("POST", "/portal/submissions/{submission_id}/dossier/{section}"),
    ("POST", "/review/submissions/{submission_id}/transition"),
    ("POST", "/review/submissions/{submission_id}/assign"),
    ("POST", "/review/submissions/{submission_id}/restricted"),  # tests/security
    ("POST", "/members/invite"),
    ("POST", "/review/firms/{org_id}/state"),
    ("POST", "/review/coverage/link"),
    # Public pages with an id in the path: no route takes an actor, every role gets the same
    # answer (the concrete 404 rows above drive all roles; tests/integration/publishing/
    # test_public_site.py reads the published ones anonymously).
    ("GET", "/api/v1/public/reports/{period}"),
    ("GET", "/api/v1/public/advisories/{tracking_id}"),
    ("GET", "/api/v1/public/advisories/{tracking_id}/csaf"),
    ("GET", "/api/v1/public/advisories/{tracking_id}/avid"),
    ("GET", "/reports/{period}"),
    ("GET", "/reports/{period}/{file}"),
    ("GET", "/advisories/{tracking_id}"),
    ("GET", "/advisories/{tracking_id}/csaf.json"),
    ("GET", "/advisories/{tracking_id}/avid.json"),
    # tests/integration/publishing/test_report_pages.py
    ("POST", "/review/reports"),
    ("POST", "/review/reports/{snapshot_id}/publish"),
    ("POST", "/portal/public-name"),
    # tests/integration/platform/test_people_and_access.py
    ("POST", "/members/invitations/{invitation_id}/renew"),
    ("POST", "/members/invitations/{invitation_id}/revoke"),
    ("POST", "/members/{user_id}/role"),
    ("POST", "/members/{user_id}/deactivate"),
    ("POST", "/account/password"),
    # tests/security/test_totp.py and test_oidc.py
    ("POST", "/login/code"),
    ("POST", "/account/mfa/start"),
    ("POST", "/account/mfa/confirm"),
    ("POST", "/account/mfa/recovery-codes"),
    ("POST", "/login/sso"),
    ("GET", "/login/sso/callback"),
    # tests/integration/findings/test_findings_pages.py
    ("POST", "/review/findings/false-positive"),
    ("POST", "/review/findings/{finding_id}/triage"),
    ("POST", "/review/findings/{finding_id}/move"),
    ("POST", "/portal/findings/{finding_id}/move"),
    ("POST", "/review/submissions/{submission_id}/signoff"),
    # case pages: tests/integration/cases/test_case_pages.py
    ("POST", "/cases/{case_id}/findings/{finding_id}/move"),
    ("POST", "/cases/{case_id}/threads/{thread_id}"),
    ("POST", "/cases/{case_id}/deadlines/{deadline_id}/extension"),
    ("POST", "/cases/{case_id}/extensions/{extension_id}"),
    ("POST", "/cases/{case_id}/embargo"),
    ("POST", "/cases/{case_id}/public"),
    ("POST", "/cases/{case_id}/consent"),
    ("POST", "/cases/{case_id}/advisories"),
    ("POST", "/cases/{case_id}/advisories/{advisory_id}/move"),
    ("POST", "/time-zone"),
    ("POST", "/notifications/read"),
    # probe runs: tests/integration/scanning/test_probe_runs_page.py
    ("POST", "/review/submissions/{submission_id}/probes"),
    ("GET", "/review/probe-runs/{run_id}"),
    ("GET", "/review/probe-runs/{run_id}/progress"),
}
EXTRA_ROUTE_MODULES = (
    "airlock.web.api.v1.artifacts",
    "airlock.web.pages.artifacts",
    "airlock.web.api.v1.scanning",
)


def _normalise(path: str) -> str:
    import re

    return re.sub(r"\{[^}]+\}", "{}", path.split("?")[0])


def _mounted(routes: list[Any], prefix: str = "") -> list[tuple[str, str, str]]:
    """(method, full path, endpoint module) of every mounted route, through included routers
    (FastAPI keeps an included router whole; its routes carry the path without the prefix)."""
    out = []
    for route in routes:
        if isinstance(route, APIRoute):
            out += [(m, prefix + route.path, route.endpoint.__module__) for m in route.methods]
        included = getattr(route, "original_router", None)
        if included is not None:
            out += _mounted(included.routes, prefix + route.include_context.prefix)
    return out


def test_the_matrix_covers_every_route(client) -> None:
    covered = {(m, _normalise(p)) for m, p, _, _ in API} | {(m, _normalise(p)) for m, p, _ in PAGES}
    covered |= {(m, _normalise(p)) for m, p in DEDICATED}
    mounted = _mounted(client.app.routes)
    assert len(mounted) > 60 and ("GET", "/api/v1/findings", "airlock.web.api.v1.findings") in {
        (m, p, mod) for m, p, mod in mounted
    }
    missing = []
    for method, path, module in mounted:
        if module in EXTRA_ROUTE_MODULES or method == "HEAD":
            continue  # later stages carry their own access tests
        if (method, _normalise(path)) not in covered:
            missing.append(f"{method} {path}")
    assert not missing, f"routes without an access test: {missing}"


def _fill(value: Any, **values: str) -> Any:
    if isinstance(value, str):
        return value.format(**values)
    if isinstance(value, list):
        return [_fill(v, **values) for v in value]
    return value


def _draft_finding(container, prog) -> str:
    from airlock.findings.models import Finding

    with container.uow() as uow:
        f = Finding(
            submission_id=prog.ids["sub_a"],
            org_id=prog.ids["org_a"],
            fingerprint="f" * 32,
            check_name="artifact-safety",
            rule_id="R",
            title="t",
            reported_severity="high",
            reported_verdict="block",
            state="draft",
        )
        uow.session.add(f)
        uow.commit()
        return f.id


def test_every_role_gets_the_expected_answer_everywhere(client, container) -> None:
    prog = make_program(container)
    tokens = {r: token_for(container, prog.actors[r]) for r in ROLES if r != "anonymous"}
    foreign = token_for(container, prog.actors["firm_b_member"])
    with container.uow() as uow:
        from sqlalchemy import select

        from airlock.accounts.models import ApiToken
        from airlock.core.secrets import token_hash

        foreign_id = uow.session.scalars(
            select(ApiToken.id).where(ApiToken.token_hash == token_hash(foreign))
        ).one()
    values = {
        "sub_a": prog.ids["sub_a"],
        "draft_a": prog.ids["draft_a"],
        "section_b": "B",
        "org_a": prog.ids["org_a"],
        "model_a": prog.ids["model_a"],
        "foreign_token": foreign_id,
        "firm_user": prog.actors["firm_a_member"].user_id,
        "finding_a": _draft_finding(container, prog),
        **case_values(container, prog),
    }
    failures = []
    for role in ROLES:
        headers = {"Authorization": f"Bearer {tokens[role]}"} if role in tokens else {}
        for method, template, body, expected in API:
            path = template.format(**values)
            payload = None
            if body is not None:
                payload = {k: _fill(v, role=role, **values) for k, v in body.items()}
            r = client.request(method, path, json=payload, headers=headers)
            if r.status_code != expected[role]:
                failures.append(
                    f"{role:15} {method} {template}: {r.status_code} "
                    f"(expected {expected[role]}) {r.text[:120]}"
                )
            assert r.status_code < 500
        for method, template, expected in PAGES:
            page_headers = {**headers, "Accept": "text/html"}
            r = client.request(
                method, template.format(**values), headers=page_headers, follow_redirects=False
            )
            if r.status_code != expected[role]:
                failures.append(
                    f"{role:15} page {template}: {r.status_code} (expected {expected[role]})"
                )
    assert not failures, "\n".join(failures)


def case_values(container, prog) -> dict[str, str]:
    """A case of sub_a with a notified finding, a deadline with a pending extension, a draft
    advisory and firm A's webhook endpoint."""
    from datetime import timedelta

    from airlock.cases import deadlines, webhooks
    from airlock.cases import service as cases
    from airlock.cases.rules import Phase
    from airlock.publishing import advisories
    from tests.factories.cases import open_case_with_findings

    ids = open_case_with_findings(container, prog)
    coord, firm = prog.actors["coordinator"], prog.actors["firm_a_admin"]
    with container.uow() as uow:
        case = cases.get_case(uow, actor=coord, case_id=ids.case_id)
        thread = cases.threads(uow, actor=coord, case=case)[0]
        row = deadlines.start_phase(
            uow, case=case, finding_id=ids.findings[0], severity="critical", phase=Phase.ACKNOWLEDGE
        )
        ext = deadlines.request_extension(
            uow, actor=firm, deadline_id=row.id, until=row.due_at + timedelta(days=1), reason="r"
        )
        adv = advisories.draft(uow, actor=coord, case_id=case.id, title="t", summary="s")
        hook = webhooks.add_endpoint(uow, actor=firm, url="https://hooks.firm-a.example/airlock")
        uow.commit()
        return {
            "case_a": case.id,
            "thread_a": thread.id,
            "deadline_a": row.id,
            "extension_a": ext.id,
            "advisory_a": adv.id,
            "webhook_a": hook.endpoint.id,
        }


def test_confidential_dossier_only_for_the_firm_and_assigned_reviewers(client, container) -> None:
    prog = make_program(container)
    seen = {}
    for role in [
        "firm_a_admin",
        "firm_a_member",
        "coordinator",
        "reviewer",
        "other_reviewer",
        "agency_admin",
    ]:
        tok = token_for(container, prog.actors[role])
        r = client.get(
            f"/api/v1/submissions/{prog.ids['sub_a']}/dossier",
            headers={"Authorization": f"Bearer {tok}"},
        )
        assert r.status_code == 200
        seen[role] = r.json()
    assert seen["reviewer"]["confidential"] and seen["firm_a_admin"]["confidential"]
    for role in ("coordinator", "other_reviewer", "agency_admin"):
        assert not seen[role]["confidential"]
        # no value whose disclosure is reviewer or restricted leaks into the redacted view
        full = seen["reviewer"]["dossier"]
        secret = _confidential_values(full) - _public_values(full)
        assert secret, "the example dossier should hold confidential values"
        leaked = secret & _all_values(seen[role]["dossier"])
        assert not leaked, f"{role} saw confidential values {sorted(leaked)[:3]}"
    with container.uow() as uow:
        from sqlalchemy import select

        from airlock.core.audit import AuditEvent

        reads = uow.session.scalars(
            select(AuditEvent.actor_user_id).where(AuditEvent.action == "dossier.read_confidential")
        ).all()
    assert prog.actors["reviewer"].user_id in reads
    assert prog.actors["other_reviewer"].user_id not in reads


def _confidential_values(node: Any) -> set[str]:
    out: set[str] = set()
    if isinstance(node, dict):
        if node.get("disclosure") in ("reviewer", "restricted") and "value" in node:
            v = node["value"]
            if isinstance(v, str) and len(v) > 6:
                out.add(v)
        for child in node.values():
            out |= _confidential_values(child)
    elif isinstance(node, list):
        for child in node:
            out |= _confidential_values(child)
    return out


def _public_values(node: Any) -> set[str]:
    out: set[str] = set()
    if isinstance(node, dict):
        if node.get("disclosure") == "public":
            out |= _all_values(node.get("value"))
        for child in node.values():
            out |= _public_values(child)
    elif isinstance(node, list):
        for child in node:
            out |= _public_values(child)
    return out


def _all_values(node: Any) -> set[str]:
    out: set[str] = set()
    if isinstance(node, dict):
        for child in node.values():
            out |= _all_values(child)
    elif isinstance(node, list):
        for child in node:
            out |= _all_values(child)
    elif isinstance(node, str):
        out.add(node)
    return out
