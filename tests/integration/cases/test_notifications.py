"""Notifications: email through a real SMTP server on loopback, in-app with an unread count,
and Standard Webhooks signed, verified by the reference library, retried with backoff."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from airlock.bootstrap import build
from airlock.cases import coordination, notify, webhooks
from airlock.cases.models import WebhookAttempt, WebhookDelivery
from airlock.core.db import utcnow
from airlock.core.errors import InvalidInput
from airlock.core.jobs import Job, run_job
from airlock.settings import Settings
from tests.conftest import make_settings
from tests.factories.cases import make_finding
from tests.factories.program import make_program
from tests.support.receivers import smtp_server, webhook_receiver


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


@pytest.fixture
def wired(db_url: str, tmp_path: Path, smtp):
    port, _ = smtp
    settings = make_settings(
        db_url,
        tmp_path / "data",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        mail_from="airlock@agency.test",
        webhook_retry_seconds=0.2,
    )
    c = build(settings)
    yield c
    c.close()


def _finding(container, prog) -> str:
    with container.uow() as uow:
        row = make_finding(
            uow,
            submission_id=prog.ids["sub_a"],
            org_id=prog.ids["org_a"],
            severity="critical",
            title="Pickle opcode GLOBAL os.system in weights.bin",
        )
        uow.commit()
        return row.id


def _run_queued(container, name: str) -> list[str]:
    """Run every due queued job of this name once, as a worker would."""
    with container.uow() as uow:
        ids = list(
            uow.session.scalars(
                select(Job.id).where(
                    Job.name == name, Job.state == "queued", Job.run_at <= utcnow()
                )
            )
        )
    return [run_job(container.uow, job_id) for job_id in ids]


def test_notifying_a_finding_emails_the_firm_through_smtp_naming_only_the_case(wired, smtp):
    _, inbox = smtp
    prog = make_program(wired)
    with wired.uow() as uow:
        row = coordination.finding_notified(
            uow,
            submission_id=prog.ids["sub_a"],
            finding_id=_finding(wired, prog),
            severity="critical",
            title="Pickle opcode GLOBAL os.system in weights.bin",
            by_user_id=prog.actors["coordinator"].user_id,
        )
        uow.commit()
        case_id = row.case_id
    assert _run_queued(wired, notify.MAIL_JOB) == ["done"]
    assert len(inbox.messages) == 1
    sender, rcpts, mail = inbox.messages[0]
    assert sender == "airlock@agency.test" and rcpts == ["admin@firm-a.test"]
    assert mail["Subject"].startswith("[Airlock] Case AIR-")
    text = mail.get_content()
    # the finding's title is confidential: neither subject nor body carries it
    assert "os.system" not in mail["Subject"] and "os.system" not in text
    assert f"/cases/{case_id}" in text
    firm = prog.actors["firm_a_admin"]
    with wired.uow() as uow:
        assert notify.unread_count(uow, user_id=firm.user_id) == 1
        assert notify.mark_read(uow, actor=firm) == 1
        uow.commit()
    with wired.uow() as uow:
        assert notify.unread_count(uow, user_id=firm.user_id) == 0


def test_a_notification_of_another_user_cannot_be_marked_read(wired):
    prog = make_program(wired)
    with wired.uow() as uow:
        rows = notify.notify(
            uow,
            user_ids=[prog.actors["firm_a_admin"].user_id],
            kind="x",
            text="Case X",
            email=False,
        )
        uow.commit()
    with wired.uow() as uow, pytest.raises(Exception, match="no such notification"):
        notify.mark_read(uow, actor=prog.actors["firm_b_admin"], notification_id=rows[0].id)


def test_a_signed_webhook_arrives_and_verifies_and_a_failure_is_retried_with_backoff(wired):
    prog = make_program(wired)
    admin = prog.actors["firm_a_admin"]
    with webhook_receiver() as receiver:
        receiver.statuses = [500, 200]
        with wired.uow() as uow:
            created = webhooks.add_endpoint(uow, actor=admin, url=receiver.url)
            uow.commit()
        receiver.secret = created.secret
        assert created.secret.startswith("whsec_")
        with wired.uow() as uow:
            coordination.finding_notified(
                uow,
                submission_id=prog.ids["sub_a"],
                finding_id=_finding(wired, prog),
                severity="high",
                title="t",
                by_user_id=prog.actors["coordinator"].user_id,
            )
            uow.commit()
        assert _run_queued(wired, webhooks.DELIVER_JOB) == ["done"]
        # the first answer was 500: the next attempt is a delayed job, not yet due
        with wired.uow() as uow:
            delivery = uow.session.scalars(select(WebhookDelivery)).one()
            assert (delivery.state, delivery.attempts) == ("pending", 1)
            retry = uow.session.scalars(
                select(Job).where(Job.name == webhooks.DELIVER_JOB, Job.state == "queued")
            ).one()
            assert retry.run_at > utcnow() - timedelta(seconds=0.1)
        time.sleep(0.3)
        assert _run_queued(wired, webhooks.DELIVER_JOB) == ["done"]
    assert [r.verified for r in receiver.received] == [True, True]
    first = receiver.received[0]
    assert first.headers["webhook-id"] == receiver.received[1].headers["webhook-id"]
    assert first.payload["type"] == "finding.notified"
    assert first.payload["data"]["case"].startswith("AIR-")
    with wired.uow() as uow:
        delivery = uow.session.scalars(select(WebhookDelivery)).one()
        assert (delivery.state, delivery.attempts) == ("delivered", 2)
        log = list(uow.session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.number)))
        assert [(a.number, a.status_code) for a in log] == [(1, 500), (2, 200)]
        assert "500" in log[0].error
        shown = webhooks.deliveries(uow, actor=admin, endpoint_id=delivery.endpoint_id)
        assert len(shown) == 1 and len(shown[0][1]) == 2


def test_a_tampered_signature_fails_verification_at_the_receiver():
    body = '{"type":"x"}'
    secret = webhooks.new_secret()
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    ts = int(time.time())
    good = {
        "webhook-id": "m1",
        "webhook-timestamp": str(ts),
        "webhook-signature": webhooks.sign(secret, msg_id="m1", timestamp=ts, body=body),
    }
    assert Webhook(secret).verify(body, good) == {"type": "x"}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("x", "y"), good)


def test_backoff_doubles_and_is_capped():
    delays = [webhooks.retry_delay(n, base_seconds=30).total_seconds() for n in (1, 2, 3, 4)]
    assert delays == [30, 60, 120, 240]
    assert webhooks.retry_delay(30, base_seconds=30) == timedelta(days=1)


@pytest.mark.parametrize(
    ("url", "dev", "fragment"),
    [
        ("ftp://example.org/hook", True, "scheme 'ftp'"),
        ("javascript:alert(1)", True, "scheme 'javascript'"),
        ("http://example.org/hook", False, "must use https"),
        ("https://127.0.0.1/hook", False, "internal address (127.0.0.1)"),
        ("https://10.1.2.3/hook", False, "internal address"),
        ("https://[::1]/hook", False, "internal address"),
        ("https://169.254.169.254/latest", False, "internal address"),
        ("https://airlock.agency.test/api", False, "points at this server"),
        ("https://airlock.agency.test/api", True, "points at this server"),
        ("https://user:pw@example.org/", False, "user name or password"),
        ("https:///nohost", False, "no host name"),
    ],
)
def test_webhook_urls_that_are_not_https_or_point_inside_are_refused(url, dev, fragment):
    settings = Settings(dev=dev, base_url="https://airlock.agency.test", secret_key="x" * 40)
    with pytest.raises(
        InvalidInput,
        match="url: .*" + fragment.replace("(", r"\(").replace(")", r"\)").replace("[", r"\["),
    ):
        webhooks.check_webhook_url(url, settings=settings, resolve=lambda host: ["93.184.216.34"])


def test_a_public_https_url_is_accepted_and_a_host_resolving_inside_is_refused():
    settings = Settings(dev=False, base_url="https://airlock.agency.test", secret_key="x" * 40)
    ok = webhooks.check_webhook_url(
        "https://hooks.firm.example/airlock", settings=settings, resolve=lambda h: ["93.184.216.34"]
    )
    assert ok == "https://hooks.firm.example/airlock"
    with pytest.raises(InvalidInput, match="resolves to an internal address"):
        webhooks.check_webhook_url(
            "https://rebind.example/", settings=settings, resolve=lambda h: ["192.168.1.5"]
        )


def test_a_refused_endpoint_writes_nothing(wired):
    prog = make_program(wired)
    with wired.uow() as uow, pytest.raises(InvalidInput):
        webhooks.add_endpoint(uow, actor=prog.actors["firm_a_admin"], url="gopher://x/")
    with wired.uow() as uow:
        from airlock.cases.models import WebhookEndpoint

        assert uow.session.scalars(select(WebhookEndpoint)).all() == []
