"""the built-in consent texts, version 1 (Swedish and English)

Seeded here so that a fresh database has the text a family is shown before anyone records consent, and
no page ever has to create it while it is being read (no GET changes state).

Revision ID: 0003_consent_texts
Revises: 0002_pending_links
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import coordination.model_base
from coordination.consent.common import CONSENT_TEXT_VERSION
from coordination.consent.texts import DEFAULT_CONSENT_TEXTS

revision: str = "0003_consent_texts"
down_revision: str | None = "0002_pending_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

consent_text = sa.table(
    "consent_text",
    sa.column("version", sa.Integer),
    sa.column("language", sa.String),
    sa.column("body", sa.Text),
    sa.column("created_at", coordination.model_base.UTCDateTime()),
)


def upgrade() -> None:
    moment = datetime.now(UTC)
    op.bulk_insert(
        consent_text,
        [
            {"version": CONSENT_TEXT_VERSION, "language": language, "body": body, "created_at": moment}
            for language, body in DEFAULT_CONSENT_TEXTS.items()
        ],
    )


def downgrade() -> None:
    op.execute(consent_text.delete().where(consent_text.c.version == CONSENT_TEXT_VERSION))
