"""Settings from the environment (AIRLOCK_*); outside development a missing secret stops start."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-insecure-secret-change-me"  # noqa: S105 - refused outside dev


class SettingsError(Exception):
    """The configuration cannot be used as it is; the message says which setting and why."""


class Settings(BaseSettings):
    """Every tunable of Airlock, read from AIRLOCK_* variables."""

    model_config = SettingsConfigDict(env_prefix="AIRLOCK_", extra="ignore")

    dev: bool = False
    data_dir: Path = Path("var")
    database_url: str = ""
    storage_url: str = ""
    queue_url: str = "inprocess://"
    # The broker queue Celery jobs go through; separate installations on one broker differ here.
    queue_name: str = Field(default="airlock", pattern=r"^[A-Za-z0-9_.:-]{1,200}$")
    secret_key: str = ""
    master_key: str = ""
    # Where organisation keys live: file:///folder (default <data dir>/keys) or kms://prefix.
    keystore_url: str = ""
    # How often a signed checkpoint of the audit chain is written (when rows were appended).
    audit_checkpoint_seconds: int = Field(default=600, ge=1, le=86400)
    base_url: str = "http://127.0.0.1:8000"
    # The agency running this installation, named in every page's banner and footer.
    agency_name: str = Field(default="", max_length=200)
    cookie_secure: bool = True
    session_hours: int = 12
    invitation_days: int = 7
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    max_dossier_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Sign-in throttling (see accounts/rules.py): failures allowed before delays start, per
    # (account, address) and per address alone; the first delay, doubling up to the ceilings;
    # failures older than login_forget_seconds are forgotten.
    login_free_failures_account: int = Field(default=3, ge=1, le=100)
    login_free_failures_address: int = Field(default=20, ge=1, le=10_000)
    login_delay_seconds: float = Field(default=1.0, gt=0, le=3600)
    login_max_delay_account_seconds: int = Field(default=900, ge=1)
    login_max_delay_address_seconds: int = Field(default=3600, ge=1)
    login_forget_seconds: int = Field(default=24 * 3600, ge=60)
    # API tokens expire after this many days unless their creator asks for fewer.
    api_token_days: int = Field(default=90, ge=1, le=366)
    # TOTP second factor: agency roles must enrol before using Airlock (on by default outside
    # development; set explicitly to override).
    mfa_required_for_agency: bool | None = None
    # Single sign-on for agency staff through OpenID Connect: the provider's issuer URL (its
    # discovery document is at <issuer>/.well-known/openid-configuration), this client's id
    # and secret, and the email domains whose verified addresses may sign in (comma-separated;
    # empty: any domain, still only existing agency accounts).
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_email_domains: str = ""
    oidc_label: str = Field(default="Sign in with your agency account", max_length=120)
    inprocess_workers: int = 2
    job_lease_seconds: int = 300
    job_modules: str = ""
    # How often the scheduler looks for periodic tasks and delayed jobs that fell due.
    scheduler_tick_seconds: float = Field(default=1.0, gt=0, le=60)
    # A queued job whose message went out this long ago without a worker taking it is resent.
    job_redispatch_seconds: int = Field(default=3600, ge=1)
    max_artifact_bytes: int = 64 * 1024**3
    max_submission_bytes: int = 256 * 1024**3
    upload_chunk_bytes: int = 8 * 1024 * 1024
    upload_session_hours: int = 48
    # Bounds of the artifact safety scanner on one artifact (the file itself is bounded by
    # max_artifact_bytes): seconds, archive nesting, members, expanded bytes, results.
    scan_time_seconds: float = Field(default=120.0, gt=0)
    scan_max_depth: int = Field(default=6, ge=1, le=64)
    scan_max_members: int = Field(default=20_000, ge=1)
    scan_max_expanded_bytes: int = Field(default=8 * 1024**3, ge=1)
    scan_max_member_bytes: int = Field(default=2 * 1024**3, ge=1)
    scan_max_ratio: int = Field(default=200, ge=1)
    scan_max_results: int = Field(default=200, ge=1)
    # Published counts below this are withheld (small-cell suppression on the public site).
    public_min_cell: int = Field(default=5, ge=1, le=1000)
    # Outgoing mail. No host: mail is not sent (development), and a warning says so once.
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    # "starttls" upgrades a plain connection, "tls" connects over TLS, "none" only on loopback.
    smtp_security: str = Field(default="starttls", pattern=r"^(starttls|tls|none)$")
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    mail_from: str = "airlock@localhost"
    # Webhook deliveries: attempts, the first retry's delay (doubling each time), the timeout.
    webhook_max_attempts: int = Field(default=8, ge=1, le=30)
    webhook_retry_seconds: float = Field(default=30.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'airlock.db').resolve()}"

    def resolved_storage_url(self) -> str:
        """The storage URL, defaulting to a blobs folder in the data folder."""
        if self.storage_url:
            return self.storage_url
        return f"file://{(self.data_dir / 'blobs').resolve()}"

    def resolved_keystore_url(self) -> str:
        """The key store URL, defaulting to a private keys folder in the data folder."""
        if self.keystore_url:
            return self.keystore_url
        return f"file://{(self.data_dir / 'keys').resolve()}"

    def mfa_required(self) -> bool:
        """Whether agency roles must enrol a second factor."""
        if self.mfa_required_for_agency is None:
            return not self.dev
        return self.mfa_required_for_agency

    def oidc_enabled(self) -> bool:
        """Whether single sign-on is configured."""
        return bool(self.oidc_issuer and self.oidc_client_id)

    def effective_secret_key(self) -> str:
        """The signing secret; refuses a missing or default one outside development."""
        if self.secret_key and self.secret_key != DEV_SECRET:
            if len(self.secret_key) < 32:
                raise SettingsError("AIRLOCK_SECRET_KEY must be at least 32 characters long")
            return self.secret_key
        if self.dev:
            return self.secret_key or DEV_SECRET
        raise SettingsError(
            "AIRLOCK_SECRET_KEY is missing or left at its default; set a random value of at "
            "least 32 characters (or AIRLOCK_DEV=1 for a development server)"
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
