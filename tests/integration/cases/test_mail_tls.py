"""The SMTP adapter over STARTTLS and implicit TLS with credentials, against a real aiosmtpd
server on loopback with a certificate made for the test; an untrusted certificate is an
error, and nothing more is delivered."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from airlock.adapters.mail_smtp import SmtpMailer
from airlock.core.ports import MailMessage
from tests.support.receivers import Inbox, free_port

USER, PASSWORD = "airlock", "relay-password"


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok)


@pytest.fixture
def certs(tmp_path: Path) -> tuple[Path, Path]:
    return _certificate(tmp_path)


def _mailer(port: int, security: str, cert: Path, password: str = PASSWORD) -> SmtpMailer:
    return SmtpMailer(
        host="127.0.0.1",
        port=port,
        security=security,
        sender="airlock@agency.test",
        username=USER,
        password=password,
        timeout=10,
        tls_context=ssl.create_default_context(cafile=str(cert)),
    )


MESSAGE = MailMessage(
    to=("admin@firm-a.test",), subject="[Airlock] Case AIR-2026-0001", body="hello\n"
)


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_mail_goes_over_tls_with_credentials(certs, security):
    cert, key = certs
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(str(cert), str(key))
    inbox, port = Inbox(), free_port()
    kwargs = (
        dict(tls_context=server_ctx, require_starttls=True)
        if security == "starttls"
        else dict(ssl_context=server_ctx)
    )
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticator,
        auth_require_tls=security == "starttls",  # implicit TLS: the whole session is encrypted
        **kwargs,
    )
    controller.start()
    try:
        _mailer(port, security, cert).send(MESSAGE)
        untrusted = SmtpMailer(
            host="127.0.0.1",
            port=port,
            security=security,
            sender="a@b.test",
            username=USER,
            password=PASSWORD,
            timeout=10,
        )
        with pytest.raises(ssl.SSLCertVerificationError):
            untrusted.send(MESSAGE)
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    assert inbox.messages[0][2]["Subject"] == "[Airlock] Case AIR-2026-0001"


def test_an_unknown_security_mode_is_refused():
    with pytest.raises(ValueError, match="starttls, tls or none"):
        SmtpMailer(host="h", port=25, security="ssl3", sender="a@b.test")


def test_the_mailer_never_shows_its_password():
    assert PASSWORD not in repr(
        SmtpMailer(
            host="h", port=25, security="tls", sender="a@b.test", username=USER, password=PASSWORD
        )
    )
