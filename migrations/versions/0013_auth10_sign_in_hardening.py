"""sign-in hardening: throttle state instead of a lockout, TOTP factors and recovery codes,
second-factor challenges, OpenID Connect sign-ins under way, token scopes and expiry

Revision ID: 0010_auth10_sign_in
Revises: 0010_editor11_drafts_form_keys
Create Date: 2026-12-01 17:30:00
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

import airlock.core.db
from alembic import op

revision = "0010_auth10_sign_in"
down_revision = "0010_editor11_drafts_form_keys"
branch_labels = None
depends_on = None

WHEN = airlock.core.db.UTCDateTime(timezone=True)
DEFAULT_DAYS = 90


def upgrade() -> None:
    op.create_table(
        "auth_throttle",
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", WHEN, nullable=True),
        sa.Column("blocked_until", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_auth_throttle")),
    )
    op.create_table(
        "mfa_factors",
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("confirmed_at", WHEN, nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mfa_factors_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_mfa_factors")),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("used_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_recovery_codes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_recovery_codes_code_hash")),
    )
    op.create_index(op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"])
    op.create_table(
        "login_challenges",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_login_challenges_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_challenges")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_challenges_token_hash")),
    )
    op.create_index(op.f("ix_login_challenges_user_id"), "login_challenges", ["user_id"])
    op.create_table(
        "sso_logins",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("state_hash", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(128), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("next_path", sa.String(500), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("used_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_logins")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_sso_logins_state_hash")),
    )
    with op.batch_alter_table("web_sessions") as batch:
        batch.add_column(
            sa.Column("auth_method", sa.String(16), nullable=False, server_default="password")
        )
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(
            sa.Column(
                "scopes", sa.String(64), nullable=False, server_default="read submit review"
            )
        )
    # The defaults were only for the rows already there; new rows get theirs from the code.
    with op.batch_alter_table("web_sessions") as batch:
        batch.alter_column("auth_method", server_default=None)
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("scopes", server_default=None)
    # Tokens made before expiry existed now expire like new ones would.
    tokens = sa.table(
        "api_tokens", sa.column("expires_at", WHEN), sa.column("revoked_at", WHEN)
    )
    op.execute(
        tokens.update()
        .where(tokens.c.expires_at.is_(None), tokens.c.revoked_at.is_(None))
        .values(expires_at=airlock.core.db.utcnow() + timedelta(days=DEFAULT_DAYS))
    )
    # The lockout's per-email failure log is replaced by auth_throttle.
    with op.batch_alter_table("login_attempts") as batch:
        batch.drop_index("ix_login_attempts_email_at")
    op.drop_table("login_attempts")


def downgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    with op.batch_alter_table("login_attempts") as batch:
        batch.create_index("ix_login_attempts_email_at", ["email", "at"], unique=False)
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("scopes")
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("auth_method")
    op.drop_table("sso_logins")
    op.drop_index(op.f("ix_login_challenges_user_id"), table_name="login_challenges")
    op.drop_table("login_challenges")
    op.drop_index(op.f("ix_recovery_codes_user_id"), table_name="recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_table("mfa_factors")
