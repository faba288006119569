"""Email through an SMTP relay: host, port, TLS or STARTTLS and credentials from settings."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from airlock.core.ports import Mailer, MailMessage
from airlock.settings import Settings

log = logging.getLogger(__name__)


class SmtpMailer:
    """Opens one connection per message: notifications are rare and a relay may drop idle ones."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: str,
        sender: str,
        username: str = "",
        password: str = "",
        timeout: float = 20.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in {"starttls", "tls", "none"}:
            raise ValueError(f"AIRLOCK_SMTP_SECURITY: use starttls, tls or none (got {security!r})")
        self.host, self.port, self.security = host, port, security
        self.sender, self.timeout = sender, timeout
        self._username, self._password = username, password
        self._tls = tls_context or ssl.create_default_context()

    def __repr__(self) -> str:  # never show the password
        return f"SmtpMailer({self.host}:{self.port}, {self.security})"

    def _connect(self) -> smtplib.SMTP:
        if self.security == "tls":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._tls)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            smtp.starttls(context=self._tls)
        return smtp

    def send(self, message: MailMessage) -> None:
        """Deliver the message; raises smtplib errors for the caller's retry."""
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = ", ".join(message.to)
        mail["Subject"] = message.subject
        mail["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        mail.set_content(message.body)
        with self._connect() as smtp:
            if self._username:
                smtp.login(self._username, self._password)
            smtp.send_message(mail)


class DisabledMailer:
    """No relay configured (development): says once that mail is not sent, sends nothing."""

    def __init__(self) -> None:
        self._warned = False

    def send(self, message: MailMessage) -> None:
        """Drop the message; the in-app notification still reaches the user."""
        if not self._warned:
            log.warning("AIRLOCK_SMTP_HOST is not set: email notifications are not sent")
            self._warned = True


def mailer_from_settings(settings: Settings) -> Mailer:
    """An SMTP mailer when AIRLOCK_SMTP_HOST is set, else one that sends nothing."""
    if not settings.smtp_host:
        return DisabledMailer()
    return SmtpMailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        sender=settings.mail_from,
        username=settings.smtp_username,
        password=settings.smtp_password,
        timeout=settings.smtp_timeout_seconds,
    )
